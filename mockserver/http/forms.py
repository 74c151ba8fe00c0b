"""The team-run form, read and checked as AgentOS's FastAPI endpoint reads it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect, Request

from mockserver import jsontext
from mockserver.agentos.media import Upload
from mockserver.http.errors import ApiError, validation_error
from mockserver.http.multipart import MAX_FIELDS, UploadLimits, read_multipart
from mockserver.scenarios.templates import human_size

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
URLENCODED_SLACK = 64 * 1024
"""Room for the other fields of an urlencoded form besides its message."""


@dataclass(frozen=True)
class RunForm:
    message: str
    stream: bool = True
    background: bool = False
    session_id: str | None = None
    user_id: str | None = None
    files: tuple[Upload, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    """Pydantic's lax booleans; an empty or missing field takes the default, as FastAPI does."""
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise validation_error(name, "bool_parsing", "Input should be a valid boolean, unable to interpret input", value)


def _text(form: FormData, name: str) -> str | None:
    """A text field, with `""` meaning absent as for FastAPI's optional form fields."""
    value = form.get(name)
    if isinstance(value, (UploadFile, Upload)) or value in (None, ""):
        return None
    return str(value)


async def read_form(request: Request) -> FormData:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return FormData()
    settings = request.app.state.mock.settings
    if content_type == "multipart/form-data":
        limits = UploadLimits(
            settings.max_upload_size,
            settings.max_files,
            settings.max_echo_size,
            echo_total=settings.max_echo_total,
            message_size=settings.max_message_size,
        )
        return await read_multipart(request, limits)
    return await _read_urlencoded(request, settings.max_message_size + URLENCODED_SLACK)


async def _read_urlencoded(request: Request, most: int) -> FormData:
    """The body read up to `most` bytes (percent-encoding triples a byte at worst), then parsed."""
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > 3 * most:
                limit = human_size(most - URLENCODED_SLACK)
                detail = f"form body is over what a {limit} message needs (--max-message-size)"
                raise ApiError(413, detail, headers={"connection": "close"})
    except ClientDisconnect:
        raise ApiError(400, "The client disconnected before the body was complete") from None
    if body.count(b"&") >= MAX_FIELDS:
        raise ApiError(400, "There was an error parsing the body: Max number of fields exceeded")
    fields: list[tuple[str, str | UploadFile]] = [*_pairs(body)]
    return FormData(fields)


def _pairs(body: bytearray) -> list[tuple[str, str]]:
    """What `parse_qsl(body.decode("latin-1"), keep_blank_values=True, errors="replace")` gives,
    as Starlette's form parser decodes it, with fewer copies alive at once: each field is decoded
    straight from the body, the body is emptied, then each field is unquoted and let go. A 1 MB
    message costs one more copy of itself while it is read, not the four of decoding it whole."""
    texts: list[tuple[str, str]] = []
    with memoryview(body) as view:
        start = 0
        while start <= len(body):
            end = body.find(b"&", start)
            end = len(body) if end < 0 else end
            equals = body.find(b"=", start, end)
            cut = end if equals < 0 else equals
            if end > start:
                texts.append((str(view[start:cut], "latin-1"), str(view[cut + 1 : end], "latin-1")))
            start = end + 1
    body.clear()
    texts.reverse()
    pairs = []
    while texts:
        name, value = texts.pop()
        pairs.append((_unquoted(name), _unquoted(value)))
    return pairs


def _unquoted(text: str) -> str:
    return unquote(text.replace("+", " "), encoding="utf-8", errors="replace")


def run_form(form: FormData) -> RunForm:
    """Check every field as FastAPI does, reporting all problems at once, message first."""
    problems: list[ApiError] = []
    message = _text(form, "message")
    if message is None:
        problems.append(validation_error("message", "missing", "Field required", None))
    flags = {}
    for name, default in (("stream", True), ("monitor", True), ("background", False)):
        try:
            flags[name] = parse_bool(name, _text(form, name), default)
        except ApiError as problem:
            problems.append(problem)
    files = _files(form)
    if isinstance(files, ApiError):
        problems.append(files)
    if problems:
        raise _merged(problems)
    known = {"message", "stream", "monitor", "background", "session_id", "user_id", "files"}
    return RunForm(
        message=message or "",
        stream=flags["stream"],
        background=flags["background"],
        session_id=_text(form, "session_id"),
        user_id=_text(form, "user_id"),
        files=files if isinstance(files, tuple) else (),
        extra={k: v for k, v in form.multi_items() if k not in known and isinstance(v, str)},
    )


def run_kwargs(extra: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """`session_state` and `metadata` as agno's `get_request_kwargs` reads them: JSON that does not
    parse is dropped, and a `metadata` that parses to anything but an object is a 400."""
    state = _json_object(extra.get("session_state"))
    metadata = _json_object(extra.get("metadata"))
    if metadata is not None and not isinstance(metadata, dict):
        raise ApiError(400, "Invalid metadata parameter: expected a JSON object")
    return (state if isinstance(state, dict) else None), metadata


def _json_object(raw: Any) -> Any:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return jsontext.loads(raw)
    except ValueError:  # NaN or nesting too deep is bad JSON too, dropped as agno drops bad JSON
        return None


def _is_empty_file_input(part: Any) -> bool:
    """What a browser sends for a file input with no file chosen; FastAPI drops it."""
    return isinstance(part, Upload) and part.filename == "" and part.size == 0


def _files(form: FormData) -> tuple[Upload, ...] | ApiError:
    """The `files` parts, as FastAPI's `List[UploadFile]` takes them: a text part is a 422."""
    parts = [part for part in form.getlist("files") if not _is_empty_file_input(part)]
    texts: list[dict[str, Any]] = [
        {
            "type": "value_error",
            "loc": ["body", "files", index],
            "msg": f"Value error, Expected UploadFile, received: {type(part)}",
            "input": part,
            "ctx": {"error": {}},
        }
        for index, part in enumerate(parts)
        if not isinstance(part, Upload)
    ]
    if texts:
        return ApiError(422, "files: Value error, Expected UploadFile, received a text field", agentos_detail=texts)
    return tuple(part for part in parts if isinstance(part, Upload))


def _merged(problems: list[ApiError]) -> ApiError:
    if len(problems) == 1:
        return problems[0]
    return ApiError(
        422,
        "; ".join(p.detail for p in problems),
        agentos_detail=[item for p in problems for item in p.agentos_detail],
    )
