"""Small real files of every kind a frontend uploads, made in memory by the tests."""

from __future__ import annotations

import base64
import io
import json
import struct
import wave
import zipfile
import zlib


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg() -> bytes:
    """A baseline 8x8 mid-grey JPEG: every coefficient is 0, so one DC and one AC code suffice."""

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + b"\x01" * 64
    sof0 = struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00"
    dc = b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"
    ac = b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"
    sos = b"\x01\x01\x00\x00\x3f\x00"
    return (
        b"\xff\xd8"
        + segment(0xE0, app0)
        + segment(0xDB, dqt)
        + segment(0xC0, sof0)
        + segment(0xC4, dc)
        + segment(0xC4, ac)
        + segment(0xDA, sos)
        + b"\x3f"
        + b"\xff\xd9"
    )


def webp() -> bytes:
    """A 1x1 lossless WebP (the image browsers are feature-tested with)."""
    return base64.b64decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")


def wav(seconds: float = 0.01, rate: int = 8000) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(b"\x00\x00" * int(seconds * rate))
    return out.getvalue()


def mp3(frames: int = 3) -> bytes:
    """MPEG-1 Layer III frames of silence: 128 kbit/s, 44.1 kHz, 417 bytes each."""
    return (b"\xff\xfb\x90\x64" + b"\x00" * 413) * frames


def mp4() -> bytes:
    def box(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data) + 8) + kind + data

    return box(b"ftyp", b"isom\x00\x00\x02\x00isomiso2mp41") + box(b"free", b"") + box(b"mdat", b"\x00" * 16)


def pdf() -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
        b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 72 72]>>endobj\n"
        b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def docx(text: str = "Hello from a document") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "[Content_Types].xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                '<Default Extension="xml" ContentType="application/xml"/>'
                '<Override PartName="/word/document.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                "</Types>"
            ),
        )
        archive.writestr(
            "_rels/.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Target="word/document.xml" '
                'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"/>'
                "</Relationships>"
            ),
        )
        archive.writestr(
            "word/document.xml",
            (
                '<?xml version="1.0" encoding="UTF-8"?>'
                '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
                f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
            ),
        )
    return out.getvalue()


def csv() -> bytes:
    return b"city,country\nParis,France\nM\xc3\xbcnchen,Deutschland\n"


def json_file() -> bytes:
    return json.dumps({"city": "Paris", "tags": ["a", "b"]}).encode()


def txt() -> bytes:
    return "hello from a text file, with ünïcödé\n".encode()


def markdown() -> bytes:
    return b"# Title\n\nSome *notes*.\n"


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

# name, bytes, content type sent, agno list, category, mime_type agno reports, format
KINDS: list[tuple[str, bytes, str, str, str, str, str]] = [
    ("photo.png", png(), "image/png", "images", "image", "image/png", "png"),
    ("photo.jpg", jpeg(), "image/jpeg", "images", "image", "image/jpeg", "jpg"),
    ("pixel.webp", webp(), "image/webp", "images", "image", "image/webp", "webp"),
    ("voice.wav", wav(), "audio/wav", "audios", "audio", "audio/wav", "wav"),
    ("song.mp3", mp3(), "audio/mpeg", "audios", "audio", "audio/mpeg", "mp3"),
    ("clip.mp4", mp4(), "video/mp4", "videos", "video", "video/mp4", "mp4"),
    ("report.pdf", pdf(), "application/pdf", "files", "document", "application/pdf", "pdf"),
    ("cities.csv", csv(), "text/csv", "files", "document", "text/csv", "csv"),
    ("letter.docx", docx(), DOCX_TYPE, "files", "document", DOCX_TYPE, "docx"),
    ("data.json", json_file(), "application/json", "files", "document", "application/json", "json"),
    ("notes.txt", txt(), "text/plain", "files", "document", "text/plain", "txt"),
    ("README.md", markdown(), "application/octet-stream", "files", "document", "text/markdown", "md"),
]
