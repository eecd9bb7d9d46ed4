"""The worker loop: claim due instances one by one, fire each in its own transaction, sleep until
the next due time (woken at once on PostgreSQL by NOTIFY when a step adds a timer).

- A firing that loses a version conflict is retried at once.
- A firing that fails is rolled back; an incident records it and the instance's due timers are
  pushed back with a growing delay, so a broken instance never spins a worker.
- An incident retry that fails (even when rolled back) is counted and backs off the same way; an
  incident of an instance that ended (cancelled, completed) is closed, never retried.
- A worker killed mid-firing leaves an uncommitted transaction: the database drops it, the timer
  stays due and the next worker fires it; the effect (state, projection, outbox) happens once.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select, update

from app import clock
from app.audit.service import Actor
from app.db import Database
from app.engine import ProcessEngine
from app.errors import Conflict
from app.instances import service as instances
from app.instances.incidents import (
    RETRY_BACKOFF,
    RETRYABLE,
    RoutineFailed,
    close_open_incidents,
    open_incident,
    record_failed_retry,
    record_failure,
    resolve,
)
from app.instances.models import Incident, IncidentStatus, InstanceStatus, PendingTimer
from app.instances.persistence import TIMER_CHANNEL as CHANNEL
from app.timers import claims
from app.timers.housekeeping import Housekeeping

log = logging.getLogger("vardflode.timers")
CONFLICT_RETRIES = 3


@dataclass
class WorkerStats:
    fired: int = 0
    conflicts: int = 0
    failures: int = 0
    retried_incidents: int = 0
    firings: list[tuple[float, float]] = field(
        default_factory=list
    )  # (due, committed) epoch seconds, when recording


class TimerWorker:
    def __init__(
        self,
        database: Database,
        engine: ProcessEngine,
        *,
        name: str = "timer-worker",
        batch: int = 50,
        max_idle_s: float = 2.0,
        sync_clock=None,
        record_firings: bool = False,
        housekeeping: Housekeeping | None = None,
    ):
        self.database = database
        self.engine = engine
        self.actor = Actor.system(name)
        self.batch = batch
        self.max_idle_s = max_idle_s
        self.sync_clock = sync_clock  # the shared development clock's sync(), when there is one
        self.stats = WorkerStats()
        self.record_firings = record_firings
        self.stop_event = threading.Event()
        self._listener = None
        self.housekeeping = housekeeping  # periodic jobs (exports purge, staffing warnings), when given

    # --- one pass ----------------------------------------------------------------------------

    def run_once(self) -> int:
        """Fire everything due now (and retry due incidents); returns how many instances fired."""
        if self.sync_clock is not None:
            self.sync_clock()
        fired = 0
        incidents: list[int] | None = None
        while not self.stop_event.is_set():
            now = clock.now()
            with self.database.transaction() as session:
                candidates = claims.due_instances(session, now, self.batch)
                if incidents is None:  # the pass's first read also lists the incidents to retry
                    incidents = claims.incidents_due(session, now, self.batch)
            if not candidates:
                break
            progressed = 0
            for instance_id in candidates:
                if self.stop_event.is_set():
                    break
                if self._fire(instance_id):
                    progressed += 1
            fired += progressed
            if progressed == 0 or len(candidates) < self.batch:
                # Everything due is claimed by other workers right now, or everything due at `now`
                # was in this batch (what fell due since goes to the next pass, without a read more).
                break
        self._retry_incidents(incidents)
        if self.housekeeping is not None:
            self.housekeeping.run_due()
        return fired

    def _fire(self, instance_id: int) -> bool:
        for _attempt in range(CONFLICT_RETRIES):
            try:
                with self.database.transaction() as session:
                    now = clock.now()
                    if not claims.claim_instance(session, instance_id):
                        return False
                    # Re-checked inside the claim (another worker may have fired it meanwhile); the
                    # earliest due time is the one the firing answers.
                    due = claims.earliest_due(session, instance_id, now)
                    if due is None:
                        return False
                    fired = instances.fire_timers(
                        session, self.engine, instance_id=instance_id, actor=self.actor
                    )
                    if fired.status != InstanceStatus.COMPLETED:  # completing closed its incidents already
                        _resolve_timer_incidents(session, instance_id, self.actor)
                self.stats.fired += 1
                if self.record_firings and due is not None:
                    self.stats.firings.append((due.timestamp(), time.time()))
                return True
            except Conflict:
                self.stats.conflicts += 1  # someone changed the instance meanwhile: fire again at once
                continue
            except RoutineFailed as failure:
                self._record_failure(
                    instance_id, failure.error_type, failure.message, failure.element_id, stop=failure.stop
                )
                return True
            except Exception as exc:  # a bug must not spin the worker: record it and back off
                log.exception("firing instance %s failed", instance_id)
                self._record_failure(instance_id, type(exc).__name__, str(exc), None)
                return True
        return False

    def _record_failure(
        self, instance_id: int, error_type: str, message: str, element_id: str | None, *, stop: bool = False
    ) -> None:
        self.stats.failures += 1
        with self.database.transaction() as session:
            if stop:
                incident = record_failure(
                    session,
                    RoutineFailed(
                        message,
                        instance_id=instance_id,
                        element_id=element_id,
                        error_type=error_type,
                        stop=True,
                    ),
                )
            else:
                incident = open_incident(session, instance_id, element_id, None, error_type, message)
            incident.source = "timer"
            delay = RETRY_BACKOFF[min(incident.retries, len(RETRY_BACKOFF) - 1)]
            now = clock.now()
            session.execute(
                update(PendingTimer)
                .where(PendingTimer.instance_id == instance_id, PendingTimer.due_at < now)
                .values(due_at=now + delay, attempts=PendingTimer.attempts + 1)
            )

    def _retry_incidents(self, due: list[int] | None = None) -> None:
        if due is None:
            with self.database.transaction() as session:
                due = claims.incidents_due(session, clock.now(), self.batch)
        for incident_id in due:
            try:
                with self.database.transaction() as session:
                    incident = session.get(Incident, incident_id)
                    if (
                        incident is None
                        or incident.status != IncidentStatus.OPEN
                        or not claims.claim_instance(session, incident.instance_id)
                    ):
                        continue
                    if incident.instance.status not in RETRYABLE:
                        # Left open by an instance that ended: close it, never re-run its steps.
                        close_open_incidents(
                            session,
                            incident.instance_id,
                            self.actor,
                            reason=f"instance {incident.instance.status}",
                        )
                        continue
                    instances.retry_incident(session, self.engine, incident_id=incident_id, actor=self.actor)
                self.stats.retried_incidents += 1
            except Conflict:
                continue  # someone changed the instance meanwhile: the incident is retried next pass
            except RoutineFailed as failure:
                # Rolled back: count the attempt in a fresh transaction so the incident backs off.
                self._record_failed_retry(incident_id, failure.error_type, failure.message, stop=failure.stop)
            except Exception as exc:  # a bug must not spin the worker either
                log.exception("retrying incident %s failed", incident_id)
                self._record_failed_retry(incident_id, type(exc).__name__, str(exc))

    def _record_failed_retry(
        self, incident_id: int, error_type: str, message: str, *, stop: bool = False
    ) -> None:
        self.stats.failures += 1
        with self.database.transaction() as session:
            record_failed_retry(session, incident_id, error_type, message, stop=stop)

    # --- the loop ----------------------------------------------------------------------------

    def run_forever(self) -> None:
        """Fire due work, then sleep until the next due time, woken early by NOTIFY on PostgreSQL."""
        self._listen()
        try:
            while not self.stop_event.is_set():
                try:
                    self.run_once()
                    self._wait()
                except Exception:  # the database went away, a deploy is migrating...: keep going
                    log.exception("timer worker pass failed; retrying shortly")
                    self.stop_event.wait(self.max_idle_s)
        finally:
            self._unlisten()

    def stop(self) -> None:
        self.stop_event.set()

    def _wait(self) -> None:
        with self.database.transaction() as session:
            upcoming = claims.next_due(session)
        wait = self.max_idle_s
        if upcoming is not None:
            wait = max(0.0, min(wait, (upcoming - clock.now()).total_seconds() + 0.001))
        if wait <= 0:
            return
        if self._listener is not None:
            try:
                for _ in self._listener.notifies(timeout=wait, stop_after=1):
                    break
            except Exception:  # a dropped listener connection: fall back to polling
                log.warning("timer listener lost; polling")
                self._listener = None
        else:
            self.stop_event.wait(min(wait, 0.25))

    def _listen(self) -> None:
        if self.database.dialect != "postgresql":
            return
        import psycopg

        url = self.database.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._listener = psycopg.connect(url, autocommit=True)
        self._listener.execute(f"LISTEN {CHANNEL}")

    def _unlisten(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


_OPEN_TIMER_INCIDENTS = select(Incident).where(
    Incident.instance_id == bindparam("iid"),
    Incident.status == IncidentStatus.OPEN,
    Incident.source == "timer",
)


def _resolve_timer_incidents(session, instance_id: int, actor: Actor) -> None:
    """A firing that went through resolves the incidents earlier failed firings opened."""
    for incident in session.scalars(_OPEN_TIMER_INCIDENTS, {"iid": instance_id}).all():
        resolve(session, incident, actor)
