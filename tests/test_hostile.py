"""Hostile or broken scenario files: each is one `file:line` problem naming what is wrong, never a
traceback, a hang or a blown stack, and the other files still load."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from mockserver.scenarios import yamlsource
from mockserver.scenarios.limits import Limits
from mockserver.scenarios.loader import ScenarioError, load_directory, load_text
from mockserver.settings import Settings
from tests.conftest import parse_sse, run_server

HEAD = "version: 1\nteam:\n  id: {team}\nscenarios:\n  - name: s\n    events:\n      - text: hi\n"
LAST_LINE = HEAD.count("\n")


def alias_bomb(team: str) -> str:
    """Ten lists of ten aliases, six levels deep: 588 bytes that expand to ten million strings."""
    lines = [f"version: 1\nteam: {{id: {team}}}\na: &a [" + ", ".join(['"lol"'] * 10) + "]"]
    for previous, name in zip("abcdef", "bcdefg", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{previous}"] * 10) + "]")
    lines.append("scenarios:\n  - name: s\n    events:\n      - tool: x\n        result: *g\n")
    return "\n".join(lines)


def alias_chain(team: str) -> str:
    """Each list holds the one before: 200 levels deep once expanded, 2 as written."""
    chain = "x0: &x0 [1]\n" + "".join(f"x{i}: &x{i} [*x{i - 1}]\n" for i in range(1, 200))
    return HEAD.format(team=team) + chain


# (name, the file's bytes, the line of its problem, what the problem says)
HOSTILE: list[tuple[str, bytes, int, str]] = [
    (
        "nested",
        (HEAD + "x: " + "[" * 3000 + "]" * 3000 + "\n").format(team="nested").encode(),
        LAST_LINE + 1,
        "nested more than 64 deep; expected at most 64 levels (the depth limit)",
    ),
    (
        "utf8",
        HEAD.format(team="utf8").encode() + b"      - text: caf\xff\n",
        LAST_LINE + 1,
        "byte 0xff at column 18 is not UTF-8 (invalid start byte); expected a UTF-8 text file",
    ),
    (
        "bomb",
        alias_bomb("bomb").encode(),
        7,
        "more than 100000 values in the file, an alias counting as all it repeats; "
        "expected at most 100000 (the node limit)",
    ),
    ("chain", alias_chain("chain").encode(), LAST_LINE + 63, "nested more than 64 deep"),
    (
        "big",
        (HEAD.format(team="big") + "      - text: more words here\n" * 40000).encode(),
        1,
        "expected at most 1,048,576 (1.0 MB, the file-size limit)",
    ),
    (
        "control",
        (HEAD.format(team="control") + "      - text: a\x00b\n").encode(),
        LAST_LINE + 1,
        "control character #x0000",
    ),
    (
        "key",
        (HEAD.format(team="key") + "? [a, b]\n: c\n").encode(),
        LAST_LINE + 1,
        "a list as a mapping key; expected a string or a number",
    ),
    ("cycle", (HEAD.format(team="cycle") + "x: &c [*c]\n").encode(), LAST_LINE + 1, "recursive"),
    (
        "nan",
        (HEAD.format(team="nan") + "      - tool: t\n        args: {x: .nan}\n").encode(),
        LAST_LINE + 2,
        ".nan is a number JSON cannot carry; expected a finite number",
    ),
    ("inf", (HEAD.format(team="inf") + "x: -.inf\n").encode(), LAST_LINE + 1, "-.inf is a number JSON cannot carry"),
    (
        "surrogate",
        (HEAD.format(team="surrogate") + '      - text: "half \\ud83d of a pair"\n').encode(),
        LAST_LINE + 1,
        "text with half of a surrogate pair (\\ud800-\\udfff), which UTF-8 cannot encode",
    ),
]


# The parsers PyYAML may have: libyaml's when it was built with it, else its pure-Python one.
PARSERS = ["python", *(["libyaml"] if yaml.__with_libyaml__ else [])]


@pytest.mark.parametrize("parser", PARSERS)
@pytest.mark.parametrize(("name", "data", "line", "expected"), HOSTILE, ids=[case[0] for case in HOSTILE])
def test_a_hostile_file_is_one_problem_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, data: bytes, line: int, expected: str, parser: str
) -> None:
    if parser == "python":
        monkeypatch.setattr(yamlsource, "Loader", yamlsource.PythonLoader)
    (tmp_path / f"{name}.yaml").write_bytes(data)
    (tmp_path / "good.yaml").write_text(HEAD.format(team="good"))
    with pytest.raises(ScenarioError) as raised:
        load_directory(tmp_path)
    problems = [str(p) for p in raised.value.problems]
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path / f'{name}.yaml'}:{line}: "), problems
    assert expected in problems[0]


def test_validate_lists_one_problem_per_hostile_file_and_no_traceback(tmp_path: Path) -> None:
    for name, data, _, _ in HOSTILE:
        (tmp_path / f"{name}.yaml").write_bytes(data)
    result = subprocess.run(
        [sys.executable, "-m", "mockserver", "validate", str(tmp_path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    listed = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert sorted(p.split(":", 1)[0] for p in listed) == sorted(str(tmp_path / f"{name}.yaml") for name, *_ in HOSTILE)


def test_the_limits_can_be_set() -> None:
    text = (
        HEAD.format(team="t")
        + "      - tool: x\n        result: [[[&x long text]]]\n      - tool: y\n        result: [*x, *x, *x]\n"
    )
    load_text(text)
    with pytest.raises(ScenarioError, match=r"^<string>:9: lists and mappings nested more than 7 deep"):
        load_text(text, limits=Limits(depth=7))
    with pytest.raises(
        ScenarioError, match=r"^<string>:5: more than 10 values .* expected at most 10 \(the node limit\)"
    ):
        load_text(text, limits=Limits(nodes=10))
    with pytest.raises(ScenarioError, match=r"^<string>:1: the file is 173 bytes; expected at most 100 "):
        load_text(text, limits=Limits(file_size=100))
    with pytest.raises(ScenarioError, match=r"^<string>:11: aliases expand the text past 80 B"):
        load_text(text, limits=Limits(expanded_size=80))


def test_a_file_that_breaks_a_reader_is_a_problem_of_that_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mockserver.scenarios import loader

    def broken(reader: object, document: object) -> None:
        raise RuntimeError("a reader bug")

    (tmp_path / "a.yaml").write_text(HEAD.format(team="a"))
    monkeypatch.setattr(loader, "read_file", broken)
    with pytest.raises(ScenarioError) as raised:
        load_directory(tmp_path)
    assert [str(p) for p in raised.value.problems] == [
        f"{tmp_path / 'a.yaml'}:1: the file could not be read (RuntimeError: a reader bug); expected a scenario file"
    ]


def test_a_tool_result_of_json_too_deep_to_parse_plays_in_every_protocol(tmp_path: Path) -> None:
    # A text result that looks like JSON is parsed by the AG-UI and AI SDK encoders, as agno's do.
    deep = "[" * 3000 + "]" * 3000
    (tmp_path / "deep.yaml").write_text(HEAD.format(team="deep") + f'      - tool: x\n        result: "{deep}"\n')
    user = {"id": "u1", "role": "user", "parts": [{"type": "text", "text": "hi"}]}
    agui = {"threadId": "t", "runId": "r", "messages": [{"id": "m1", "role": "user", "content": "hi"}]}
    with run_server(Settings(scenarios=tmp_path, speed=0)) as url:
        answers = [
            httpx.post(f"{url}/teams/deep/runs", data={"message": "hi"}, timeout=10),
            httpx.post(f"{url}/teams/deep/agui", json=agui, timeout=10),
            httpx.post(f"{url}/teams/deep/chat", json={"id": "c", "messages": [user]}, timeout=10),
        ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert all("[[[[" in answer.text for answer in answers)
    assert parse_sse(answers[0].content)[-1][0] == "TeamRunCompleted"
    assert json.loads(answers[1].text.strip().rsplit("data: ", 1)[-1])["type"] == "RUN_FINISHED"
    assert answers[2].text.strip().endswith("data: [DONE]")
