"""`{{ name }}` placeholders in scenario text, filled per run without evaluating any code.

A placeholder is a dotted path (`team.name`, `files[0].filename`) looked up in a plain
context; `faker.X` calls one of a fixed list of Faker providers, seeded per run so the same
request renders the same text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

PLACEHOLDER = re.compile(r"\{\{\s*(.*?)\s*\}\}")
_PATH_PART = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*")

FAKER_PROVIDERS: frozenset[str] = frozenset(
    {
        "address",
        "bs",
        "catch_phrase",
        "city",
        "color_name",
        "company",
        "country",
        "country_code",
        "currency_code",
        "date",
        "date_time",
        "day_of_week",
        "domain_name",
        "email",
        "file_name",
        "first_name",
        "iso8601",
        "job",
        "language_name",
        "last_name",
        "latitude",
        "longitude",
        "month_name",
        "name",
        "paragraph",
        "phone_number",
        "postcode",
        "pyint",
        "sentence",
        "street_address",
        "text",
        "time",
        "url",
        "user_name",
        "uuid4",
        "word",
        "year",
    }
)

FILE_KEYS: frozenset[str] = frozenset({"filename", "content_type", "category", "size", "size_human", "sha256"})

# What a placeholder may name: a key mapped to None is a leaf, to a set its allowed children.
NAMES: Mapping[str, Any] = {
    "message": None,
    "session_id": None,
    "user_id": None,
    "run_id": None,
    "team": frozenset({"id", "name", "description"}),
    "faker": FAKER_PROVIDERS,
    "files": FILE_KEYS,
    "file_count": None,
    "files_summary": None,
}


def human_size(size: int) -> str:
    """`69 B`, `2.1 KB`, `100.0 MB`: powers of 1024, one decimal above bytes."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            break
    return f"{value:.1f} {unit}"


def files_summary(files: tuple[dict[str, Any], ...]) -> str:
    """`{{ files_summary }}`: "" without files, else a sentence led by a space, for appending."""
    if not files:
        return ""
    shown = [f"{f['filename'] or 'a file without a name'} ({f['size_human']})" for f in files]
    if len(shown) == 1:
        return f" I received {shown[0]}."
    return f" I received {len(shown)} files: {', '.join(shown[:-1])} and {shown[-1]}."


def check(text: str) -> list[str]:
    """Problems with the placeholders in `text`, worded for a scenario author."""
    problems = []
    for match in PLACEHOLDER.finditer(text):
        expression = match.group(1)
        problem = _check_path(expression)
        if problem:
            problems.append(problem)
    return problems


def _check_path(expression: str) -> str | None:
    if not _PATH.fullmatch(expression):
        return f"placeholder {{{{ {expression} }}}} is not a name; expected one of {_known()}"
    parts = [name or int(index) for name, index in _PATH_PART.findall(expression)]
    root = str(parts[0])
    if root not in NAMES:
        return f"unknown placeholder {{{{ {expression} }}}}; expected one of {_known()}"
    children = NAMES[root]
    rest = [p for p in parts[1:] if not isinstance(p, int)]
    if children is None and rest:
        return f"{{{{ {expression} }}}}: {root} has no field {rest[0]!r}"
    if children is not None:
        if root == "files" and not rest:
            return None
        if len(rest) != 1 or rest[0] not in children:
            return f"{{{{ {expression} }}}}: expected {root}.<one of {', '.join(sorted(children))}>"
    return None


def _known() -> str:
    return (
        "message, session_id, user_id, run_id, team.name, team.id, team.description, faker.<provider>, files, "
        "files[N].<filename|content_type|category|size|size_human|sha256>, file_count, files_summary"
    )


def render(text: str, context: Mapping[str, Any]) -> str:
    """Fill every placeholder; the text has been checked at load time."""
    if "{{" not in text:
        return text
    return PLACEHOLDER.sub(lambda m: _to_text(_lookup(m.group(1), context)), text)


def render_value(value: Any, context: Mapping[str, Any]) -> Any:
    """`render` applied to every string inside lists and mappings."""
    if isinstance(value, str):
        return render(value, context)
    if isinstance(value, list):
        return [render_value(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render_value(v, context) for k, v in value.items()}
    return value


def _lookup(expression: str, context: Mapping[str, Any]) -> Any:
    value: Any = context
    for name, index in _PATH_PART.findall(expression):
        if index:
            position = int(index)
            value = value[position] if isinstance(value, list) and position < len(value) else ""
        elif name in FAKER_PROVIDERS and hasattr(value, "seed_instance"):
            value = getattr(value, name)()
        elif isinstance(value, Mapping):
            value = value.get(name, "")
        else:
            value = ""
    return value


def _to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_to_text(v.get("filename") if isinstance(v, Mapping) else v) for v in value)
    return str(value)
