"""`python -m mockserver.healthcheck`: exit 0 when the server in this container answers /health.

The image's HEALTHCHECK runs it, with what the image already has (Python; no curl). It asks
the port in `MOCKSERVER_PORT` on the loopback address (or on `MOCKSERVER_HOST` when the server
binds one specific address).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request

TIMEOUT_SECONDS = 3.0
ANY_ADDRESS = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}


def health_url() -> str:
    host = os.environ.get("MOCKSERVER_HOST", "").strip()
    host = ANY_ADDRESS.get(host, host)
    if ":" in host:
        host = f"[{host}]"
    port = os.environ.get("MOCKSERVER_PORT", "").strip() or "7777"
    return f"http://{host}:{port}/health"


def main() -> int:
    url = health_url()
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            body = json.load(response)
    except (OSError, ValueError) as error:
        print(f"unhealthy: GET {url}: {error}", file=sys.stderr)
        return 1
    if not isinstance(body, dict) or body.get("status") != "ok":
        print(f"unhealthy: GET {url} answered {body!r}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
