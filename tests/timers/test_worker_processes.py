"""Timer workers as separate processes: shared due timers, and a worker killed mid-firing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.instances.models import PendingTimer
from app.timers.worker import TimerWorker
from tests.conftest import ROOT
from tests.timers.conftest import install_operator, start_timed_instances


def _spawn(url: str, mode: str, marker=None) -> subprocess.Popen:
    args = [sys.executable, "-m", "tests.timers.worker_process", url, mode] + (
        [str(marker)] if marker else []
    )
    return subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _result(process: subprocess.Popen) -> dict:
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _actions(session, action: str) -> list[str]:
    return list(session.scalars(select(AuditEvent.subject_id).where(AuditEvent.action == action)))


@pytest.mark.postgres
def test_two_worker_processes_on_postgresql_fire_each_due_timer_exactly_once(pg_app, real_time_past):
    database, engine = pg_app.extensions["database"], pg_app.extensions["engine"]
    install_operator(engine)
    ids = start_timed_instances(database, engine, 40)
    workers = [_spawn(pg_app.config["DATABASE_URL"], "fast") for _ in range(2)]
    results = [_result(w) for w in workers]
    print("fired per worker:", [r["fired"] for r in results])
    assert sum(r["fired"] for r in results) == len(ids)
    with database.transaction() as session:
        fired = _actions(session, "instance:timers_fired")
        assert sorted(fired) == sorted(str(i) for i in ids)  # every instance once, none twice
        assert len(_actions(session, "test:timed_service_called")) == len(ids)
        assert session.scalar(select(func.count()).select_from(PendingTimer)) == 0


def test_a_worker_killed_mid_firing_leaves_the_timer_due_and_the_effect_happens_once(
    app, real_time_past, clock, tmp_path
):
    database, engine = app.extensions["database"], app.extensions["engine"]
    install_operator(engine)
    [instance_id] = start_timed_instances(database, engine, 1)
    marker = tmp_path / "firing"
    worker = _spawn(app.config["DATABASE_URL"], "slow", marker)
    deadline = time.monotonic() + 60
    while not marker.exists():
        assert worker.poll() is None, worker.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the worker never started firing"
        time.sleep(0.05)
    worker.send_signal(signal.SIGKILL)  # mid-firing: the transaction is open, nothing committed
    worker.communicate(timeout=30)  # reaps it and closes its pipes

    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(PendingTimer)) == 1
        assert _actions(session, "instance:timers_fired") == []
    clock.set(datetime.now(UTC))
    assert TimerWorker(database, engine, name="survivor").run_once() == 1
    with database.transaction() as session:
        assert _actions(session, "instance:timers_fired") == [str(instance_id)]
        assert len(_actions(session, "test:timed_service_called")) == 1
        assert session.scalar(select(func.count()).select_from(PendingTimer)) == 0
