"""The dashboard: `GET /__mock/ui` serves a page, shipped in the package, that reads the control routes.

The page and its few static files need no key (they hold no data; auth leaves `/__mock/ui`
open); everything it shows comes from the control routes, which take the key as usual. The
one route added for it, `GET /__mock/scenarios`, lists every team with its scenarios, their
`match`, the fault rules that cover it and where each was written (file:line).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mockserver.http.errors import ApiError
from mockserver.http.journaling import space_of
from mockserver.scenarios.faultrules import FaultRule
from mockserver.scenarios.model import Scenario, Team
from mockserver.state import AppState

DASHBOARD = "/__mock/ui"
ASSETS: dict[str, str] = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "markdown.js": "text/javascript; charset=utf-8",
    "timeline.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
"""Every file the page is made of, with its type: nothing else in the package is served."""
NO_CACHE = {"Cache-Control": "no-cache"}


def asset(name: str) -> bytes:
    from importlib import resources  # on the page's first request: ~3 ms of imports that `serve` need not pay at start

    return resources.files("mockserver.http").joinpath("dashboard").joinpath(name).read_bytes()


async def page(request: Request) -> Response:
    return Response(asset("index.html"), media_type=ASSETS["index.html"], headers=NO_CACHE)


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    if name not in ASSETS:
        raise ApiError(404, f"no dashboard file {name!r}; the page is made of {', '.join(ASSETS)}")
    return Response(asset(name), media_type=ASSETS[name], headers=NO_CACHE)


async def list_scenarios(request: Request) -> Response:
    state: AppState = request.app.state.mock
    space = space_of(request)
    teams = state.teams(space)
    rules = [rule for team in teams.values() for rule in team.faults]
    listed = sorted(teams.values(), key=lambda team: bool(team.faults))
    return JSONResponse(
        {
            "teams": [_team(team, rules, team.id in space.teams) for team in listed],
            "overrides": {team_id: list(o.names) for team_id, o in space.overrides.items()},
            "speed": state.settings.speed,
        }
    )


def _team(team: Team, rules: list[FaultRule], added: bool) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "file": team.source,
        "added": added,
        "members": [{"id": m.id, "name": m.name, "role": m.role} for m in team.members],
        "sequence": list(team.sequence),
        "scenarios": [_scenario(s) for s in team.scenarios],
        "faults": [_fault(rule) for rule in rules if rule.covers(team.id)],
    }


def _scenario(scenario: Scenario) -> dict[str, Any]:
    return {
        "name": scenario.name,
        "match": scenario.match.pattern if scenario.match is not None else None,
        "where": scenario.where,
        "steps": len(scenario.steps),
    }


def _fault(rule: FaultRule) -> dict[str, Any]:
    cut = rule.cut
    return {
        "kind": rule.kind,
        "teams": list(rule.teams),
        "match": rule.match.pattern if rule.match is not None else None,
        "after_events": cut.events,
        "after_seconds": cut.seconds,
        "times": rule.times,
        "per": rule.per,
        "probability": rule.probability,
        "where": rule.where,
    }


routes = [
    Route(DASHBOARD, page, methods=["GET"]),
    Route(DASHBOARD + "/{name}", static, methods=["GET"]),
    Route("/__mock/scenarios", list_scenarios, methods=["GET"]),
]
