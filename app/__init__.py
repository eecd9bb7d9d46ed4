"""Vårdflöde: executable care routines for 1177 direkt. `create_app` builds the Flask app."""

from __future__ import annotations

from flask import Flask

from app.config import load_config


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: configuration, database, clock, engine, blueprints and CLI. Nothing else."""
    config = load_config(overrides)
    app = Flask(__name__, instance_relative_config=False)
    app.config.update(config)

    from app import cli, db, i18n, web
    from app.cases import handling  # noqa: F401  (registers the care routines' task guards)
    from app.instances import engine_setup

    database = db.init_app(app)
    _init_clock(app, database)
    engine_setup.init_app(app)
    i18n.init_app(app)
    web.init_app(app)
    cli.init_app(app)
    return app


def _init_clock(app: Flask, database) -> None:
    from app import clock

    if app.config.get("CLOCK") is not None:  # tests hand in their own MovableClock
        clock.install_clock(app.config["CLOCK"])
    elif app.config["DEV_CLOCK_CONTROL"]:
        from app.devtools.clock import SharedDevClock

        shared = SharedDevClock(database)
        app.extensions["dev_clock"] = shared
        clock.install_clock(shared)
    else:
        clock.install_clock(clock.SystemClock())
