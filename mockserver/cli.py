"""`mockserver serve` and `mockserver validate`: a thin layer that builds Settings and runs.

Every option of `serve` can also come from an environment variable (`MOCKSERVER_PORT=8000`);
a flag on the command line wins over the variable. As with click's `auto_envvar_prefix`, the
variables are read after parsing, and only those of the command that runs: building the parser
or printing `--help` reads none, so a bad `MOCKSERVER_PORT` fails `serve` and nothing else.
"""

from __future__ import annotations

import argparse
import logging
import logging.config
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockserver.logs import logging_config
from mockserver.scenarios.loader import ScenarioError, load_directories
from mockserver.scenarios.model import ScenarioSet
from mockserver.settings import ERROR_FORMATS, LOG_FORMATS, Settings, default_scenarios_dir

ENV_PREFIX = "MOCKSERVER_"
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
VARIABLES = "_variables"  # the parsed namespace's list of the chosen command's Variables
logger = logging.getLogger("mockserver")


class BadVariable(ValueError):
    """An environment variable holds a value its option does not accept."""


@dataclass(frozen=True)
class Variable:
    """An option that, when its flag is not given, comes from the first set variable of `names`, else `default`."""

    dest: str
    names: tuple[str, ...]
    convert: Callable[[str], Any]
    default: Any
    expects: str

    def value(self, environ: Mapping[str, str]) -> Any:
        for name in self.names:
            raw = environ.get(name)
            if raw:  # an empty variable counts as unset, as in a compose file's `KEY:`
                try:
                    return self.convert(raw)
                except ValueError:
                    raise BadVariable(f"{name}={raw!r}: expected {self.expects}") from None
        # argparse converts a string default with the option's type; do the same.
        return self.convert(self.default) if isinstance(self.default, str) else self.default


def _variables(parser: argparse.ArgumentParser) -> list[Variable]:
    """The Variables of `parser`'s command, kept as a parser default so the parsed namespace carries them."""
    variables: list[Variable] | None = parser.get_default(VARIABLES)
    if variables is None:
        variables = []
        parser.set_defaults(**{VARIABLES: variables})
    return variables


def read_environment(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> argparse.Namespace:
    """Fill each option of the parsed command not given as a flag from its variable or its default.

    Raises BadVariable for a variable that does not convert; a given flag wins, so its variable is not read.
    """
    environ = os.environ if environ is None else environ
    for variable in getattr(args, VARIABLES, ()):
        if not hasattr(args, variable.dest):
            setattr(args, variable.dest, variable.value(environ))
    return args


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


_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}


def _size(text: str) -> int:
    """`100MB`, `1.5 GB`, `512k` or plain bytes; units are powers of 1024, as in nginx."""
    number = text.strip().lower().rstrip("bikmg ")
    unit = text.strip().lower()[len(number) :].strip()
    if unit not in _SIZE_UNITS:
        raise ValueError(text)
    amount = float(number) * _SIZE_UNITS[unit]
    if not 1 <= amount < 2**63:
        raise ValueError(text)
    value = int(amount)
    if value < 1:
        raise ValueError(text)
    return value


def _interval(text: str) -> float:
    value = float(text)
    if not 0 < value < float("inf"):
        raise ValueError(text)
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _log_format(text: str) -> str:
    if text not in LOG_FORMATS:
        raise ValueError(text)
    return text


