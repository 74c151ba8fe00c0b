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


def node_script(script: str, *args: str, timeout: float = 60) -> dict[str, Any]:
    """Run `tests/node/SCRIPT ARGS...` and return the one JSON line it prints."""
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
    done = subprocess.run([node, script, *args], cwd=NODE_DIR, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
