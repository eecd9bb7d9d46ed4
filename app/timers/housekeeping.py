"""Periodic jobs the timer workers run beside BPMN timers: purging expired exports (HA-images),
warning about opening hours without a chat responsible (HA-chat-staff) and starting a unit's first
day-close routine (OG-6.1-e, HA-close-day; each starts the next).

Every job is idempotent, so running it in several workers at once does no harm; each worker runs each
job at most once per its interval (by the product clock, so the development clock moves them too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app import clock
from app.db import Database
from app.engine import ProcessEngine

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[Session], object]


def default_jobs(engine: ProcessEngine | None = None) -> tuple[PeriodicJob, ...]:
    from app.audit.service import Actor
    from app.cases.day_close import ensure_day_close
    from app.exports.service import purge_expired
    from app.people.staffing import warn_upcoming_staffing_gaps

    jobs = (
        PeriodicJob("exports:purge_expired", timedelta(minutes=1), purge_expired),
        PeriodicJob("staffing:warn_gaps", timedelta(hours=1), warn_upcoming_staffing_gaps),
    )
    if engine is None:
        return jobs
    actor = Actor.system("day-close")
    return (
        *jobs,
        PeriodicJob(
            "day_close:ensure",
            timedelta(minutes=5),
            lambda session: ensure_day_close(session, engine, actor=actor),
        ),
    )


class Housekeeping:
    """Runs the jobs that are due, each in its own transaction; a failing job is logged and retried later."""

    def __init__(
        self,
        database: Database,
        jobs: tuple[PeriodicJob, ...] | None = None,
        *,
        engine: ProcessEngine | None = None,
    ):
        self.database = database
        self.jobs = default_jobs(engine) if jobs is None else jobs
        self._last_run: dict[str, datetime] = {}

    def run_due(self) -> list[str]:
        now = clock.now()
        ran = []
        for job in self.jobs:
            last = self._last_run.get(job.name)
            if last is not None and now - last < job.every:
                continue
            self._last_run[job.name] = now
            try:
                with self.database.transaction() as session:
                    job.run(session)
                ran.append(job.name)
            except Exception:  # one job's failure must not stop timers or the other jobs
                log.exception("periodic job %s failed", job.name)
        return ran