def _boolean(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(text)


def _env_name(flag: str) -> str:
    """`--max-files` reads `MOCKSERVER_MAX_FILES`."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def _switch(parser: argparse.ArgumentParser, flag: str, default: bool, help: str) -> None:
    """Add `--flag` and `--no-flag`; without either, `MOCKSERVER_FLAG` (true/false) or `default` decides."""
    name = flag.lstrip("-")
    env = _env_name(flag)
    dest = name.replace("-", "_")
    expects = f"one of {', '.join(TRUE_WORDS + FALSE_WORDS)}"
    _variables(parser).append(Variable(dest, (env,), _boolean, default, expects))
    switch = parser.add_mutually_exclusive_group()
    shown = "on" if default else "off"
    switch.add_argument(
        flag,
        dest=dest,
        action="store_true",
        default=argparse.SUPPRESS,
        help=f"{help} [env: {env}=true|false] (default: {shown})",
    )
    switch.add_argument(
        f"--no-{name}", dest=dest, action="store_false", default=argparse.SUPPRESS, help=f"turn {flag} off"
    )


def _option(
    parser: argparse.ArgumentParser,
    flag: str,
    convert: Callable[[str], Any],
    default: Any,
    help: str,
    *,
    expects: str,
    also_env: str | None = None,
    env: Sequence[str] | None = None,
) -> None:
    """Add `--flag`; without it, the first set variable of `env` (default: `MOCKSERVER_FLAG`), then
    `also_env`, gives the value, else `default`."""
    names = tuple(env) if env is not None else (_env_name(flag),)
    names += (also_env,) if also_env else ()

    def checked(text: str) -> Any:
        try:
            return convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected {expects}") from None

    shown = " or ".join(names)
    # SUPPRESS: an option not given stays out of the namespace, so read_environment knows to fill it.
    action = parser.add_argument(
        flag, type=checked, default=argparse.SUPPRESS, help=f"{help} [env: {shown}] (default: {default})"
    )
    _variables(parser).append(Variable(action.dest, names, convert, default, expects))


def _folders(text: str) -> tuple[Path, ...]:
    """`MOCKSERVER_SCENARIOS`: one folder, or several separated by `os.pathsep`."""
    folders = tuple(Path(folder) for folder in text.split(os.pathsep) if folder)
    if not folders:
        raise ValueError(text)
    return folders


def _origins(text: str) -> tuple[str, ...]:
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    if not origins or not all(o == "*" or "://" in o for o in origins):
        raise ValueError(text)
    return origins


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockserver", description="A mock Agno AgentOS team-run server.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser(
        "serve", help="serve the scenarios", description="Serve POST /teams/{team_id}/runs from YAML scenarios."
    )
    _option(serve, "--host", str, "127.0.0.1", "address to bind", expects="a host name or IP address")
    _option(serve, "--port", _port, 7777, "port to bind (7777 is AgentOS's)", expects="a port number from 0 to 65535")
    serve.add_argument(
        "--scenarios",
        type=Path,
        action="append",
        default=argparse.SUPPRESS,
        help=f"folder of scenario files; repeat it to serve several [env: MOCKSERVER_SCENARIOS, folders separated "
        f"by {os.pathsep!r}] (default: {default_scenarios_dir()})",
    )
    _variables(serve).append(
        Variable("scenarios", (_env_name("--scenarios"),), _folders, (default_scenarios_dir(),), "folders")
    )
    _option(serve, "--speed", _speed, 1.0, "delay factor: 2 = twice as fast, 0 = no delays", expects="a number >= 0")
    _option(serve, "--seed", int, 0, "seed of the random data (Faker, jitter)", expects="a whole number")
    _option(
        serve,
        "--security-key",
        str,
        None,
        "require Authorization: Bearer KEY",
        expects="a string",
        also_env="OS_SECURITY_KEY",
    )
    _option(
        serve,
        "--error-format",
        _error_format,
        "documented",
        "error bodies: documented ({detail, error_code}) or agentos (3.1.10's exact bytes)",
        expects="documented or agentos",
    )
    _option(
        serve,
        "--max-upload-size",
        _size,
        "100MB",
        "largest accepted file; a bigger one gets 413",
        expects="a size such as 100MB, 1.5GB, 512KB or bytes",
    )
    _option(
        serve, "--max-files", _positive, 1000, "most files in one request; more get 413", expects="a whole number >= 1"
    )
    _option(
        serve,
        "--max-echo-size",
        _size,
        "1MB",
        "bytes of each file echoed back as content in stream=false answers",
        expects="a size such as 1MB, 64KB or bytes",
    )

    record = commands.add_parser(
        "record",
        help="record a real AgentOS team run as a scenario file",
        description="Post a message to a real AgentOS and write the streamed run as a scenario"
        " that replays it with its original timing.",
    )
    record.add_argument("url", help="the real AgentOS, e.g. http://localhost:7777")
    record.add_argument("--team", required=True, help="team id to run")
    record.add_argument("--message", required=True, help="the message to send")
    record.add_argument("--out", type=Path, required=True, help="scenario file to write")
    record.add_argument("--name", default="recorded", help="scenario name (default: recorded)")
    _option(
        record,
        "--security-key",
        str,
        None,
        "bearer token for the real server",
        expects="a string",
        env=["OS_SECURITY_KEY"],
    )

    _option(
        serve,
        "--cors-origins",
        _origins,
        None,
        "comma-separated browser origins allowed to call the mock; default: any http://localhost:PORT or http://127.0.0.1:PORT",
        expects="origins like http://localhost:3000,https://app.example.com (or *)",
    )
    _option(
        serve,
        "--max-sessions",
        _positive,
        1000,
        "sessions kept in memory; the least recently used are dropped past this",
        expects="a whole number >= 1",
    )
    _switch(
        serve,
        "--reload",
        True,
        "reload the scenarios folder when a file in it changes (polls, so Docker Desktop bind mounts work)",
    )
    _option(
        serve,
        "--reload-interval",
        _interval,
        0.5,
        "seconds between two looks at the scenarios folder",
        expects="a number of seconds > 0",
    )
    _option(
        serve,
        "--log-format",
        _log_format,
        "text",
        "log lines as text or json (one object a line)",
        expects="text or json",
    )
    _switch(serve, "--access-log", True, "log requests the run lines do not cover (failures, other endpoints)")
    _option(
        serve,
        "--journal-size",
        _positive,
        1000,
        "requests kept in the journal (GET /__mock/requests) of each namespace; the oldest go first",
        expects="a whole number >= 1",
    )
    _option(
        serve,
        "--max-namespaces",
        _positive,
        100,
        "X-Mock-Namespace spaces kept besides the default one; the least recently used go first",
        expects="a whole number >= 1",
    )
    _option(
        serve,
        "--control-key",
        str,
        None,
        "bearer key of the /__mock/ control routes; default: the --security-key, if any",
        expects="a string",
    )

    validate = commands.add_parser("validate", help="check scenario files and list every problem")
    validate.add_argument(
        "directories",
        nargs="*",
        type=Path,
        default=[default_scenarios_dir()],
        help="folders of scenario files, checked as one set (default: the shipped scenarios)",
    )
    return parser


def settings_from(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> Settings:
    """The Settings of a parsed `serve`: its flags, else its variables in `environ` (default: os.environ)."""
    read_environment(args, environ)
    return Settings(
        host=args.host,
        port=args.port,
        scenarios=tuple(args.scenarios),
        speed=args.speed,
        seed=args.seed,
        security_key=args.security_key or None,
        error_format=args.error_format,
        max_upload_size=args.max_upload_size,
        max_files=args.max_files,
        max_echo_size=args.max_echo_size,
        cors_origins=args.cors_origins,
        max_sessions=args.max_sessions,
        reload=args.reload,
        reload_interval=args.reload_interval,
        log_format=args.log_format,
        access_log=args.access_log,
        journal_size=args.journal_size,
        max_namespaces=args.max_namespaces,
        control_key=args.control_key or None,
    )


def load_or_report(directories: Sequence[Path]) -> ScenarioSet | None:
    try:
        return load_directories(directories)
    except ScenarioError as error:
        print(f"{len(error.problems)} problem(s) in {_shown(directories)}:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return None


def serve(settings: Settings) -> int:
    from mockserver import server
    from mockserver.app import create_app

    logging.config.dictConfig(logging_config(settings.log_format))
    scenarios = load_or_report(settings.scenarios)
    if scenarios is None:
        return 1
    app = create_app(settings, scenarios)
    url = f"http://{settings.host}:{settings.port}"
    logger.info(f"mockserver on {url} with {len(scenarios.teams)} teams from {_shown(settings.scenarios)}:")
    for team in scenarios.listed():
        names = ", ".join(s.name for s in team.scenarios)
        logger.info(f"  POST {url}/teams/{team.id}/runs  ({team.name}: {names})")
    logger.info(f"dashboard: {url}/__mock/ui")
    server.run(app, settings)
    return 0


def validate(directories: Sequence[Path]) -> int:
    scenarios = load_or_report(directories)
    if scenarios is None:
        return 1
    total = sum(len(t.scenarios) for t in scenarios.teams.values())
    print(f"{_shown(directories)}: {len(scenarios.teams)} teams, {total} scenarios, no problems")
    return 0


def _shown(directories: Sequence[Path]) -> str:
    return ", ".join(str(directory) for directory in directories)


def record(args: argparse.Namespace) -> int:
    from mockserver.recording import record as record_run
    from mockserver.recording import scenario_document, to_yaml
    from mockserver.scenarios.loader import load_text

    headers = {"Authorization": f"Bearer {args.security_key}"} if args.security_key else {}
    try:
        frames = record_run(args.url, args.team, args.message, headers)
    except OSError as error:
        print(f"could not record from {args.url}: {error}", file=sys.stderr)
        return 1
    if not frames:
        print(f"{args.url} sent no frames for team {args.team!r}", file=sys.stderr)
        return 1
    text = to_yaml(scenario_document(frames, args.name), args.url, args.message)
    load_text(text, str(args.out))  # what we write must load
    args.out.write_text(text, encoding="utf-8")
    print(f"{args.out}: {len(frames)} events over {frames[-1].at:.2f} s from team {args.team!r}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        read_environment(args)
    except BadVariable as error:
        print(f"mockserver {args.command}: error: {error}", file=sys.stderr)
        return 2
    if args.command == "validate":
        return validate(args.directories)
    if args.command == "record":
        return record(args)
    return serve(settings_from(args))
