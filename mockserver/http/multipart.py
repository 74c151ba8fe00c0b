"""Multipart bodies read as they stream in, with python-multipart's low-level parser.

Nothing is written to disk and no file is held whole: each file part is counted and hashed
(SHA-256) chunk by chunk as it arrives, and only its first `echo_size` bytes are kept for the
echo (`agentos/media.py` classifies and echoes them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request

from mockserver.agentos.media import Upload
from mockserver.http.errors import ApiError
from mockserver.jsontext import holds_surrogate
from mockserver.scenarios.templates import human_size

TEXT_FIELD_LIMIT = 1024 * 1024
MAX_FIELDS = 1000
# After a limit is hit, the rest of the body is read and thrown away (so the client, still
# sending, gets to read the 413) up to this many bytes; past that the connection is closed.
DRAIN_LIMIT = 4 * 1024**3
_UTF8 = frozenset({"utf-8", "utf8", "utf_8"})


@dataclass(frozen=True)
class UploadLimits:
    max_size: int = 100 * 1024**2
    max_files: int = 1000
    echo_size: int = 1024**2
    echo_total: int = 4 * 1024**2
    """Echoed bytes of all files of one request: what an echo costs in memory is about 10x this."""
    message_size: int = TEXT_FIELD_LIMIT


class _Sink:
    """A file part being received: counted, hashed, and its first bytes kept."""

    def __init__(self, filename: str | None, content_type: str | None, echo_size: int) -> None:
        self.filename = filename
        self.content_type = content_type
        self.size = 0
        self.digest = hashlib.sha256()
        self.head = bytearray()
        self.echo_size = echo_size

    def write(self, chunk: memoryview) -> None:
        self.size += len(chunk)
        self.digest.update(chunk)
        room = self.echo_size - len(self.head)
        if room > 0:
            self.head += chunk[:room]

    def upload(self) -> Upload:
        return Upload(self.filename, self.content_type, self.size, self.digest.hexdigest(), bytes(self.head))


@dataclass
class _MultipartReader:
    """python-multipart callbacks that build the form as the body streams through."""

    limits: UploadLimits
    charset: str = "utf-8"
    items: list[tuple[str, Any]] = field(default_factory=list)
    files: int = 0
    fields: int = 0
    echoed: int = 0
    _header_name: bytes = b""
    _header_value: bytes = b""
    _headers: dict[bytes, bytes] = field(default_factory=dict)
    _name: str = ""
    _text: bytearray | None = None
    _sink: _Sink | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
        }

    def on_part_begin(self) -> None:
        self._headers = {}
        self._text = None
        self._sink = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name = self._header_value = b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        if b"name" not in options:
            raise ApiError(400, 'The Content-Disposition header field "name" must be provided.')
        self._name = _decode(options[b"name"], self.charset)
        if b"filename" in options:
            self.files += 1
            if self.files > self.limits.max_files:
                raise ApiError(413, f"Too many files: at most {self.limits.max_files} per request (--max-files)")
            content_type = self._headers.get(b"content-type")
            self._sink = _Sink(
                _decode(options[b"filename"], self.charset),
                None if content_type is None else content_type.decode("latin-1"),
                max(0, min(self.limits.echo_size, self.limits.echo_total - self.echoed)),
            )
        else:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise ApiError(400, f"Too many fields. Maximum number of fields is {MAX_FIELDS}.")
            self._text = bytearray()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._sink is not None:
            if self._sink.size + (end - start) > self.limits.max_size:
                limit = human_size(self.limits.max_size)
                raise ApiError(
                    413, f"File too large: {self._sink.filename!r} is over the {limit} limit (--max-upload-size)"
                )
            self._sink.write(memoryview(data)[start:end])
        elif self._text is not None:
            size = len(self._text) + (end - start)
            if self._name == "message" and size > self.limits.message_size:
                limit = human_size(self.limits.message_size)
                raise ApiError(413, f"message is over the {limit} limit (--max-message-size)")
            if self._name != "message" and size > TEXT_FIELD_LIMIT:
                raise ApiError(400, f"Part exceeded maximum size of {TEXT_FIELD_LIMIT // 1024}KB.")
            self._text += memoryview(data)[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            self.echoed += len(self._sink.head)
            self.items.append((self._name, self._sink.upload()))
        elif self._text is not None:
            self.items.append((self._name, _decode(self._text, self.charset)))  # no bytes() copy of a 1 MB text
            self._text = None


def _decode(value: bytes | bytearray, charset: str) -> str:
    """As Starlette does: the form's charset, else Latin-1, so no name fails to decode.

    A charset that gives no text is taken as unknown too: a codec that fails in its own way
    (`punycode` raises a bare UnicodeError), or one such as `unicode_escape` that can give lone
    surrogates, which no answer could carry (UTF-8 cannot encode them)."""
    try:
        text = value.decode(charset)
    except (ValueError, LookupError):
        return value.decode("latin-1")
    if charset.lower() not in _UTF8 and holds_surrogate(text):
        return value.decode("latin-1")
    return text


async def read_multipart(request: Request, limits: UploadLimits) -> FormData:
    """The multipart form with each file part as an `Upload`; 413 past a limit, 400 if malformed."""
    _, params = parse_options_header(request.headers.get("content-type", ""))
    boundary = params.get(b"boundary")
    if not boundary:
        raise ApiError(400, "Missing boundary in multipart.")
    charset = params.get(b"charset", b"utf-8").decode("latin-1")
    reader = _MultipartReader(limits, charset=charset)
    stream = request.stream()
    try:
        parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
        async for chunk in stream:
            parser.write(chunk)
        parser.finalize()
        if parser.state not in (MultipartState.START, MultipartState.END):
            # python-multipart accepts a body that stops early and drops its last part unseen.
            detail = "There was an error parsing the body: the multipart body ended before its closing boundary"
            raise ApiError(400, detail)
    except ApiError as error:
        if await _drain(stream):
            error.headers["connection"] = "close"
        raise
    except FormParserError as error:
        # Starlette's wording; what python-multipart found wrong is not shown, as on AgentOS.
        raise ApiError(400, "Invalid multipart data.") from error
    except ClientDisconnect:
        raise ApiError(400, "The client disconnected before the body was complete") from None
    return FormData(reader.items)


async def _drain(stream: Any) -> bool:
    """Read and discard the rest of the body; True if it was too long to finish."""
    left = DRAIN_LIMIT
    try:
        async for chunk in stream:
            left -= len(chunk)
            if left < 0:
                return True
    except (ClientDisconnect, ApiError):  # gone, or past --read-timeout: close instead
        return True
    return False
