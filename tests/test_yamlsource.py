"""The YAML source: libyaml's parser, when PyYAML has it, reads every file as PyYAML's own does,
with the same lines, limits and messages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mockserver.scenarios import yamlsource
from mockserver.scenarios.yamlsource import LineDict, LineList, SourceError, parse
from tests.conftest import ROOT, SHIPPED, TEST_SCENARIOS

needs_libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML built without libyaml")
FOLDERS = (SHIPPED, TEST_SCENARIOS, ROOT / "tests" / "fault_scenarios")
FILES = sorted(path for folder in FOLDERS for path in folder.glob("*.yaml"))


def with_lines(value: Any) -> Any:
    """`value` with the lines LineDict and LineList carry, so two parses compare line for line."""
    if isinstance(value, LineDict):
        return ("map", value.line, [(k, value.key_lines[k], with_lines(v)) for k, v in value.items()])
    if isinstance(value, LineList):
        return ("seq", value.line, value.item_lines, [with_lines(v) for v in value])
    return value


def parsed_by(loader: type, text: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    with monkeypatch.context() as patch:
        patch.setattr(yamlsource, "Loader", loader)
        return with_lines(parse(text))


@needs_libyaml
def test_libyaml_is_the_parser_when_pyyaml_has_it() -> None:
    assert yamlsource.Loader is yamlsource.LibyamlLoader


@needs_libyaml
@pytest.mark.parametrize("path", FILES, ids=[path.name for path in FILES])
def test_both_parsers_read_a_scenario_file_alike(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = path.read_text()
    assert parsed_by(yamlsource.LibyamlLoader, text, monkeypatch) == parsed_by(
        yamlsource.PythonLoader, text, monkeypatch
    )


@needs_libyaml
def test_anchors_a_bom_crlf_and_wide_characters_read_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "\ufeffa: &x [café, 😀, {k: v}]\r\nb: *x\r\nc: |\r\n  two\r\n  lines\r\nd: [1, 2.5, true, null, ~]\r\n"
    libyaml = parsed_by(yamlsource.LibyamlLoader, text, monkeypatch)
    assert libyaml == parsed_by(yamlsource.PythonLoader, text, monkeypatch)
    assert libyaml[2][1] == ("b", 2, ("seq", 1, [1, 1, 1], ["café", "😀", ("map", 1, [("k", 1, "v")])]))


@needs_libyaml
@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: 1\nb: [unclosed\n", 3, "not valid YAML: expected ',' or ']', but got '<stream end>'"),
        ("a: 1\nb: *nowhere\n", 2, "not valid YAML: found undefined alias 'nowhere'"),
        ("é: 1\nb: x\x07y\n", 2, "not valid YAML: control character #x0007 (special characters are not allowed)"),
    ],
)
def test_an_error_has_pyyamls_words_and_line_with_libyaml_too(text: str, line: int, message: str) -> None:
    with pytest.raises(SourceError) as raised:
        parse(text)
    assert (raised.value.line, str(raised.value)[: len(message)]) == (line, message)


def test_nesting_past_libyamls_own_limit_is_our_depth_problem() -> None:
    with pytest.raises(SourceError, match="nested more than 64 deep") as raised:
        parse("a: 1\nb: " + "[" * 1500 + "]" * 1500 + "\n")
    assert raised.value.line == 2
