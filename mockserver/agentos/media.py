"""Uploaded files: read as they stream in, classified as AgentOS 3.1.10 does, echoed back.

Nothing is written to disk and no file is held whole: each file part is counted and hashed
(SHA-256) chunk by chunk as it arrives, and only its first `echo_size` bytes are kept for the
echo. A filename is data: it is echoed, never used as a path.

The MIME tables and the classification order are those of agno 3.1.10's `agno/os/utils.py`
(`classify_upload_file`, `_resolve_document_mime_type`, `extract_format`); the echo shapes are
its media objects' `to_dict()`.
"""

from __future__ import annotations

import base64
import codecs
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request

from mockserver.http.errors import ApiError
from mockserver.scenarios.templates import human_size

IMAGE_MIME_TYPES = frozenset({
    "image/png", "image/jpeg", "image/jpg", "image/gif", "image/webp", "image/bmp",
    "image/tiff", "image/tif", "image/avif", "image/heic", "image/heif",
})
AUDIO_MIME_TYPES = frozenset({
    "audio/wav", "audio/wave", "audio/mp3", "audio/mpeg", "audio/ogg", "audio/mp4",
    "audio/m4a", "audio/aac", "audio/flac",
})
VIDEO_MIME_TYPES = frozenset({
    "video/x-flv", "video/quicktime", "video/mpeg", "video/mpegs", "video/mpgs", "video/mpg",
    "video/mp4", "video/webm", "video/wmv", "video/3gpp",
})
DOCUMENT_EXTENSION_MIME: Mapping[str, str] = {
    "pdf": "application/pdf",
    "json": "application/json",
    "js": "text/javascript",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "doc": "application/msword",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "ppt": "application/vnd.ms-powerpoint",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "xls": "application/vnd.ms-excel",
    "msg": "application/vnd.ms-outlook",
    "zip": "application/zip",
    "eml": "message/rfc822",
    "py": "text/x-python",
    "txt": "text/plain",
    "html": "text/html",
    "htm": "text/html",
    "css": "text/css",
    "md": "text/markdown",
    "markdown": "text/markdown",
    "csv": "text/csv",
    "xml": "text/xml",
    "rtf": "text/rtf",
}
DOCUMENT_MIME_TYPES = frozenset(DOCUMENT_EXTENSION_MIME.values()) | {"application/x-javascript", "application/x-python"}
MIME_ALIASES: Mapping[str, str] = {
    "application/x-zip": "application/zip",
    "application/x-zip-compressed": "application/zip",
    "application/xml": "text/xml",
    "application/rtf": "text/rtf",
    "application/javascript": "text/javascript",
}
EXTENSION_CATEGORY: Mapping[str, str] = {
    **{ext: "document" for ext in DOCUMENT_EXTENSION_MIME},
    **{ext: "image" for ext in ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tiff", "tif", "avif", "heic", "heif")},
    **{ext: "audio" for ext in ("wav", "mp3", "ogg", "m4a", "aac", "flac")},
    **{ext: "video" for ext in ("flv", "mov", "mpeg", "mpg", "mp4", "webm", "wmv", "3gp")},
}
# Types too generic to classify on their own: the filename's extension decides.
AMBIGUOUS_TYPES = frozenset({"", "application/octet-stream"})

# agno's input lists, in the order `TeamRunInput.to_dict()` writes them.
MEDIA_LISTS: Mapping[str, str] = {"image": "images", "video": "videos", "audio": "audios", "document": "files"}
FILES_METADATA_LIMIT = 8000
TEXT_FIELD_LIMIT = 1024 * 1024
MAX_FIELDS = 1000
# After a limit is hit, the rest of the body is read and thrown away (so the client, still
# sending, gets to read the 413) up to this many bytes; past that the connection is closed.
DRAIN_LIMIT = 4 * 1024**3


@dataclass(frozen=True)
class UploadLimits:
    max_size: int = 100 * 1024**2
    max_files: int = 1000
    echo_size: int = 1024**2
    echo_total: int = 4 * 1024**2
    """Echoed bytes of all files of one request: what an echo costs in memory is about 10x this."""
    message_size: int = TEXT_FIELD_LIMIT


@dataclass(frozen=True)
class Upload:
    """One file part as it arrived: its headers, size and digest, and the first bytes."""

    filename: str | None
    content_type: str | None
    size: int
    sha256: str
    head: bytes

    @property
    def category(self) -> str | None:
        return classify(self.content_type, self.filename)

    @property
    def truncated(self) -> bool:
        return len(self.head) < self.size


def _extension(filename: str | None) -> str | None:
    if filename and "." in filename:
        return filename.rsplit(".", 1)[-1].lower()
    return None


def _normalised(content_type: str | None) -> str | None:
    return None if content_type is None else MIME_ALIASES.get(content_type, content_type)


def classify(content_type: str | None, filename: str | None) -> str | None:
    """image, audio, video, document, or None (unsupported), as `classify_upload_file` decides.

    The content type is compared as sent (so `text/plain; charset=utf-8` is not `text/plain`);
    only a missing or `application/octet-stream` type falls back to the extension.
    """
    kind = _normalised(content_type)
    for category, types in (("image", IMAGE_MIME_TYPES), ("audio", AUDIO_MIME_TYPES), ("video", VIDEO_MIME_TYPES), ("document", DOCUMENT_MIME_TYPES)):
        if kind in types:
            return category
    extension = _extension(filename)
    if (kind is None or kind in AMBIGUOUS_TYPES) and extension:
        return EXTENSION_CATEGORY.get(extension)
    return None


def document_mime_type(content_type: str | None, filename: str | None) -> str | None:
    kind = _normalised(content_type)
    if kind and kind in DOCUMENT_MIME_TYPES:
        return kind
    extension = _extension(filename)
    if extension is not None:
        return DOCUMENT_EXTENSION_MIME.get(extension)
    return kind


def media_format(content_type: str | None, filename: str | None) -> str | None:
    """agno's `extract_format`: the text after the filename's last dot, else the MIME subtype."""
    if filename and "." in filename:
        return filename.split(".")[-1].lower()
    kind = _normalised(content_type)
    return kind.strip().split("/")[-1] if kind else None


# -- reading ---------------------------------------------------------------------------------


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
                raise ApiError(413, f"File too large: {self._sink.filename!r} is over the {limit} limit (--max-upload-size)")
            self._sink.write(memoryview(data)[start:end])
        elif self._text is not None:
            size = len(self._text) + (end - start)
            if self._name == "message" and size > self.limits.message_size:
                limit = human_size(self.limits.message_size)
                raise ApiError(413, f"message is over the {limit} limit (--max-message-size)")
            if self._name != "message" and size > TEXT_FIELD_LIMIT:
                raise ApiError(400, f"Part exceeded maximum size of {TEXT_FIELD_LIMIT // 1024}KB.")
            self._text += data[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            self.echoed += len(self._sink.head)
            self.items.append((self._name, self._sink.upload()))
        elif self._text is not None:
            self.items.append((self._name, _decode(bytes(self._text), self.charset)))


def _decode(value: bytes, charset: str) -> str:
    """As Starlette does: the form's charset, else Latin-1, so no name fails to decode."""
    try:
        return value.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return value.decode("latin-1")


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


# -- checking --------------------------------------------------------------------------------


def parse_files_metadata(raw: str | None) -> list[dict[str, Any] | None]:
    """`files_metadata` as agno reads it: 422 past 8000 bytes; bad JSON or a non-list is []."""
    if not raw:
        return []
    if len(raw.encode("utf-8")) > FILES_METADATA_LIMIT:
        raise ApiError(422, f"files_metadata exceeds the {FILES_METADATA_LIMIT}-byte limit")
    try:
        parsed = json.loads(raw)
    except (ValueError, RecursionError):  # "[" * 4000 fits in the limit and is too deep for json
        return []
    if not isinstance(parsed, list):
        return []
    return [entry if isinstance(entry, dict) else None for entry in parsed]


@dataclass(frozen=True)
class Received:
    """The uploads of one run, paired with their `files_metadata` entries by position."""

    uploads: tuple[Upload, ...] = ()
    metadata: tuple[dict[str, Any] | None, ...] = ()

    def pairs(self) -> Iterable[tuple[Upload, dict[str, Any] | None]]:
        for index, upload in enumerate(self.uploads):
            yield upload, self.metadata[index] if index < len(self.metadata) else None

    def accepted(self) -> list[tuple[Upload, dict[str, Any] | None]]:
        """What agno keeps: every file with content (an empty one is dropped silently)."""
        return [(upload, meta) for upload, meta in self.pairs() if upload.size > 0]


def receive(uploads: Iterable[Upload], metadata: list[dict[str, Any] | None]) -> Received:
    """Reject the whole request if one file is of an unsupported type, as AgentOS does."""
    uploads = tuple(uploads)
    if any(upload.category is None for upload in uploads):
        raise ApiError(400, "Unsupported file type")
    return Received(uploads, tuple(metadata))


# -- echoing ---------------------------------------------------------------------------------


def template_files(received: Received) -> tuple[dict[str, Any], ...]:
    """What `{{ files[N].x }}` sees: the files a model would get, empty ones dropped."""
    return tuple(
        {
            "filename": upload.filename or "",
            "content_type": upload.content_type or "",
            "category": upload.category,
            "size": upload.size,
            "size_human": human_size(upload.size),
            "sha256": upload.sha256,
        }
        for upload, _ in received.accepted()
    )


def echo(received: Received) -> list[dict[str, Any]]:
    """The mock's own account of every file part, for `plan.UPLOADS_KEY` (README: Uploads)."""
    entries = []
    for upload, meta in received.pairs():
        entry: dict[str, Any] = {
            "filename": upload.filename,
            "content_type": upload.content_type,
            "category": upload.category,
            "size": upload.size,
            "sha256": upload.sha256,
        }
        if upload.size == 0:
            entry["dropped"] = "empty file"
        elif upload.truncated:
            entry["echoed_bytes"] = len(upload.head)
        if meta:
            entry["metadata"] = meta
        entries.append(entry)
    return entries


def agno_media(received: Received) -> dict[str, list[dict[str, Any]]]:
    """`input.images/videos/audios/files` of agno's TeamRunInput, each list only if non-empty.

    `content` holds the echoed bytes (the whole file unless it is over `--max-echo-size`):
    raw text for a `text/*` document that is UTF-8, base64 otherwise.
    """
    lists: dict[str, list[dict[str, Any]]] = {}
    for upload, meta in received.accepted():
        category = upload.category
        assert category is not None, "receive() rejected unsupported files"
        lists.setdefault(MEDIA_LISTS[category], []).append(_media(upload, category, meta))
    return {name: lists[name] for name in MEDIA_LISTS.values() if name in lists}


def _media(upload: Upload, category: str, meta: dict[str, Any] | None) -> dict[str, Any]:
    fmt = media_format(upload.content_type, upload.filename)
    item: dict[str, Any] = {"id": str(uuid.uuid4())}
    if category == "document":
        item.update(mime_type=document_mime_type(upload.content_type, upload.filename), filename=upload.filename, format=fmt)
        item["content"] = _document_content(upload, item["mime_type"])
    else:
        item.update(format=fmt, mime_type=upload.content_type)
        if category == "audio":
            item.update(sample_rate=24000, channels=1)  # agno's Audio defaults
        item["content"] = base64.b64encode(upload.head).decode("ascii")
    if meta:
        item["metadata"] = meta
    return {key: value for key, value in item.items() if value is not None}


def _document_content(upload: Upload, mime_type: str | None) -> str:
    if mime_type and mime_type.startswith("text/"):
        try:
            # A cut-off echo may end inside a character: keep only the whole ones.
            return codecs.getincrementaldecoder("utf-8")().decode(upload.head, final=not upload.truncated)
        except UnicodeDecodeError:
            pass
    return base64.b64encode(upload.head).decode("ascii")
