"""Errors a client can cause, and the one place that turns them into responses.

By default bodies take the documented AgentOS shape, `{"detail": str, "error_code": str}`.
With `--error-format agentos` they are the exact bytes a real AgentOS 3.1.10 sends: `detail`
only, and FastAPI's list of problems on a 422.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.responses import JSONResponse

ERROR_CODES: dict[int, str] = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    408: "REQUEST_TIMEOUT",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
    500: "INTERNAL_SERVER_ERROR",
    501: "NOT_IMPLEMENTED",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


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


def error_body(error: ApiError, error_format: str) -> dict[str, Any]:
    if error_format == "agentos":
        return {"detail": error.agentos_detail}
    return {"detail": error.detail, "error_code": error.error_code}


def error_response(error: ApiError, error_format: str) -> JSONResponse:
    return JSONResponse(error_body(error, error_format), error.status_code, headers=error.headers)
