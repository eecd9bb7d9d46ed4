"""Shared fixtures: a frozen clock, a migrated database per test, the app, sessions and the engine.

Databases: SQLite by default (a migrated template copied per test). When TEST_DATABASE_URL is set
(as `.ci/run` does), the whole suite runs on PostgreSQL instead, emptied between tests; tests
marked `postgres` always need it and skip with a reason outside CI when it is missing (in CI, with
CI=true, they fail instead: nothing that matters is skipped there).
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.pool import NullPool

from app import create_app
from app.clock import MovableClock, install_clock
from app.db import Base
from app.instances.models import Incident
from app.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
# Monday 23 November 2026, 09:00 in Stockholm: a working day shortly after "today".
DEFAULT_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=STOCKHOLM)
IN_CI = os.environ.get("CI", "").lower() == "true"


def _pg_url() -> str | None:
    """TEST_DATABASE_URL; under pytest-xdist each worker gets a database of its own beside it (created
    on first use), since every table is emptied between tests."""
    url = os.environ.get("TEST_DATABASE_URL") or None
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url is None or not worker:
        return url
    return _worker_database(url, worker)


_worker_databases: dict[str, str] = {}


def _worker_database(url: str, worker: str) -> str:
    if url not in _worker_databases:
        base = make_url(url)
        own = base.set(database=f"{base.database}_{worker}")
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{own.database}"'))
        admin.dispose()
        _worker_databases[url] = own.render_as_string(hide_password=False)
    return _worker_databases[url]


def _require_pg() -> str:
    url = _pg_url()
    if url is None:
        message = "PostgreSQL needed: set TEST_DATABASE_URL (.ci/run does) to run locking, concurrency and timer-claiming tests"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return url


_pg_prepared: set[str] = set()


def _prepare_pg(url: str) -> None:
    """Fresh schema once per session, then migrations (they are under test too)."""
    if url in _pg_prepared:
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    _pg_prepared.add(url)


_emptying_sql: dict[str, str] = {}


def _emptying_statements(connection) -> str:
    """Empty every table and restart every id sequence. Mostly DELETE, children first so every foreign
    key holds throughout: TRUNCATE makes new files for each of the ~40 tables, 0.2 s a test (over a
    minute of a CI run), while deleting the few rows a test wrote takes ~25 ms. The audit tables
    refuse DELETE (their five-year triggers): those few are truncated, before the rest."""
    from app.models import metadata

    guarded = set(
        connection.scalars(
            text(
                "SELECT DISTINCT event_object_table FROM information_schema.triggers"
                " WHERE event_manipulation = 'DELETE' AND event_object_schema = current_schema()"
            )
        )
    )
    sequences = connection.scalars(
        text(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) FROM pg_sequences"
            " WHERE schemaname = current_schema()"
        )
    ).all()
    # The audit tables first: they refer to patients, users and units.
    statements = (
        ["TRUNCATE TABLE " + ", ".join(f'"{name}"' for name in sorted(guarded)) + " CASCADE"]
        if guarded
        else []
    )
    statements += [
        f'DELETE FROM "{t.name}"' for t in reversed(metadata.sorted_tables) if t.name not in guarded
    ]
    return "; ".join(statements + [f"ALTER SEQUENCE {name} RESTART" for name in sequences])


def _empty_pg(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    with engine.begin() as connection:
        # Another session still busy on this database (a worker an earlier test left running) would
        # change the next test's rows under it: noted, and shown if the test fails.
        busy = connection.execute(
            text(
                "SELECT pid, state, left(query, 200) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() AND state <> 'idle'"
            )
        ).all()
        _diagnostics.extend(f"busy at emptying: pid {pid} {state}: {query}" for pid, state, query in busy)
        if url not in _emptying_sql:
            _emptying_sql[url] = _emptying_statements(connection)
        connection.exec_driver_sql(_emptying_sql[url])
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


# What a failing test's report shows beside its traceback: incidents the routines opened during
# the test (a step that failed quietly is otherwise invisible behind a later "not waiting" conflict).
_diagnostics: list[str] = []


@event.listens_for(Incident, "after_insert")
def _note_incident(mapper, connection, incident) -> None:
    _diagnostics.append(
        f"incident opened at {incident.element_id}: {incident.error_type}: {incident.message}"
    )


@pytest.fixture(autouse=True)
def _fresh_diagnostics():
    _diagnostics.clear()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _diagnostics:
        report.sections.append(("Vårdflöde diagnostics", "\n".join(_diagnostics)))


@pytest.fixture
def clock():
    """The product clock, frozen at DEFAULT_NOW; tests move it with clock.advance / clock.set."""
    moving = MovableClock(frozen_at=DEFAULT_NOW)
    previous = install_clock(moving)
    yield moving
    install_clock(previous)


@pytest.fixture
def db_url(tmp_path, sqlite_template) -> str:
    url = _pg_url()
    if url is not None:
        _prepare_pg(url)
        _empty_pg(url)
        return url
    path = tmp_path / "test.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url() -> str:
    url = _require_pg()
    _prepare_pg(url)
    _empty_pg(url)
    return url


def make_app(url: str, clock: MovableClock, **overrides):
    config = {
        "DATABASE_URL": url,
        "CLOCK": clock,
        "TESTING": True,
        "DEV_LOGIN": True,
        "SECRET_KEY": "test-secret",
        "PROCESSES_DIR": str(FIXTURES / "bpmn"),
        "FORMS_DIR": str(FIXTURES / "forms"),
    }
    config.update(overrides)
    return create_app(config)


def forget_compiled_statements() -> None:
    """Each mapper keeps up to 100 compiled INSERT/UPDATE statements per database dialect: with a
    new engine per test they pile up in a worker (~300k objects over a run), making every full
    garbage collection slower. One engine per process, as in production, never gets there."""
    for mapper in Base.registry.mappers:
        mapper._compiled_cache.clear()


@pytest.fixture
def app(db_url, clock):
    application = make_app(db_url, clock)
    yield application
    application.extensions["database"].dispose()
    forget_compiled_statements()


@pytest.fixture
def pg_app(pg_url, clock):
    application = make_app(pg_url, clock)
    yield application
    application.extensions["database"].dispose()
    forget_compiled_statements()


@pytest.fixture
def database(app):
    return app.extensions["database"]


@pytest.fixture
def session(database):
    s = database.new_session()
    yield s
    s.close()


@pytest.fixture
def engine(app):
    return app.extensions["engine"]


@pytest.fixture
def client(app):
    return app.test_client()
