"""Every `mockserver serve` option has an environment variable, and `--help` shows both."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

import pytest

from mockserver import cli
from mockserver.cli import build_parser, main, read_environment, settings_from
from tests.conftest import SHIPPED


def serve_parser() -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["serve"]


def test_every_serve_option_names_its_environment_variable_in_help() -> None:
    parser = serve_parser()
    for action in parser._actions:
        flags = [f for f in action.option_strings if f.startswith("--")]
        if not flags or flags[0] == "--help" or flags[0].startswith("--no-"):
            continue
        env = "MOCKSERVER_" + flags[0][2:].replace("-", "_").upper()
        assert env in (action.help or ""), f"{flags[0]} does not name {env}"
    help_text = " ".join(parser.format_help().split())
    for shown in (
        "--reload",
        "--no-reload",
        "MOCKSERVER_RELOAD=true|false",
        "--log-format",
        "MOCKSERVER_LOG_FORMAT",
        "MOCKSERVER_RELOAD_INTERVAL",
    ):
        assert shown in help_text


def settings(argv: list[str]) -> object:
    return settings_from(build_parser().parse_args(["serve", *argv]))


def test_defaults_reload_on_text_logs() -> None:
    chosen = settings([])
    assert (chosen.reload, chosen.reload_interval, chosen.log_format, chosen.access_log) == (True, 0.5, "text", True)  # type: ignore[attr-defined]


def test_variables_set_the_new_options_and_flags_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_RELOAD", "false")
    monkeypatch.setenv("MOCKSERVER_RELOAD_INTERVAL", "2")
    monkeypatch.setenv("MOCKSERVER_LOG_FORMAT", "json")
    monkeypatch.setenv("MOCKSERVER_ACCESS_LOG", "off")
    chosen = settings([])
    assert (chosen.reload, chosen.reload_interval, chosen.log_format, chosen.access_log) == (False, 2.0, "json", False)  # type: ignore[attr-defined]
    chosen = settings(["--reload", "--log-format", "text", "--reload-interval", "0.1"])
    assert (chosen.reload, chosen.reload_interval, chosen.log_format) == (True, 0.1, "text")  # type: ignore[attr-defined]
    assert settings(["--no-reload"]).reload is False  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "MOCKSERVER_RELOAD",
            "maybe",
            "MOCKSERVER_RELOAD='maybe': expected one of 1, true, yes, on, 0, false, no, off",
        ),
        ("MOCKSERVER_LOG_FORMAT", "xml", "MOCKSERVER_LOG_FORMAT='xml': expected text or json"),
        ("MOCKSERVER_RELOAD_INTERVAL", "0", "MOCKSERVER_RELOAD_INTERVAL='0': expected a number of seconds > 0"),
    ],
)
def test_a_bad_variable_says_which_and_what_is_expected(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    monkeypatch.setattr(cli, "serve", lambda settings: pytest.fail("served despite a bad variable"))
    build_parser()  # building the parser reads no variable
    assert main(["serve"]) == 2
    assert f"mockserver serve: error: {expected}" in capsys.readouterr().err


def test_a_bad_flag_says_what_is_expected(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        settings(["--log-format", "xml"])
    assert "'xml': expected text or json" in capsys.readouterr().err


def mockserver(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockserver", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
    )


@pytest.mark.parametrize("command", [[], ["serve"]])
def test_help_reads_no_variable(command: list[str]) -> None:
    result = mockserver(*command, "--help", MOCKSERVER_PORT="abc", MOCKSERVER_RELOAD="maybe")
    assert result.returncode == 0 and result.stderr == ""
    assert "usage: mockserver" in result.stdout
    if command:  # each option shows its variable and its own default, not the variable's value
        text = " ".join(result.stdout.split())
        assert "[env: MOCKSERVER_PORT] (default: 7777)" in text and "abc" not in text
        assert "[env: MOCKSERVER_RELOAD=true|false] (default: on)" in text


def test_a_command_that_does_not_use_a_bad_variable_works() -> None:
    result = mockserver("validate", str(SHIPPED), MOCKSERVER_PORT="abc", MOCKSERVER_RELOAD="maybe")
    assert result.returncode == 0, result.stderr
    assert "no problems" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("MOCKSERVER_PORT", "abc", "MOCKSERVER_PORT='abc': expected a port number from 0 to 65535"),
        (
            "MOCKSERVER_RELOAD",
            "maybe",
            "MOCKSERVER_RELOAD='maybe': expected one of 1, true, yes, on, 0, false, no, off",
        ),
    ],
)
def test_serve_with_a_bad_variable_exits_2_naming_it(variable: str, value: str, expected: str) -> None:
    result = mockserver("serve", **{variable: value})
    assert result.returncode == 2
    assert result.stderr == f"mockserver serve: error: {expected}\n"  # one line, no cut-off usage
    assert result.stdout == ""


def test_a_flag_wins_so_its_bad_variable_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKSERVER_PORT", "abc")
    monkeypatch.setenv("MOCKSERVER_RELOAD", "maybe")
    chosen = settings(["--port", "8000", "--no-reload"])
    assert (chosen.port, chosen.reload) == (8000, False)  # type: ignore[attr-defined]


def test_variables_are_read_when_used_not_when_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCKSERVER_PORT", raising=False)
    monkeypatch.delenv("OS_SECURITY_KEY", raising=False)
    serve = build_parser().parse_args(["serve"])
    record = build_parser().parse_args(["record", "http://x", "--team", "t", "--message", "m", "--out", "o.yaml"])
    monkeypatch.setenv("MOCKSERVER_PORT", "8000")
    monkeypatch.setenv("OS_SECURITY_KEY", "real-key")
    assert settings_from(serve).port == 8000
    assert read_environment(record).security_key == "real-key"
    assert settings_from(build_parser().parse_args(["serve"]), environ={}).port == 7777
