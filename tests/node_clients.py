"""The real JavaScript clients (tests/node/package.json), installed on first use and run with Node."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"


def installed() -> str:
    """The path of `node`, once the pinned packages are in tests/node/node_modules."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Node.js and npm are missing: .ci/run installs them")
        pytest.skip("Node.js and npm are needed for the JavaScript client tests (.ci/run installs them)")
    lock = NODE_DIR / "package-lock.json"
    stamp = NODE_DIR / "node_modules" / ".package-lock.json"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True, timeout=600
        )
    return node


def bundle(entry: str) -> Path:
    """`tests/node/ENTRY` bundled for a browser by esbuild, as `tests/node/build/NAME.js`."""
    installed()
    out = NODE_DIR / "build" / f"{Path(entry).stem}.js"
    command = [
        str(NODE_DIR / "node_modules" / ".bin" / "esbuild"),
        entry,
        "--bundle",
        "--format=esm",
        "--log-level=warning",
        f"--outfile={out}",
    ]
    done = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return out


def node_script(script: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    """Run `tests/node/SCRIPT ARGS...` and return the one JSON line it prints."""
    node = installed()
    done = subprocess.run([node, script, *args], cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
