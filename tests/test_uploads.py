"""Uploads against a real server: accepted as AgentOS accepts them, rejected as it rejects them,
echoed back intact (name, type, size, SHA-256) in the JSON answer and on TeamRunStarted."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver.settings import Settings
from tests import samples
from tests.conftest import CAPTURES, SHIPPED, parse_sse, run_server

RUNS = "/teams/research-team/runs"
QUICK = "/teams/quick-team/runs"


@pytest.fixture(scope="module")
def url(shipped_url: str) -> str:
    return shipped_url


@pytest.fixture(scope="module")
def small_url() -> Iterator[str]:
    """Tight limits: files up to 1000 bytes, 3 per request, 16 bytes echoed."""
    settings = Settings(scenarios=SHIPPED, speed=0, max_upload_size=1000, max_files=3, max_echo_size=16)
    with run_server(settings) as base:
        yield base


@pytest.fixture(scope="module")
def agentos_url() -> Iterator[str]:
    settings = Settings(scenarios=SHIPPED, speed=0, error_format="agentos", max_upload_size=1000)
    with run_server(settings) as base:
        yield base


def post(base: str, files: list[tuple[str, tuple[str, bytes, str]]], path: str = QUICK, **data: str) -> httpx.Response:
    form = {"message": "here are my files", **data}
    return httpx.post(base + path, data=form, files=files, timeout=30)


def run_json(base: str, files: list[tuple[str, tuple[str, bytes, str]]], **data: str) -> dict[str, Any]:
    response = post(base, files, stream="false", **data)
    assert response.status_code == 200, response.text
    return response.json()


def capture_json(name: str) -> Any:
    return json.loads((CAPTURES / f"{name}.body").read_bytes())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- every kind of file ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "sent_type", "listed", "category", "mime_type", "fmt"),
    samples.KINDS,
    ids=[k[0] for k in samples.KINDS],
)
def test_each_kind_is_classified_and_echoed_intact(
    url: str, name: str, data: bytes, sent_type: str, listed: str, category: str, mime_type: str, fmt: str
) -> None:
    body = run_json(url, [("files", (name, data, sent_type))])
    media = body["input"][listed]
    assert len(media) == 1 and set(body["input"]) == {"input_content", listed}
    item = media[0]
    assert item["mime_type"] == mime_type and item["format"] == fmt
    if listed == "files":
        assert item["filename"] == name
    content = item["content"]
    if mime_type.startswith("text/"):
        assert content == data.decode("utf-8")
    else:
        assert base64.b64decode(content) == data
    assert body["mock_uploads"] == [
        {"filename": name, "content_type": sent_type, "category": category, "size": len(data), "sha256": sha256(data)}
    ]
    assert name in body["content"] and "I received" in body["content"]


def test_many_files_in_one_request(url: str) -> None:
    files = [("files", (name, data, sent)) for name, data, sent, *_ in samples.KINDS]
    body = run_json(url, files)
    assert list(body["input"]) == ["input_content", "images", "videos", "audios", "files"]
    assert [len(body["input"][k]) for k in ("images", "videos", "audios", "files")] == [3, 1, 2, 6]
    assert [(e["filename"], e["size"], e["sha256"]) for e in body["mock_uploads"]] == [
        (name, len(data), sha256(data)) for name, data, *_ in samples.KINDS
    ]
    assert f"I received {len(samples.KINDS)} files: photo.png (" in body["content"]
    user = body["messages"][1]
    assert (
        user["role"] == "user" and user["images"] == body["input"]["images"] and user["files"] == body["input"]["files"]
    )


def test_the_stream_lists_uploads_on_team_run_started_only(url: str) -> None:
    data = samples.pdf()
    plain = parse_sse(httpx.post(url + QUICK, data={"message": "hi"}).content)
    response = post(url, [("files", ("report.pdf", data, "application/pdf"))])
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    frames = parse_sse(response.content)
    started = frames[0][1]
    assert frames[0][0] == "TeamRunStarted"
    assert list(started)[:-1] == list(plain[0][1]) and list(started)[-1] == "mock_uploads"
    assert started["mock_uploads"] == [
        {
            "filename": "report.pdf",
            "content_type": "application/pdf",
            "category": "document",
            "size": len(data),
            "sha256": sha256(data),
        }
    ]
    assert all("mock_uploads" not in frame for _, frame in frames[1:])
    assert frames[-1][0] == plain[-1][0] == "TeamRunCompleted"
    assert frames[-1][1]["content"].endswith(f"I received report.pdf ({len(data)} B).")


def test_no_files_no_echo(url: str) -> None:
    body = httpx.post(url + QUICK, data={"message": "hi", "stream": "false"}).json()
    assert "mock_uploads" not in body and body["input"] == {"input_content": "hi"}
    assert body["content"] == 'Hi! You said "hi". This is a quick reply from Quick Team.'


@pytest.mark.parametrize("team", ["quick-team", "research-team", "topic-team"])
def test_every_shipped_default_scenario_mentions_received_files(url: str, team: str) -> None:
    data = samples.docx()
    response = post(
        url, [("files", ("plan.docx", data, samples.DOCX_TYPE))], path=f"/teams/{team}/runs", stream="false"
    )
    assert len(data) < 1024 and f"I received plan.docx ({len(data)} B)." in response.json()["content"]


# -- golden: the real server's input echo ---------------------------------------------------


def _without_ids(media: dict[str, Any]) -> dict[str, Any]:
    return {
        key: [{k: v for k, v in item.items() if k != "id"} for item in value] if isinstance(value, list) else value
        for key, value in media.items()
    }


def _golden_files(name: str) -> tuple[list[tuple[str, tuple[str, bytes, str]]], dict[str, str]]:
    """The request of a capture, rebuilt from its header comment and the echoed bytes."""
    expected = capture_json(name)["input"]
    sent = {
        "image.png": "image/png",
        "doc.pdf": "application/pdf",
        "data.csv": "text/csv",
        "notes.txt": "text/plain",
        "data.json": "application/json",
        "readme.md": "application/octet-stream",
    }
    files = []
    for item in expected.get("images", []):
        files.append(("files", ("image.png", base64.b64decode(item["content"]), "image/png")))
    for item in expected.get("files", []):
        raw = item["content"].encode() if item["mime_type"].startswith("text/") else base64.b64decode(item["content"])
        files.append(("files", (item["filename"], raw, sent[item["filename"]])))
    extra = {}
    request = (CAPTURES / f"{name}.txt").read_text()
    if 'name="files_metadata"' in request:
        extra["files_metadata"] = request.split('name="files_metadata"\n\n', 1)[1].split("\n", 1)[0]
    return files, extra


@pytest.mark.parametrize(
    "name",
    [
        "e1_file_png",
        "e2_file_pdf",
        "e3_file_csv",
        "e4_file_txt",
        "e5_file_json",
        "e7_file_octet_md",
        "e11_files_multi_metadata",
    ],
)
def test_input_matches_the_real_server(url: str, name: str) -> None:
    files, extra = _golden_files(name)
    expected = capture_json(name)
    body = httpx.post(
        url + RUNS, data={"message": expected["input"]["input_content"], "stream": "false", **extra}, files=files
    ).json()
    assert _without_ids(body["input"]) == _without_ids(expected["input"])
    assert json.dumps(_without_ids(body["input"])) == json.dumps(_without_ids(expected["input"])), "key order"


# -- rejected and dropped -------------------------------------------------------------------


@pytest.mark.parametrize("stream", ["true", "false"])
@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("setup.exe", "application/x-msdownload"),
        ("tool.exe", "application/octet-stream"),
        ("noextension", "application/octet-stream"),
        ("notes.txt", "text/x-foo"),
        ("notes.txt", "text/plain; charset=utf-8"),
    ],
)
def test_unsupported_type_is_a_400_even_for_a_stream(
    url: str, agentos_url: str, stream: str, filename: str, content_type: str
) -> None:
    files = [("files", (filename, b"MZ\x90\x00", content_type))]
    response = post(url, files, stream=stream)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"detail": "Unsupported file type", "error_code": "BAD_REQUEST"}
    real = post(agentos_url, files, path=RUNS, stream=stream)
    assert real.status_code == 400 and real.content == (CAPTURES / "e6_file_exe.body").read_bytes()


def test_one_bad_file_rejects_the_request(agentos_url: str) -> None:
    files = [
        ("files", ("image.png", samples.png(), "image/png")),
        ("files", ("setup.exe", b"MZ" * 32, "application/x-msdownload")),
    ]
    response = post(agentos_url, files, path=RUNS, stream="true")
    assert response.status_code == 400 and response.content == (CAPTURES / "e12_files_png_then_exe.body").read_bytes()


def test_unknown_team_comes_before_the_file_check(url: str) -> None:
    response = post(url, [("files", ("setup.exe", b"MZ", "application/x-msdownload"))], path="/teams/nope/runs")
    assert response.status_code == 404


def test_an_empty_file_is_dropped_and_keeps_its_metadata_slot(url: str) -> None:
    files = [("files", ("empty.txt", b"", "text/plain")), ("files", ("notes.txt", b"hi\n", "text/plain"))]
    body = run_json(url, files, files_metadata='[{"n": 1}, {"n": 2}]')
    assert _without_ids(body["input"]) == {
        "input_content": "here are my files",
        "files": [
            {
                "mime_type": "text/plain",
                "filename": "notes.txt",
                "format": "txt",
                "content": "hi\n",
                "metadata": {"n": 2},
            },
        ],
    }
    assert body["mock_uploads"][0] == {
        "filename": "empty.txt",
        "content_type": "text/plain",
        "category": "document",
        "size": 0,
        "sha256": sha256(b""),
        "dropped": "empty file",
        "metadata": {"n": 1},
    }
    assert body["content"].endswith("I received notes.txt (3 B).")


def test_only_empty_files_is_like_no_files(url: str) -> None:
    body = run_json(url, [("files", ("empty.txt", b"", "text/plain"))])
    assert body["input"] == {"input_content": "here are my files"}  # e9_file_empty_txt
    assert body["content"] == 'Hi! You said "here are my files". This is a quick reply from Quick Team.'


def test_files_metadata_is_paired_by_position_and_tolerant(url: str) -> None:
    files = [
        ("files", ("a.png", samples.png(), "image/png")),
        ("files", ("b.txt", b"b", "text/plain")),
        ("files", ("c.txt", b"c", "text/plain")),
    ]
    body = run_json(url, files, files_metadata='[{"tag": "first"}, "not an object"]')
    assert body["input"]["images"][0]["metadata"] == {"tag": "first"}
    assert all("metadata" not in f for f in body["input"]["files"])
    body = run_json(url, files, files_metadata="{not json")
    assert "metadata" not in body["input"]["images"][0]


def test_files_metadata_over_8000_bytes_is_a_422(url: str, agentos_url: str) -> None:
    big = json.dumps([{"note": "x" * 8000}])
    response = post(agentos_url, [], path=RUNS, files_metadata=big)
    assert (
        response.status_code == 422 and response.content == (CAPTURES / "f9_files_metadata_too_big.body").read_bytes()
    )
    assert post(url, [], files_metadata=big).json()["error_code"] == "VALIDATION_ERROR"


# -- limits ---------------------------------------------------------------------------------


def test_a_file_over_the_limit_is_a_413_and_the_server_keeps_serving(small_url: str, agentos_url: str) -> None:
    big = os.urandom(5 * 1024 * 1024)
    response = post(small_url, [("files", ("big.png", big, "image/png"))])
    assert response.status_code == 413
    assert response.json() == {
        "detail": "File too large: 'big.png' is over the 1000 B limit (--max-upload-size)",
        "error_code": "PAYLOAD_TOO_LARGE",
    }
    assert post(small_url, [("files", ("ok.png", b"x" * 1000, "image/png"))], stream="false").status_code == 200
    real = post(agentos_url, [("files", ("big.png", big, "image/png"))], stream="true")
    assert real.status_code == 413 and real.json() == {
        "detail": "File too large: 'big.png' is over the 1000 B limit (--max-upload-size)"
    }
    assert post(agentos_url, [("files", ("ok.png", samples.png(), "image/png"))]).status_code == 200


def test_too_many_files_is_a_413(small_url: str) -> None:
    files = [("files", (f"{i}.txt", b"x", "text/plain")) for i in range(4)]
    response = post(small_url, files)
    assert response.status_code == 413 and "at most 3" in response.json()["detail"]
    assert post(small_url, files[:3], stream="false").status_code == 200


def test_the_content_echo_is_capped_but_size_and_digest_cover_the_whole_file(small_url: str) -> None:
    text = ("é" * 400).encode()  # 800 bytes; the cap (16) falls inside no character
    data = os.urandom(900)
    body = run_json(
        small_url, [("files", ("long.txt", text, "text/plain")), ("files", ("noise.png", data, "image/png"))]
    )
    assert body["input"]["files"][0]["content"] == "é" * 8
    assert base64.b64decode(body["input"]["images"][0]["content"]) == data[:16]
    assert body["mock_uploads"][0]["size"] == 800 and body["mock_uploads"][0]["sha256"] == sha256(text)
    assert body["mock_uploads"][0]["echoed_bytes"] == 16 and body["mock_uploads"][1]["echoed_bytes"] == 16


def test_a_cut_inside_a_character_keeps_whole_characters(small_url: str) -> None:
    text = ("a" + "é" * 100).encode()  # byte 16 is the first half of an é
    body = run_json(small_url, [("files", ("odd.txt", text, "text/plain"))])
    assert body["input"]["files"][0]["content"] == "a" + "é" * 7


# -- names are data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "filename",
    [
        "résumé 📄 – final.pdf",
        "../../../../etc/passwd.txt",
        "..\\..\\windows\\win.ini.txt",
        "/absolute/path/report.pdf",
        "x" * 300 + ".txt",
        'quote " and \n newline.txt',
    ],
)
def test_filenames_are_echoed_and_never_become_paths(url: str, filename: str) -> None:
    before = _entries()
    stem = filename.replace("\\", "/").rsplit("/", 1)[-1][:20]
    content_type = "application/pdf" if filename.endswith(".pdf") else "text/plain"
    body = run_json(url, [("files", (filename, b"%PDF-1.4 data", content_type))])
    echoed = body["mock_uploads"][0]["filename"]
    assert echoed == filename.replace('"', "%22").replace("\n", "%0A")  # as browsers, httpx escapes these two
    assert body["input"]["files"][0]["filename"] == echoed
    assert not {entry for entry in _entries() - before if stem[:8] in entry}, "nothing written under the client's name"


def test_an_empty_filename_is_kept(url: str) -> None:
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="stream"\r\n\r\nfalse\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename=""\r\n'
        "Content-Type: text/plain\r\n\r\nabc\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = httpx.post(
        url + QUICK, content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    item = response.json()["input"]["files"][0]
    assert (item["filename"], item["format"], item["content"]) == ("", "plain", "abc")
    assert "a file without a name (3 B)" in response.json()["content"]


def _entries() -> set[str]:
    return set(os.listdir(tempfile.gettempdir())) | set(os.listdir(Path.cwd()))


# -- malformed bodies -----------------------------------------------------------------------


def test_a_body_cut_off_before_its_closing_boundary_is_a_400(url: str) -> None:
    """AgentOS (python-multipart does not check the end) runs on without the cut file; the mock says so."""
    body = (
        b'--b\r\nContent-Disposition: form-data; name="message"\r\n\r\nhi\r\n'
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.txt"\r\n\r\ncut off'
    )
    response = httpx.post(url + QUICK, content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 400
    assert "ended before its closing boundary" in response.json()["detail"]
    whole = body + b"\r\n--b--\r\n"
    response = httpx.post(url + QUICK, content=whole, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code == 200 and "mock_uploads" in parse_sse(response.content)[0][1]


@pytest.mark.parametrize(
    "body",
    [
        b"garbage without any boundary",
        b"--b\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--b--\r\n",
    ],
)
def test_a_malformed_body_is_a_400_not_a_500(url: str, body: bytes) -> None:
    response = httpx.post(url + QUICK, content=body, headers={"content-type": "multipart/form-data; boundary=b"})
    assert response.status_code in (400, 422), response.text
    assert httpx.post(url + QUICK, data={"message": "still here"}).status_code == 200


def test_a_missing_boundary_is_a_400(url: str) -> None:
    response = httpx.post(url + QUICK, content=b"x", headers={"content-type": "multipart/form-data"})
    assert response.status_code == 400 and response.json()["error_code"] == "BAD_REQUEST"


def test_a_client_that_leaves_mid_upload_does_not_hurt_the_server(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(
            b"POST /teams/quick-team/runs HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
            b"Content-Length: 100000000\r\n\r\n"
            b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.png"\r\n\r\n' + b"\x00" * 100_000
        )
    assert httpx.post(url + QUICK, data={"message": "after"}).status_code == 200


def test_urlencoded_forms_still_work(url: str) -> None:
    body = httpx.post(url + QUICK, data={"message": "plain", "stream": "false"}).json()
    assert body["input"] == {"input_content": "plain"}


# -- the pure parts -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "filename", "category"),
    [
        ("image/png", "x.bin", "image"),
        ("application/octet-stream", "PHOTO.PNG", "image"),
        (None, "song.flac", "audio"),
        ("", "clip.mov", "video"),
        ("application/x-zip-compressed", "a.zip", "document"),
        ("application/xml", "a", "document"),
        ("text/x-foo", "notes.txt", None),  # the extension only helps an ambiguous type
        ("IMAGE/PNG", "a.png", None),  # compared as sent
        ("application/octet-stream", "archive.tar.gz", None),
        ("application/octet-stream", "", None),
        ("application/octet-stream", "file.", None),
    ],
)
def test_classify_follows_agno(content_type: str | None, filename: str, category: str | None) -> None:
    from mockserver.agentos.media import classify

    assert classify(content_type, filename) == category


def test_document_mime_type_and_format() -> None:
    from mockserver.agentos.media import document_mime_type, media_format

    assert document_mime_type("application/octet-stream", "readme.md") == "text/markdown"
    assert document_mime_type("application/x-zip", "a.zip") == "application/zip"
    assert media_format("text/plain", "") == "plain"
    assert media_format("image/png", "photo.JPEG") == "jpeg"


def test_human_sizes_and_the_summary() -> None:
    from mockserver.scenarios.templates import files_summary, human_size

    assert [human_size(n) for n in (0, 1023, 1024, 2_200_000, 3 * 1024**3)] == [
        "0 B",
        "1023 B",
        "1.0 KB",
        "2.1 MB",
        "3.0 GB",
    ]
    one = {"filename": "report.pdf", "size_human": "2.1 MB"}
    assert files_summary(()) == ""
    assert files_summary((one,)) == " I received report.pdf (2.1 MB)."
    assert (
        files_summary((one, one, one))
        == " I received 3 files: report.pdf (2.1 MB), report.pdf (2.1 MB) and report.pdf (2.1 MB)."
    )


def test_templates_know_the_file_names() -> None:
    from mockserver.scenarios.templates import check

    assert (
        check("{{ files }} {{ file_count }} {{ files_summary }} {{ files[0].size_human }} {{ files[1].sha256 }}") == []
    )
    assert check("{{ files[0].path }}") and check("{{ files_summary.x }}")


def test_size_options() -> None:
    from mockserver.cli import build_parser, settings_from

    settings = settings_from(
        build_parser().parse_args(
            ["serve", "--max-upload-size", "1.5GB", "--max-files", "7", "--max-echo-size", "64KB"]
        )
    )
    assert (settings.max_upload_size, settings.max_files, settings.max_echo_size) == (1536 * 1024**2, 7, 65536)
    assert settings_from(build_parser().parse_args(["serve"])).max_upload_size == 100 * 1024**2
    for bad in (["--max-upload-size", "lots"], ["--max-files", "0"], ["--max-upload-size", "inf"]):
        with pytest.raises(SystemExit):
            build_parser().parse_args(["serve", *bad])


def test_size_option_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.cli import build_parser, settings_from

    monkeypatch.setenv("MOCKSERVER_MAX_UPLOAD_SIZE", "2MB")
    assert settings_from(build_parser().parse_args(["serve"])).max_upload_size == 2 * 1024**2
