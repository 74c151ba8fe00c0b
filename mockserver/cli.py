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
from mockserver.settings import ERROR_FORMATS, LOG_FORMATS, MIN_SPEED, Settings, default_scenarios_dir

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
    if not (value == 0 or MIN_SPEED <= value < float("inf")):
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


def _size_or_zero(text: str) -> int:
    return 0 if text.strip() == "0" else _size(text)


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


def _limits(serve: argparse.ArgumentParser) -> None:
    """What one request, run, session or connection may cost at most (README: Limits)."""
    size = "a size such as 1MB, 64KB or bytes"
    count = "a whole number >= 1"
    seconds = "a number of seconds > 0"
    _option(serve, "--max-message-size", _size, "1MB", "largest `message`; a longer one gets 413", expects=size)
    _option(serve, "--max-deltas", _positive, 1000, "most content deltas one text step streams as", expects=count)
    _option(serve, "--max-frames", _positive, 50_000, "most frames one run may have; more get 413", expects=count)
    _option(
        serve,
        "--plan-cache-size",
        _size_or_zero,
        "8MB",
        "memory of the plans kept for the next run of the same request (0: none)",
        expects=f"0 or {size}",
    )
    _option(
        serve, "--max-echo-total", _size, "4MB", "bytes of all files of one request echoed back, at most", expects=size
    )
    _option(serve, "--max-session-runs", _positive, 100, "runs kept per session (the oldest dropped)", expects=count)
    _option(
        serve, "--max-session-bytes", _size, "16MB", "stored bytes kept per session (oldest runs dropped)", expects=size
    )
    _option(
        serve,
        "--max-store-size",
        _size,
        "256MB",
        "stored bytes of the sessions of all namespaces (least recent dropped)",
        expects=size,
    )
    _option(
        serve,
        "--max-added-size",
        _size,
        "16MB",
        "YAML of the teams added by POST /__mock/scenarios, all namespaces together; past it 413",
        expects=size,
    )
    _option(
        serve,
        "--max-journal-bytes",
        _size,
        "64MB",
        "estimated bytes of the journals of all namespaces together; past it the oldest entries go first",
        expects=size,
    )
    _option(
        serve,
        "--max-fault-counters",
        _positive,
        10_000,
        "`times:` fault counters kept in all namespaces (least recent dropped)",
        expects=count,
    )
    _option(serve, "--timeout-keep-alive", _interval, 5.0, "seconds an idle connection stays open", expects=seconds)
    _option(
        serve,
        "--read-timeout",
        _interval,
        30.0,
        "seconds a client has to send a request's head, and its body",
        expects=seconds,
    )


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
    _option(
        serve,
        "--speed",
        _speed,
        1.0,
        "delay factor: 2 = twice as fast, 0 = no delays",
        expects=f"0 or a number >= {MIN_SPEED}",
    )
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
    _option(
        serve,
        "--agui-default",
        str,
        None,
        "team POST /agui runs when forwardedProps names none (default: the only team, if there is one)",
        expects="a team id",
    )
    _option(
        serve,
        "--chat-default",
        str,
        None,
        "team POST /api/chat runs without ?team= (default: the only team, if there is one)",
        expects="a team id",
    )
    _option(
        serve,
        "--max-json-size",
        _size,
        "10MB",
        "largest JSON request body (AG-UI, AI SDK chat); a bigger one gets 413",
        expects="a size such as 10MB, 512KB or bytes",
    )

    record = commands.add_parser(
        "record",
        help="record a real AgentOS through a proxy, as scenario files that replay it",
        description="Serve a proxy to a real AgentOS: point a UI at it, and every team run that passes is"
        " written to OUT as a scenario replaying it with its own timing (one file per team)."
        " With --team and --message, send that one run through the same recorder and stop.",
    )
    record.add_argument("url", nargs="?", help=argparse.SUPPRESS)  # the one-shot form's upstream, kept for old scripts
    record.add_argument("--upstream", help="the real AgentOS, e.g. http://localhost:7778")
    record.add_argument(
        "--out", type=Path, required=True, help="folder of the recorded scenarios (or, one-shot, a .yaml file)"
    )
    record.add_argument("--team-id", help="record the team under this id instead of its own")
    record.add_argument("--team", help="one-shot: the team id to run")
    record.add_argument("--message", help="one-shot: the message to send")
    record.add_argument("--name", help=argparse.SUPPRESS)  # the one-shot form's scenario name, no longer used
    _option(record, "--host", str, "127.0.0.1", "address the proxy binds", expects="a host name or IP address")
    _option(record, "--port", _port, 7777, "port the proxy binds", expects="a port number from 0 to 65535")
    _option(
        record,
        "--security-key",
        str,
        None,
        "one-shot: bearer token for the real server (a UI's own token passes through the proxy)",
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
    _option(
        serve,
        "--max-background-runs",
        _positive,
        100,
        "finished background runs whose frames /resume can replay; the oldest are dropped past this",
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
    _limits(serve)

    imports = commands.add_parser(
        "import",
        help="turn an SSE capture (curl -N output) or a browser HAR file into scenario files",
        description="Write the team runs of FILE into OUT as `record` writes them. An SSE capture has no"
        " timing: its frames come 50 ms apart. A HAR file keeps phases, not chunks: the head comes after"
        " the entry's wait, and its frames are spread evenly over its receive time.",
    )
    imports.add_argument("file", type=Path, help="a curl -N capture or a .har file")
    imports.add_argument("--out", type=Path, required=True, help="folder of the scenario files to write")
    imports.add_argument("--team-id", help="write the team under this id instead of its own")

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
        max_background_runs=args.max_background_runs,
        reload=args.reload,
        reload_interval=args.reload_interval,
        log_format=args.log_format,
        access_log=args.access_log,
        agui_default=args.agui_default or None,
        chat_default=args.chat_default or None,
        max_json_size=args.max_json_size,
        journal_size=args.journal_size,
        max_journal_bytes=args.max_journal_bytes,
        max_added_size=args.max_added_size,
        max_namespaces=args.max_namespaces,
        control_key=args.control_key or None,
        max_message_size=args.max_message_size,
        max_deltas=args.max_deltas,
        max_frames=args.max_frames,
        plan_cache_size=args.plan_cache_size,
        max_echo_total=args.max_echo_total,
        max_session_runs=args.max_session_runs,
        max_session_bytes=args.max_session_bytes,
        max_store_size=args.max_store_size,
        max_fault_counters=args.max_fault_counters,
        timeout_keep_alive=args.timeout_keep_alive,
        read_timeout=args.read_timeout,
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
    for agent in scenarios.listed_agents():
        names = ", ".join(s.name for s in agent.scenarios)
        logger.info(f"  POST {url}/agents/{agent.id}/runs  ({agent.name}: {names})")
    logger.info(f"dashboard: {url}/__mock/ui")
    server.run(app, settings)
    return 0


def validate(directories: Sequence[Path]) -> int:
    scenarios = load_or_report(directories)
    if scenarios is None:
        return 1
    total = sum(len(t.scenarios) for t in scenarios.runnable().values())
    agents = f"{len(scenarios.agents)} agents, " if scenarios.agents else ""
    print(f"{_shown(directories)}: {len(scenarios.teams)} teams, {agents}{total} scenarios, no problems")
    return 0


def _shown(directories: Sequence[Path]) -> str:
    return ", ".join(str(directory) for directory in directories)


def record(args: argparse.Namespace) -> int:
    from mockserver.record import command

    upstream = args.upstream or args.url
    if not upstream:
        print("mockserver record: error: give the real AgentOS with --upstream URL", file=sys.stderr)
        return 2
    if (args.team is None) != (args.message is None):
        print("mockserver record: error: the one-shot form needs both --team and --message", file=sys.stderr)
        return 2
    if args.message is not None:
        return command.record_once(
            upstream, args.team, args.message, args.out, rename=args.team_id, key=args.security_key
        )
    return command.record_proxy(upstream, args.out, rename=args.team_id, host=args.host, port=args.port)


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
    if args.command == "import":
        from mockserver.record.command import import_capture

        return import_capture(args.file, args.out, rename=args.team_id)
    return serve(settings_from(args))
