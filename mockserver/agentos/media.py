"""Uploaded files as AgentOS 3.1.10 takes them: classified, checked, and echoed back.

The files arrive as `Upload`s from the multipart reader (`http/multipart.py`): counted and
hashed, with only their first bytes kept. A filename is data: it is echoed, never used as a path.

The MIME tables and the classification order are those of agno 3.1.10's `agno/os/utils.py`
(`classify_upload_file`, `_resolve_document_mime_type`, `extract_format`); the echo shapes are
its media objects' `to_dict()`.
"""

from __future__ import annotations

import base64
import codecs
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockserver import jsontext
from mockserver.agentos.errors import Invalid, Unsupported
from mockserver.scenarios.templates import human_size

IMAGE_MIME_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/jpg",
        "image/gif",
        "image/webp",
        "image/bmp",
        "image/tiff",
        "image/tif",
        "image/avif",
        "image/heic",
        "image/heif",
    }
)
AUDIO_MIME_TYPES = frozenset(
    {
        "audio/wav",
        "audio/wave",
        "audio/mp3",
        "audio/mpeg",
        "audio/ogg",
        "audio/mp4",
        "audio/m4a",
        "audio/aac",
        "audio/flac",
    }
)
VIDEO_MIME_TYPES = frozenset(
    {
        "video/x-flv",
        "video/quicktime",
        "video/mpeg",
        "video/mpegs",
        "video/mpgs",
        "video/mpg",
        "video/mp4",
        "video/webm",
        "video/wmv",
        "video/3gpp",
    }
)
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
    for category, types in (
        ("image", IMAGE_MIME_TYPES),
        ("audio", AUDIO_MIME_TYPES),
        ("video", VIDEO_MIME_TYPES),
        ("document", DOCUMENT_MIME_TYPES),
    ):
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


# -- checking --------------------------------------------------------------------------------


def parse_files_metadata(raw: str | None) -> list[dict[str, Any] | None]:
    """`files_metadata` as agno reads it: 422 past 8000 bytes; bad JSON or a non-list is []."""
    if not raw:
        return []
    if len(raw.encode("utf-8")) > FILES_METADATA_LIMIT:
        raise Invalid(f"files_metadata exceeds the {FILES_METADATA_LIMIT}-byte limit")
    try:
        parsed = jsontext.loads(raw)
    except ValueError:  # "[" * 4000 fits in the limit and is too deep to read
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
        raise Unsupported("Unsupported file type")
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
        item.update(
            mime_type=document_mime_type(upload.content_type, upload.filename), filename=upload.filename, format=fmt
        )
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
