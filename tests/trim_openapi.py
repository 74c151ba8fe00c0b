"""Regenerate `mockserver/http/agentos_openapi.json` from the real document: `python -m tests.trim_openapi`.

The source is the `j10_openapi` capture (a real AgentOS 3.1.10's whole `/openapi.json`); the
result keeps the operations the mock's routes answer and the schemas they reference.
"""

from __future__ import annotations

import json
from typing import Any

from mockserver.app import create_app
from mockserver.http.openapi import SHIPPED, trimmed
from mockserver.settings import Settings
from tests.conftest import CAPTURES
from tests.conftest import SHIPPED as SHIPPED_SCENARIOS


def expected() -> dict[str, Any]:
    real = json.loads((CAPTURES / "j10_openapi.body").read_bytes())
    return trimmed(real, create_app(Settings(scenarios=SHIPPED_SCENARIOS)).routes)


def main() -> None:
    SHIPPED.write_text(json.dumps(expected(), ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {SHIPPED}")


if __name__ == "__main__":
    main()
