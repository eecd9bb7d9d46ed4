"""Database plumbing: UTC times on both databases, SQLite settings, migrations match the models."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from app.audit.models import AuditEvent
from app.db import Database
from app.models import metadata


def test_times_are_stored_timezone_aware_and_read_back_in_utc(database):
    stockholm_summer = datetime(2026, 7, 1, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    with database.transaction() as session:
        session.add(AuditEvent(at=stockholm_summer, action="t:t", actor_label="x", details={}))
    with database.transaction() as session:
        stored = session.query(AuditEvent).one().at
    assert stored == stockholm_summer and stored.utcoffset() == timedelta(0)


def test_naive_datetimes_are_refused(database):
    with pytest.raises(StatementError, match="naive datetime"), database.transaction() as session:
        session.add(AuditEvent(at=datetime(2026, 1, 1, 12, 0), action="t:t", actor_label="x", details={}))
        session.flush()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path, sqlite_template):
    path = tmp_path / "wal.db"
    path.write_bytes(sqlite_template.read_bytes())
    database = Database(f"sqlite:///{path}")
    with database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    database.dispose()


def test_the_migrations_produce_exactly_the_models_schema(database):
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_append_only_triggers_exist(database):
    with database.engine.connect() as connection:
        if database.dialect == "sqlite":
            names = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        else:
            names = set(connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
    assert {"audit_event_append_only", "access_log_append_only", "access_log_patient_append_only"} <= names
