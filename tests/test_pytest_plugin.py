"""The pytest plugin as a user's suite meets it: installed with the package, configured by ini key
or option, one server for the session, a reset before each test that uses it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.test_control import INLINE_TEAM

USER_TESTS = """
import urllib.request


def post(url, message):
    request = urllib.request.Request(url + "/teams/inline-team/runs", data=f"message={message}&stream=false".encode())
    with urllib.request.urlopen(request) as response:
        return response.status


def test_first(agentos_mock):
    assert post(agentos_mock.url, "one") == 200
    assert [e["message"] for e in agentos_mock.requests()] == ["one"]
    agentos_mock.use_scenario("inline-team", "second")


def test_second_starts_from_a_reset_mock(agentos_mock):
    assert agentos_mock.requests() == []
    assert post(agentos_mock.url, "two") == 200
    assert agentos_mock.requests()[0]["scenario"] == "first", "the override of the test before is gone"
    assert [t["id"] for t in agentos_mock.status()["teams"]] == ["inline-team"]


def test_without_the_fixture():
    pass
"""


def run_suite(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_user_suite_gets_one_server_reset_between_tests(tmp_path: Path) -> None:
    (tmp_path / "mock-scenarios").mkdir()
    (tmp_path / "mock-scenarios" / "inline.yaml").write_text(INLINE_TEAM)
    (tmp_path / "pytest.ini").write_text("[pytest]\nagentos_mock_scenarios = mock-scenarios\n")
    (tmp_path / "test_ui.py").write_text(USER_TESTS)
    result = run_suite(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_the_option_names_the_folder_instead_of_the_ini_key(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "inline.yaml").write_text(INLINE_TEAM)
    (tmp_path / "test_ui.py").write_text(USER_TESTS)
    result = run_suite(tmp_path, f"--agentos-mock-scenarios={tmp_path / 'elsewhere'}")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
