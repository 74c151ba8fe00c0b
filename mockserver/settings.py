"""Every option of the server, as given on the command line or in `MOCKSERVER_*` variables."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ErrorFormat = Literal["documented", "agentos"]
ERROR_FORMATS: tuple[str, ...] = ("documented", "agentos")
LogFormat = Literal["text", "json"]
LOG_FORMATS: tuple[str, ...] = ("text", "json")
MIN_SPEED = 0.001
"""The slowest speed factor above 0: slower ones would put frames past any useful time (and overflow)."""


def default_scenarios_dir() -> Path:
    """The shipped `scenarios/` beside the package in a checkout, else `./scenarios`."""
    shipped = Path(__file__).resolve().parent.parent / "scenarios"
    return shipped if shipped.is_dir() else Path("scenarios")


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 7777
    scenarios: tuple[Path, ...] = (Path("scenarios"),)  # one Path or str is taken as a folder of its own
    speed: float = 1.0
    seed: int = 0
    security_key: str | None = None
    error_format: ErrorFormat = "documented"
    max_upload_size: int = 100 * 1024**2
    max_files: int = 1000
    max_echo_size: int = 1024**2
    cors_origins: tuple[str, ...] | None = None  # None: any http://localhost:* or 127.0.0.1:*
    max_sessions: int = 1000
    max_background_runs: int = 100
    reload: bool = False
    reload_interval: float = 0.5
    log_format: LogFormat = "text"
    access_log: bool = True
    agui_default: str | None = None
    """The team `POST /agui` runs when the request names none (None: the only team, if there is one)."""
    chat_default: str | None = None
    """The team `POST /api/chat` runs when the request names none (None: the only team, if there is one)."""
    max_json_size: int = 10 * 1024**2
    """Largest JSON request body (AG-UI's RunAgentInput, the AI SDK's chat request); bigger gets 413."""
    journal_size: int = 1000
    max_journal_bytes: int = 64 * 1024**2
    """Estimated bytes of the journals of all namespaces together (`http/journaling.py: weight_of`)."""
    max_namespaces: int = 100
    max_added_size: int = 16 * 1024**2
    """Bytes of YAML of the teams `POST /__mock/scenarios` added, in all namespaces together."""
    control_key: str | None = None  # None: the control routes take `security_key`, if any
    # Hardening limits: what one request, run, session or connection may cost at most.
    max_message_size: int = 1024**2
    max_deltas: int = 1000
    max_frames: int = 50_000
    plan_cache_size: int = 8 * 1024**2
    """Bytes of the plans kept for the next run of the same request (`run/plans.py`); 0 keeps none."""
    max_echo_total: int = 4 * 1024**2
    max_session_runs: int = 100
    max_session_bytes: int = 16 * 1024**2
    max_store_size: int = 256 * 1024**2
    """Stored bytes of the sessions of all namespaces together."""
    max_fault_counters: int = 10_000
    timeout_keep_alive: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        folders = (self.scenarios,) if isinstance(self.scenarios, (str, Path)) else self.scenarios
        object.__setattr__(self, "scenarios", tuple(Path(folder) for folder in folders))
