"""Errors a client can cause, and the one place that turns them into responses.

The bodies' two formats are `wire/errors.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

from mockserver.agentos.errors import Invalid, NotFound, Refused, Unsupported
from mockserver.wire.errors import ERROR_CODES, error_json


class ApiError(Exception):
    """A request the server answers with an error status instead of a run.

    `agentos_detail` is what the real server puts under `detail` when it differs from the
    documented string (FastAPI's validation list on a 422).
    """

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        error_code: str | None = None,
        agentos_detail: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.error_code = error_code or ERROR_CODES.get(status_code, "ERROR")
        self.agentos_detail = detail if agentos_detail is None else agentos_detail
        self.headers = dict(headers or {})


def validation_error(field: str, kind: str, message: str, given: Any, where: str = "body") -> ApiError:
    """A 422 for one bad form field, as FastAPI words it."""
    problem = {"type": kind, "loc": [where, field], "msg": message, "input": given}
    return ApiError(422, f"{field}: {message}", agentos_detail=[problem])


def error_response(error: ApiError, error_format: str) -> JSONResponse:
    return error_json(
        error.status_code,
        error.detail,
        error_format,
        error_code=error.error_code,
        agentos_detail=error.agentos_detail,
        headers=error.headers,
    )


REFUSED_STATUS: dict[type[Refused], int] = {NotFound: 404, Unsupported: 400, Invalid: 422}
"""The status of each refusal the domain raises, as AgentOS answers it."""


def refused(error: Refused) -> ApiError:
    return ApiError(REFUSED_STATUS.get(type(error), 400), error.detail)
