"""`/openapi.json`, `/docs` and `/redoc`: the AgentOS routes the mock serves, with the real schemas.

`agentos_openapi.json` is the real AgentOS 3.1.10 document (`j10_openapi` capture) cut down to the
operations some route of the mock answers, with the schemas they reference; `tests/trim_openapi.py`
makes it and a test keeps it in step with the routes. Routes of the mock's own (no AgentOS
operation matches them) are added with the summary of their endpoint, tagged `mockserver`.
"""

from __future__ import annotations

import copy
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mockserver.http.routing import route

SHIPPED = Path(__file__).with_name("agentos_openapi.json")
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
DOC_PATHS = frozenset({"/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect"})

# FastAPI's pages, as AgentOS 3.1.10 serves them (`r_docs`, `r_redoc` captures).
SWAGGER_PAGE = """
    <!DOCTYPE html>
    <html>
    <head>
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <link type="text/css" rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
    <link rel="shortcut icon" href="https://fastapi.tiangolo.com/img/favicon.png">
    <title>Agno AgentOS - Swagger UI</title>
    </head>
    <body>
    <div id="swagger-ui">
    </div>
    <script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
    <!-- `SwaggerUIBundle` is now available on the page -->
    <script>
    const ui = SwaggerUIBundle({
        url: '/openapi.json',
    "dom_id": "#swagger-ui",
"layout": "BaseLayout",
"deepLinking": true,
"showExtensions": true,
"showCommonExtensions": true,
oauth2RedirectUrl: window.location.origin + '/docs/oauth2-redirect',
    presets: [
        SwaggerUIBundle.presets.apis,
        SwaggerUIBundle.SwaggerUIStandalonePreset
        ],
    })
    </script>
    </body>
    </html>
    """
# `<blank>` stands for the page's whitespace-only lines, which the source must not hold.
REDOC_PAGE = """
    <!DOCTYPE html>
    <html>
    <head>
    <title>Agno AgentOS - ReDoc</title>
    <!-- needed for adaptive design -->
    <meta charset="utf-8"/>
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <blank>
    <link href="https://fonts.googleapis.com/css?family=Montserrat:300,400,700|Roboto:300,400,700" rel="stylesheet">
    <blank>
    <link rel="shortcut icon" href="https://fastapi.tiangolo.com/img/favicon.png">
    <!--
    ReDoc doesn't change outer page styles
    -->
    <style>
      body {
        margin: 0;
        padding: 0;
      }
    </style>
    </head>
    <body>
    <noscript>
        ReDoc requires Javascript to function. Please enable it to browse the documentation.
    </noscript>
    <redoc spec-url="/openapi.json"></redoc>
    <script src="https://cdn.jsdelivr.net/npm/redoc@2/bundles/redoc.standalone.js"> </script>
    </body>
    </html>
    """.replace("<blank>", "")


def _sample(path: str) -> str:
    """A concrete path for an OpenAPI template, to try Starlette's routes on."""
    return re.sub(r"\{[^}]+\}", "x", path)


def served_operations(document: dict[str, Any], routes: list[BaseRoute]) -> dict[str, set[str]]:
    """The operations of `document` (path -> methods) that one of `routes` answers."""
    served: dict[str, set[str]] = {}
    for path, item in document["paths"].items():
        for method in (m for m in item if m in METHODS):
            for candidate in routes:
                if not isinstance(candidate, Route) or method.upper() not in (candidate.methods or ()):
                    continue
                if candidate.path_regex.match(_sample(path)):
                    served.setdefault(path, set()).add(method)
                    break
    return served


def trimmed(document: dict[str, Any], routes: list[BaseRoute]) -> dict[str, Any]:
    """`document` with only the operations `routes` serve and the schemas those reference."""
    served = served_operations(document, routes)
    paths = {
        path: {key: value for key, value in item.items() if key not in METHODS or key in served[path]}
        for path, item in document["paths"].items()
        if path in served
    }
    schemas = document.get("components", {}).get("schemas", {})
    wanted: set[str] = set()
    pending = _refs(paths)
    while pending:
        name = pending.pop()
        if name in wanted or name not in schemas:
            continue
        wanted.add(name)
        pending |= _refs(schemas[name])
    components = dict(document.get("components", {}))
    components["schemas"] = {name: schemas[name] for name in schemas if name in wanted}
    return {**document, "paths": paths, "components": components}


def _refs(node: Any) -> set[str]:
    text = json.dumps(node)
    return set(re.findall(r'"#/components/schemas/([^"]+)"', text))


@cache
def _shipped() -> dict[str, Any]:
    with SHIPPED.open(encoding="utf-8") as file:
        document: dict[str, Any] = json.load(file)
    return document


def openapi_document(routes: list[BaseRoute]) -> dict[str, Any]:
    """The shipped AgentOS operations plus a bare entry for every route of the mock's own."""
    document = copy.deepcopy(_shipped())
    real = served_operations(document, routes)
    for candidate in routes:
        if not isinstance(candidate, Route) or candidate.path in DOC_PATHS or not candidate.include_in_schema:
            continue
        methods = {m.lower() for m in candidate.methods or ()} - {"head"}
        path = re.sub(r"\{(\w+)(:\w+)?\}", r"{\1}", candidate.path)
        if any(_covers(candidate, real_path, method) for real_path in real for method in methods):
            continue
        summary = (candidate.endpoint.__doc__ or candidate.name).strip().splitlines()[0]
        for method in sorted(methods):
            document["paths"].setdefault(path, {})[method] = {
                "tags": ["mockserver"],
                "summary": summary,
                "responses": {"200": {"description": "Successful Response"}},
            }
    return document


def _covers(candidate: Route, real_path: str, method: str) -> bool:
    return bool(candidate.path_regex.match(_sample(real_path))) and method in _shipped()["paths"].get(real_path, {})


async def openapi_json(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.routes))


async def docs(request: Request) -> Response:
    return HTMLResponse(SWAGGER_PAGE)


async def redoc(request: Request) -> Response:
    return HTMLResponse(REDOC_PAGE)


routes = [
    route("/openapi.json", openapi_json, methods=["GET"]),
    route("/docs", docs, methods=["GET"]),
    route("/redoc", redoc, methods=["GET"]),
]
