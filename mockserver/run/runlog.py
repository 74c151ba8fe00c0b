"""One log line per run: team, scenario, session, status, events sent, duration, how it ended."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mockserver.run.pipeline import RunRecord

logger = logging.getLogger("mockserver.runs")


def log_run(run: RunRecord) -> None:
    context = run.context
    fields = {
        "team": context.team.id,
        "scenario": context.scenario.name,
        "session": context.session_id,
        "run": context.run_id,
        "stream": run.stream,
        "status": run.status,
        "events": len(run.sent),
        "duration_ms": round(run.duration * 1000),
        "ended": run.ending,
    }
    if run.delivery.fault is not None:
        fields["fault"] = run.delivery.fault
    fields["late_ms"] = round(run.lateness * 1000, 1)
    logger.info("run", extra={"fields": fields})
