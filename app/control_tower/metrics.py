"""/metrics in the Prometheus text format (0.0.4), written here without a client library.

Exposed: open cases by unit and priority, timers due and not yet fired (count and worst lateness, by
kind, from the timer index), open incidents by source, outbox notifications by status (pending, sent,
failed, suppressed), and a request-latency histogram.

Access: the numbers name no patient, but they describe the service's load and health, so they are
not public. With `METRICS_TOKEN` configured the scraper sends `Authorization: Bearer <token>`;
without one, only requests from the machine itself (loopback) are answered, so a default install
leaks nothing and a scraper on the same host or behind a local proxy still works.

Several worker processes: each keeps its own latency histogram in memory and labels every series
with `pid`, so each series stays monotonic and a scrape that reaches any one worker is still
correct for that worker; sum over `pid` in PromQL (`sum without (pid) (rate(...))`). A worker
that restarts starts a new series, which Prometheus handles as a counter reset. The database
figures are the same whichever worker answers.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Iterable

from flask import Flask, current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.cases.models import OPEN_CASE_STATES, Case
from app.instances.models import Incident, IncidentStatus, PendingTimer
from app.notifications.models import Notification, NotificationStatus

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
LOOPBACK = {"127.0.0.1", "::1"}


class LatencyHistogram:
    """Request durations per (method, endpoint) in this process; thread-safe."""

    def __init__(self, buckets: Iterable[float] = BUCKETS):
        self.buckets = tuple(buckets)
        self._lock = threading.Lock()
        self._series: dict[tuple[str, str], list] = {}  # key → [bucket counts..., sum, count]

    def observe(self, method: str, endpoint: str, seconds: float) -> None:
        with self._lock:
            series = self._series.setdefault((method, endpoint), [0] * len(self.buckets) + [0.0, 0])
            for i, bound in enumerate(self.buckets):
                if seconds <= bound:
                    series[i] += 1
            series[-2] += seconds
            series[-1] += 1

    def lines(self, name: str, pid: int) -> list[str]:
        with self._lock:
            snapshot = {key: list(values) for key, values in self._series.items()}
        out = [
            f"# HELP {name} Time to answer an HTTP request, per worker process (label pid).",
            f"# TYPE {name} histogram",
        ]
        for (method, endpoint), values in sorted(snapshot.items()):
            labels = f'method="{_escape(method)}",endpoint="{_escape(endpoint)}",pid="{pid}"'
            for bound, count in zip(self.buckets, values, strict=False):
                out.append(f'{name}_bucket{{{labels},le="{bound:g}"}} {count}')
            out.append(f'{name}_bucket{{{labels},le="+Inf"}} {values[-1]}')
            out.append(f"{name}_sum{{{labels}}} {values[-2]:.6f}")
            out.append(f"{name}_count{{{labels}}} {values[-1]}")
        return out


def install(state) -> None:
    """Blueprint setup (record_once): time every request of the app, not only the tower's."""
    app: Flask = state.app
    app.extensions["control_tower_latency"] = LatencyHistogram()

    @app.before_request
    def _start_timer():
        g.control_tower_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("control_tower_started", None)
        if started is not None:
            # The endpoint name, not the path: ids in paths would make a series per case.
            endpoint = request.endpoint or "unmatched"
            current_app.extensions["control_tower_latency"].observe(
                request.method, endpoint, time.perf_counter() - started
            )
        return response


def allowed(req) -> bool:
    """A configured bearer token, or (without one) a request from the loopback interface."""
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        sent = req.headers.get("Authorization", "")
        return sent.startswith("Bearer ") and hmac.compare_digest(sent[7:].encode(), str(token).encode())
    return req.remote_addr in LOOPBACK


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def render(session: Session) -> str:
    """The exposition text: database figures (same from any worker) and this worker's latency."""
    now = clock.now()
    lines = [
        "# HELP vardflode_open_cases Open cases by unit and priority (priority none: administrative cases).",
        "# TYPE vardflode_open_cases gauge",
    ]
    rows = session.execute(
        select(Case.unit_id, Case.priority, func.count(Case.id))
        .where(Case.state.in_(list(OPEN_CASE_STATES)))
        .group_by(Case.unit_id, Case.priority)
    )
    for unit_id, priority, count in sorted(rows, key=lambda r: (r[0], r[1] is None, r[1] or 0)):
        lines.append(
            f'vardflode_open_cases{{unit_id="{unit_id}",priority="{priority if priority is not None else "none"}"}} {count}'
        )

    lines += [
        "# HELP vardflode_timers_overdue Timers and deadlines due and not yet fired, by kind.",
        "# TYPE vardflode_timers_overdue gauge",
    ]
    overdue = {
        (kind.value if hasattr(kind, "value") else kind): (count, oldest)
        for kind, count, oldest in session.execute(
            select(PendingTimer.kind, func.count(PendingTimer.id), func.min(PendingTimer.due_at))
            .where(PendingTimer.due_at < now)
            .group_by(PendingTimer.kind)
        )
    }
    for kind in ("bpmn", "deadline"):
        lines.append(f'vardflode_timers_overdue{{kind="{kind}"}} {overdue.get(kind, (0, None))[0]}')
    lines += [
        "# HELP vardflode_timer_lateness_seconds How long the most overdue unfired timer of each kind has been due.",
        "# TYPE vardflode_timer_lateness_seconds gauge",
    ]
    for kind in ("bpmn", "deadline"):
        oldest = overdue.get(kind, (0, None))[1]
        lines.append(
            f'vardflode_timer_lateness_seconds{{kind="{kind}"}} {(now - oldest).total_seconds() if oldest else 0:.3f}'
        )

    lines += [
        "# HELP vardflode_incidents_open Open incidents (failed steps or timers), by source.",
        "# TYPE vardflode_incidents_open gauge",
    ]
    incidents = dict(
        session.execute(
            select(Incident.source, func.count(Incident.id))
            .where(Incident.status == IncidentStatus.OPEN)
            .group_by(Incident.source)
        ).all()
    )
    for source in sorted({"step", "timer", *incidents}):
        lines.append(f'vardflode_incidents_open{{source="{_escape(source)}"}} {incidents.get(source, 0)}')

    lines += [
        "# HELP vardflode_notifications Outbox messages (SMS, e-mail) by status; failed and suppressed ones never reached the recipient.",
        "# TYPE vardflode_notifications gauge",
    ]
    by_status = {
        str(status.value if hasattr(status, "value") else status): count
        for status, count in session.execute(
            select(Notification.status, func.count(Notification.id)).group_by(Notification.status)
        )
    }
    for status in sorted({s.value for s in NotificationStatus} | set(by_status)):
        lines.append(f'vardflode_notifications{{status="{_escape(status)}"}} {by_status.get(status, 0)}')

    histogram = current_app.extensions.get("control_tower_latency")
    if histogram is not None:
        lines += histogram.lines("vardflode_http_request_duration_seconds", os.getpid())
    return "\n".join(lines) + "\n"
