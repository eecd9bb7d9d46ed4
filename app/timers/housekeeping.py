"""Periodic jobs the timer workers run beside BPMN timers: purging expired exports (HA-images) and
warning about opening hours without a chat responsible (HA-chat-staff).

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

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[Session], object]


def default_jobs() -> tuple[PeriodicJob, ...]:
    from app.exports.service import purge_expired
    from app.people.staffing import warn_upcoming_staffing_gaps

    return (
        PeriodicJob("exports:purge_expired", timedelta(minutes=1), purge_expired),
        PeriodicJob("staffing:warn_gaps", timedelta(hours=1), warn_upcoming_staffing_gaps),
    )


class Housekeeping:
    """Runs the jobs that are due, each in its own transaction; a failing job is logged and retried later."""

    def __init__(self, database: Database, jobs: tuple[PeriodicJob, ...] | None = None):
        self.database = database
        self.jobs = default_jobs() if jobs is None else jobs
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
