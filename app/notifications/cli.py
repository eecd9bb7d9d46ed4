"""`flask notifications run [--once]`: the delivery worker as a command (run as many as you like)."""

from __future__ import annotations

import logging
import os
import signal

import click
from flask import current_app
from flask.cli import AppGroup

from app.db import get_database
from app.notifications.delivery import NotificationWorker
from app.notifications.transports import LogTransport, build_transports, notification_settings

notifications_cli = AppGroup("notifications", help="Deliver queued SMS and e-mail notifications.")


@notifications_cli.command("run")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--batch", default=50, show_default=True, help="Due messages listed per pass.")
@click.option("--max-idle", default=2.0, show_default=True, help="Longest sleep between checks (seconds).")
@click.option(
    "--name", default=None, help="Worker name in the audit trail (default notification-worker-<pid>)."
)
def run(once: bool, batch: int, max_idle: float, name: str | None) -> None:
    """Run a notification worker: sends pending SMS and e-mail, retries with backoff."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # NOTIFY_*/SMS_*/SMTP_*/EMAIL_FROM: the app's configuration first, then the environment.
    # The delivery keys are HMACs under NOTIFY_KEY_SECRET, else the app's SECRET_KEY (transports.py).
    settings = notification_settings(current_app.config, os.environ)
    transports = build_transports(settings | {"SECRET_KEY": current_app.config.get("SECRET_KEY")})
    if current_app.config.get("ENV_NAME") == "production":
        for channel, transport in transports.items():
            if isinstance(transport, LogTransport):
                click.echo(
                    f"warning: {channel} notifications are only logged (configure a transport)", err=True
                )
    shared = current_app.extensions.get("dev_clock")
    worker = NotificationWorker(
        get_database(),
        transports,
        name=name or f"notification-worker-{os.getpid()}",
        batch=batch,
        max_idle_s=max_idle,
        sync_clock=shared.sync if shared is not None else None,
    )
    if once:
        stats = worker.run_once()
        click.echo(
            f"sent {stats.sent}, retrying {stats.retried}, failed {stats.failed}, suppressed {stats.suppressed}"
        )
        return
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    click.echo(f"notification worker {worker.actor.label} running", err=True)
    worker.run_forever()
