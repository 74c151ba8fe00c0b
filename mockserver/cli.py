"""`mockserver serve` and `mockserver validate`: a thin layer that builds Settings and runs.

Every option of `serve` can also come from an environment variable (`MOCKSERVER_PORT=8000`);
a flag on the command line wins over the variable.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mockserver.loader import ScenarioError, load_directory
from mockserver.model import ScenarioSet
from mockserver.settings import ERROR_FORMATS, Settings, default_scenarios_dir

ENV_PREFIX = "MOCKSERVER_"


def _speed(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError(text)
    return value


def _error_format(text: str) -> str:
    if text not in ERROR_FORMATS:
        raise ValueError(text)
    return text


def _option(
    parser: argparse.ArgumentParser,
    flag: str,
    convert: Callable[[str], Any],
    default: Any,
    help: str,
    *,
    expects: str,
    also_env: str | None = None,
) -> None:
    """Add `--flag`, defaulting to `MOCKSERVER_FLAG` (or `also_env`) when that is set."""
    env = ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()
    names = [env] + ([also_env] if also_env else [])
    for name in names:
        raw = os.environ.get(name)
        if raw is not None and raw != "":
            try:
                default = convert(raw)
            except ValueError:
                parser.error(f"{name}={raw!r}: expected {expects}")
            break

    def checked(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {expects}") from None

    shown = " or ".join(names)
    parser.add_argument(flag, type=checked, default=default, help=f"{help} [env: {shown}] (default: {default})")


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    if not origins or not all(o == "*" or "://" in o for o in origins):
        raise ValueError(text)
    return origins


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="A mock Agno AgentOS team-run server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the scenarios", description="Serve POST /teams/{team_id}/runs from YAML scenarios.")
    _option(serve, "--host", str, "127.0.0.1", "address to bind", expects="a host name or IP address")
    _option(serve, "--port", _port, 7777, "port to bind (7777 is AgentOS's)", expects="a port number from 0 to 65535")
    _option(serve, "--scenarios", Path, default_scenarios_dir(), "directory of scenario files", expects="a directory")
    _option(serve, "--speed", _speed, 1.0, "delay factor: 2 = twice as fast, 0 = no delays", expects="a number >= 0")
    _option(serve, "--seed", int, 0, "seed of the random data (Faker, jitter)", expects="a whole number")
    _option(serve, "--security-key", str, None, "require Authorization: Bearer KEY", expects="a string", also_env="OS_SECURITY_KEY")
    _option(serve, "--error-format", _error_format, "documented", "error bodies: documented ({detail, error_code}) or agentos (3.1.10's exact bytes)", expects="documented or agentos")

    _option(serve, "--cors-origins", _origins, None, "comma-separated browser origins allowed to call the mock; default: any http://localhost:PORT or http://127.0.0.1:PORT", expects="origins like http://localhost:3000,https://app.example.com (or *)")
    _option(serve, "--max-sessions", _positive, 1000, "sessions kept in memory; the least recently used are dropped past this", expects="a whole number >= 1")

    validate = commands.add_parser("validate", help="check scenario files and list every problem")
    validate.add_argument("directory", nargs="?", type=Path, default=default_scenarios_dir(), help="directory of scenario files (default: the shipped scenarios)")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings(
        host=args.host,
        port=args.port,
        scenarios=args.scenarios,
        speed=args.speed,
        seed=args.seed,
        security_key=args.security_key or None,
        error_format=args.error_format,
        cors_origins=args.cors_origins,
        max_sessions=args.max_sessions,
    )


def load_or_report(directory: Path) -> ScenarioSet | None:
    try:
        return load_directory(directory)
    except ScenarioError as error:
        print(f"{len(error.problems)} problem(s) in {directory}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def serve(settings: Settings) -> int:
    import uvicorn

    from mockserver.app import create_app

    scenarios = load_or_report(settings.scenarios)
    if scenarios is None:
        return 1
    app = create_app(settings, scenarios)
    url = f"http://{settings.host}:{settings.port}"
    print(f"mockserver on {url} with {len(scenarios.teams)} teams from {settings.scenarios}:", flush=True)
    for team in scenarios.teams.values():
        names = ", ".join(s.name for s in team.scenarios)
        print(f"  POST {url}/teams/{team.id}/runs  ({team.name}: {names})", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, timeout_graceful_shutdown=1, log_level="info")
    return 0


def validate(directory: Path) -> int:
    scenarios = load_or_report(directory)
    if scenarios is None:
        return 1
    total = sum(len(t.scenarios) for t in scenarios.teams.values())
    print(f"{directory}: {len(scenarios.teams)} teams, {total} scenarios, no problems")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "validate":
        return validate(args.directory)
    return serve(settings_from(args))
