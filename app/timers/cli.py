"""`flask timers run [--once]`: the timer worker as a command (run as many as you like)."""

from __future__ import annotations

import logging
import os
import signal

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import get_database
from app.instances.engine_setup import current_engine
from app.timers.housekeeping import Housekeeping
from app.timers.worker import TimerWorker

timers_cli = AppGroup("timers", help="Fire due timers and deadlines.")


@timers_cli.command("run")
@click.option("--once", is_flag=True, help="Fire what is due now, then exit.")
@click.option("--batch", default=50, show_default=True, help="Due instances listed per pass.")
@click.option("--max-idle", default=2.0, show_default=True, help="Longest sleep between checks (seconds).")
@click.option("--name", default=None, help="Worker name in the audit trail (default timer-worker-<pid>).")
@click.option(
    "--no-housekeeping",
    is_flag=True,
    help="Fire timers only; skip the periodic jobs (export purge, staffing warnings, day close).",
)
def run(once: bool, batch: int, max_idle: float, name: str | None, no_housekeeping: bool) -> None:
    """Run a timer worker: fires due BPMN timers and product deadlines, retries incidents."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    shared = current_app.extensions.get("dev_clock")
    worker = TimerWorker(
        get_database(),
        current_engine(),
        name=name or f"timer-worker-{os.getpid()}",
        batch=batch,
        max_idle_s=max_idle,
        sync_clock=shared.sync if shared is not None else None,
        housekeeping=None if no_housekeeping else Housekeeping(get_database(), engine=current_engine()),
    )
    if once:
        fired = worker.run_once()
        click.echo(f"fired {fired} instance(s)")
        return
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    click.echo(f"timer worker {worker.actor.label} running", err=True)
    worker.run_forever()
