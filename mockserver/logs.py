"""Log lines for people reading `docker compose logs`: plain text, or one JSON object a line.

The server's own lines and uvicorn's go through one handler on stdout, so `--log-format json`
gives JSON throughout. A record's `fields` (pass `extra={"fields": {...}}`) become `key=value`
pairs in text and top-level keys in JSON.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone
from typing import Any

RUNS_PATH = re.compile(r"^/teams/[^/]+/runs/?$")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0 and C1 controls: a session id with ESC in it must not drive the reader's terminal."""


def _escaped(text: str) -> str:
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if not text or re.search(r'[\s"=]', text) or CONTROL.search(text):
        return _escaped(json.dumps(text, ensure_ascii=False))
    return text


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class TextFormatter(logging.Formatter):
    """`2026-01-01T12:00:00.000Z INFO  run team=research-team scenario=default ...`"""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<5} {_escaped(record.getMessage())}"
        fields = getattr(record, "fields", None) or {}
        return " ".join([line, *(f"{key}={_text_value(value)}" for key, value in fields.items())])


class JsonFormatter(logging.Formatter):
    """`{"time": ..., "level": "info", "logger": ..., "message": ..., **fields}`"""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", None) or {})
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            entry.update(client=client, method=method, path=path, status=status)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class QuietAccess(logging.Filter):
    """Drops the access lines nobody needs: successful runs (the run line says more) and
    healthchecks (Docker sends one every few seconds). Failures always pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if not isinstance(args, tuple) or len(args) != 5:
            return True
        _client, method, path, _version, status = args
        if not isinstance(status, int) or status >= 400:
            return True
        path = str(path).split("?", 1)[0]
        return not (path.rstrip("/") == "/health" or (method == "POST" and RUNS_PATH.match(path)))


def logging_config(log_format: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` for uvicorn's `log_config` and the `mockserver` loggers."""
    formatter = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": {"()": f"{__name__}.{formatter.__name__}"}},
        "filters": {"quiet_access": {"()": f"{__name__}.QuietAccess"}},
        "handlers": {
            "default": {"class": "logging.StreamHandler", "formatter": "default", "stream": "ext://sys.stdout"},
            "access": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stdout",
                "filters": ["quiet_access"],
            },
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "mockserver": {"handlers": ["default"], "level": "INFO", "propagate": False},
        },
    }
