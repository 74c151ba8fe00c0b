"""Error bodies on the wire, in the documented shape or as AgentOS 3.1.10 writes them.

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


def error_json(
    status: int,
    detail: str,
    error_format: str,
    *,
    error_code: str | None = None,
    agentos_detail: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    if error_format == "agentos":
        body: dict[str, Any] = {"detail": detail if agentos_detail is None else agentos_detail}
    else:
        body = {"detail": detail, "error_code": error_code or ERROR_CODES.get(status, "ERROR")}
    return JSONResponse(body, status, headers=dict(headers or {}))
