"""`POST /__mock/verify`: did the UI send what the test expects, and how many times?

A matcher lists what a journal entry must have; `differences()` says field by field why an
entry is not a match ("message: 'hello' is not 'Hello'"), which is how the nearest misses of a
failed verification are explained, as respx and WireMock explain theirs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockserver.control import ControlError
from mockserver.control.journal import Entry, compile_regex, whole_number

EXACT_KEYS = ("team_id", "path", "method", "session_id", "user_id", "run_id", "status", "scenario", "fault", "ending")
MATCH_KEYS = (*EXACT_KEYS, "message", "file", "fields")
FILE_KEYS = ("name", "content_type", "category", "sha256")
COUNT_KEYS = ("exactly", "at_least", "at_most")
NEAREST = 3
"""Near misses shown when a verification fails."""


def _shown(value: Any) -> str:
    return "none" if value is None else repr(value)


@dataclass(frozen=True)
class TextMatch:
    """The message as exact text, a substring or a regular expression."""

    how: str
    text: str
    pattern: re.Pattern[str] | None = None

    def difference(self, name: str, value: str | None) -> str | None:
        given = value or ""
        if self.how == "exact" and given != self.text:
            return f"{name}: {_shown(value)} is not {self.text!r}"
        if self.how == "contains" and self.text not in given:
            return f"{name}: {_shown(value)} does not contain {self.text!r}"
        if self.pattern is not None and not self.pattern.search(given):
            return f"{name}: {_shown(value)} does not match /{self.text}/"
        return None


@dataclass(frozen=True)
class Matcher:
    exact: tuple[tuple[str, Any], ...] = ()
    message: TextMatch | None = None
    file: tuple[tuple[str, str], ...] = ()
    fields: tuple[tuple[str, str], ...] = ()

    def differences(self, entry: Entry) -> list[str]:
        found = []
        for key, wanted in self.exact:
            if entry.get(key) != wanted:
                found.append(f"{key}: {_shown(entry.get(key))} is not {wanted!r}")
        if self.message is not None:
            problem = self.message.difference("message", entry.get("message"))
            if problem:
                found.append(problem)
        if self.file:
            found.extend(self._file_difference(entry.get("files") or []))
        sent = entry.get("fields") or {}
        for name, wanted in self.fields:
            if name not in sent:
                found.append(f"fields.{name}: not sent, expected {wanted!r}")
            elif sent[name] != wanted:
                found.append(f"fields.{name}: {sent[name]!r} is not {wanted!r}")
        return found

    def _file_difference(self, files: list[dict[str, Any]]) -> list[str]:
        wanted = " and ".join(f"{key} {value!r}" for key, value in self.file)
        if any(all(f.get(key) == value for key, value in self.file) for f in files):
            return []
        if not files:
            return [f"files: none sent, expected one with {wanted}"]
        sent = "; ".join(", ".join(f"{key} {f.get(key)!r}" for key, _ in self.file) for f in files)
        return [f"files: none with {wanted} (sent: {sent})"]


def parse_matcher(doc: Any) -> Matcher:
    if doc is None:
        return Matcher()
    if not isinstance(doc, Mapping):
        raise ControlError(f'match: expected an object such as {{"team_id": "quick-team"}}, got {doc!r}')
    _known(doc, MATCH_KEYS, "match")
    exact = []
    for key in EXACT_KEYS:
        if key in doc:
            value = doc[key]
            if key == "status" and (not isinstance(value, int) or isinstance(value, bool)):
                raise ControlError(f"match.status: expected an HTTP status as a number, got {value!r}")
            if key != "status" and not isinstance(value, str):
                raise ControlError(f"match.{key}: expected a string, got {value!r}")
            exact.append((key, value))
    return Matcher(
        exact=tuple(exact),
        message=_text_match(doc["message"]) if "message" in doc else None,
        file=_file(doc["file"]) if "file" in doc else (),
        fields=_fields(doc["fields"]) if "fields" in doc else (),
    )


def _known(doc: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in allowed:
            raise ControlError(f"{where}: unknown key {key!r}; expected one of {', '.join(allowed)}")


def _text_match(value: Any) -> TextMatch:
    if isinstance(value, str):
        return TextMatch("exact", value)
    if isinstance(value, Mapping) and len(value) == 1:
        how, text = next(iter(value.items()))
        if how in ("exact", "contains") and isinstance(text, str):
            return TextMatch(how, text)
        if how == "regex":
            return TextMatch("regex", text, compile_regex("match.message.regex", text))
    raise ControlError(
        'match.message: expected a string (exact text), {"contains": TEXT} or {"regex": PATTERN}, got ' + repr(value)
    )


def _file(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, str):
        return (("name", value),)
    if not isinstance(value, Mapping) or not value:
        raise ControlError(f"match.file: expected a file name or an object with {', '.join(FILE_KEYS)}, got {value!r}")
    _known(value, FILE_KEYS, "match.file")
    for key, text in value.items():
        if not isinstance(text, str):
            raise ControlError(f"match.file.{key}: expected a string, got {text!r}")
    return tuple((key, value[key]) for key in FILE_KEYS if key in value)


def _fields(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise ControlError(f"match.fields: expected an object of field names and string values, got {value!r}")
    return tuple(value.items())


@dataclass(frozen=True)
class Count:
    exactly: int | None = None
    at_least: int | None = None
    at_most: int | None = None

    def holds(self, n: int) -> bool:
        if self.exactly is not None:
            return n == self.exactly
        return (self.at_least is None or n >= self.at_least) and (self.at_most is None or n <= self.at_most)

    def __str__(self) -> str:
        if self.exactly is not None:
            return f"exactly {self.exactly}"
        parts = [f"at least {self.at_least}" if self.at_least is not None else ""]
        parts.append(f"at most {self.at_most}" if self.at_most is not None else "")
        return " and ".join(p for p in parts if p)


AT_LEAST_ONE = Count(at_least=1)


def parse_count(doc: Any) -> Count:
    if doc is None:
        return AT_LEAST_ONE
    if isinstance(doc, int) and not isinstance(doc, bool):
        doc = {"exactly": doc}
    if not isinstance(doc, Mapping) or not doc:
        raise ControlError(f"count: expected an object with exactly, at_least or at_most, got {doc!r}")
    _known(doc, COUNT_KEYS, "count")
    values = {}
    for key, value in doc.items():
        if isinstance(value, str):
            raise ControlError(f"count.{key}: expected a whole number >= 0, got {value!r}")
        values[key] = whole_number(f"count.{key}", value)
    if "exactly" in values and len(values) > 1:
        raise ControlError("count: exactly cannot be combined with at_least or at_most")
    if values.get("at_least", 0) > values.get("at_most", values.get("at_least", 0)):
        raise ControlError(f"count: at_least {values['at_least']} is more than at_most {values['at_most']}")
    return Count(**values)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    matches: list[Entry]
    near_misses: list[tuple[Entry, list[str]]]
    count: Count

    def detail(self) -> str:
        found = len(self.matches)
        said = f"expected {self.count} matching request(s), found {found}"
        if self.ok:
            return said
        if self.near_misses and found < (self.count.exactly or self.count.at_least or 0):
            entry, why = self.near_misses[0]
            return f"{said}; nearest miss #{entry['id']}: {'; '.join(why)}"
        if not self.near_misses and not found:
            return f"{said}; the journal has no requests"
        return said


def verify(entries: list[Entry], matcher: Matcher, count: Count) -> Verdict:
    """Which entries match, whether their number fits `count`, and (failing) the nearest misses."""
    matches, misses = [], []
    for entry in entries:
        why = matcher.differences(entry)
        if why:
            misses.append((entry, why))
        else:
            matches.append(entry)
    ok = count.holds(len(matches))
    nearest: list[tuple[Entry, list[str]]] = []
    if not ok:
        # Fewest differences first; among equals, the latest request, the one a test most likely meant.
        nearest = sorted(misses, key=lambda miss: (len(miss[1]), -miss[0]["id"]))[:NEAREST]
    return Verdict(ok, matches, nearest, count)
