"""Issue 3's benchmark: timers fire on time on any number of workers (PostgreSQL, 2 processes).

timer_lateness_p99_s  1,000 timers due spread over 30 s: p99 of (commit time of the firing − due)
timers_fired_per_s    1,000 timers all due at once: how fast 2 workers drain them (saturation)
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from app.audit.service import Actor
from app.instances import service as instances
from app.instances.models import PendingTimer
from app.process_models.service import deploy_file
from bench.setup import BENCH_DIR, make_app

ROOT = BENCH_DIR.parent
COUNT = 1_000
SPREAD_S = 30.0


def _start(app, dues: list[datetime]) -> None:
    database, engine = app.extensions["database"], app.extensions["engine"]
    actor = Actor.system("bench")
    for offset in range(0, len(dues), 100):
        with database.transaction() as session:
            for due in dues[offset : offset + 100]:
                instances.start_instance(
                    session,
                    engine,
                    process_id="timer_bench",
                    actor=actor,
                    unit_id=None,
                    data={"due_at": due.isoformat()},
                )


def _workers(url: str, outdir: Path, count: int = 2) -> list[tuple[subprocess.Popen, Path]]:
    procs = []
    for n in range(count):
        out = outdir / f"worker{n}.json"
        procs.append(
            (subprocess.Popen([sys.executable, "-m", "bench.timer_worker", url, str(out)], cwd=ROOT), out)
        )
    return procs


def _stop(procs) -> list[dict]:
    results = []
    for proc, out in procs:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        results.append(json.loads(out.read_text(encoding="utf-8")))
    return results


def _remaining(app) -> int:
    with app.extensions["database"].transaction() as session:
        return session.scalar(select(func.count()).select_from(PendingTimer))


def _wait_until_drained(app, deadline_s: float) -> float:
    started = time.monotonic()
    while _remaining(app) and time.monotonic() - started < deadline_s:
        time.sleep(0.05)
    return time.monotonic() - started


def run(pg_url: str | None) -> dict:
    if not pg_url:
        return {
            "timer_lateness_p99_s": None,
            "timers_fired_per_s": None,
            "timers_note": "needs PostgreSQL (TEST_DATABASE_URL)",
        }
    app = make_app(pg_url)
    with app.extensions["database"].transaction() as session:
        deploy_file(
            session,
            app.extensions["engine"],
            path=BENCH_DIR / "timer_bench.bpmn",
            processes_dir=BENCH_DIR,
            forms_dir=BENCH_DIR,
            actor=Actor(label="bench"),
        )
    outdir = Path(tempfile.mkdtemp(prefix="vardflode-timers-"))

    # Lateness: timers due over 30 s, created before the first is due, two workers already waiting.
    procs = _workers(pg_url, outdir)
    first_due = datetime.now(UTC) + timedelta(seconds=20)
    _start(app, [first_due + timedelta(seconds=SPREAD_S * n / COUNT) for n in range(COUNT)])
    created_in_time = datetime.now(UTC) < first_due
    _wait_until_drained(app, SPREAD_S + 60)
    firings = [due_commit for result in _stop(procs) for due_commit in result["firings"]]
    lateness = sorted(max(0.0, committed - due) for due, committed in firings)
    p99 = lateness[int(0.99 * (len(lateness) - 1))] if lateness else None

    # Saturation: all due at one moment (a timer already due fires inside its own step, so they are
    # created due shortly after); two waiting workers drain them; rate from the due moment on.
    procs = _workers(pg_url, outdir)
    due = datetime.now(UTC) + timedelta(seconds=25)
    _start(app, [due] * COUNT)
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()))
    _wait_until_drained(app, 300)
    elapsed = (datetime.now(UTC) - due).total_seconds()
    fired = sum(len(result["firings"]) for result in _stop(procs))
    return {
        "timer_lateness_p99_s": round(p99, 3) if p99 is not None else None,
        "timer_lateness_median_s": round(lateness[len(lateness) // 2], 3) if lateness else None,
        "timers_fired": len(lateness),
        "timers_created_before_due": created_in_time,
        "timers_fired_per_s": round(fired / elapsed, 1) if elapsed else None,
    }
