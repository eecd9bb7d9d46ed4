"""Database plumbing: declarative Base, UTC datetimes on both databases, engine and sessions.

Services receive a Session and only flush; the request (or the worker loop) commits, so one user
action or one timer firing is one transaction together with its audit record.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """A timezone-aware datetime, always UTC when read back, on SQLite as on PostgreSQL.

    SQLite has no time zones: values are stored as naive UTC and made aware on the way out.
    Naive datetimes are refused on the way in: they are the bug this type exists to prevent.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: store timezone-aware times")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str, *, sqlite_synchronous: str = "NORMAL", echo: bool = False) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):  # pragma: no cover - trivial
            # The driver's own transaction handling would BEGIN lazily and defer locks; we BEGIN
            # ourselves (below) so a read-then-write transaction takes its lock up front.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(connection):  # pragma: no cover - trivial
            # IMMEDIATE: one writer at a time, decided at BEGIN, so two workers never both read a
            # row and then fail to upgrade their lock half-way through a firing.
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20)


class Database:
    """One engine and its session factory."""

    def __init__(self, url: str, **engine_options: Any):
        self.url = url
        self.engine = make_engine(url, **engine_options)
        self.session_factory = sessionmaker(bind=self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self) -> Session:
        return self.session_factory()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commit on success, roll back on any error, always close."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()


def transaction_store(session: Session, name: str) -> dict:
    """A dict that lives as long as the session's current transaction (a new one starts empty)."""
    transaction = session.get_transaction()
    stores = session.info.setdefault("transaction_stores", {})
    held = stores.get(name)
    if held is None or held[0] is not transaction:
        held = stores[name] = (transaction, {})
    return held[1]


def get_held(session: Session, entity: type, ident: Any) -> Any:
    """`session.get`, keeping the object for the rest of the transaction.

    SQLAlchemy's identity map holds objects weakly, so a unit or region that one service reads and
    drops is read again by the next. Reference rows read on every action go through here."""
    held = transaction_store(session, "held")
    key = (entity, ident)
    if key not in held:
        held[key] = session.get(entity, ident)
    return held[key]


def init_app(app) -> Database:
    """Attach a Database to the Flask app and close the request's session at teardown."""
    from flask import g

    database = Database(app.config["DATABASE_URL"], sqlite_synchronous=app.config.get("SQLITE_SYNCHRONOUS", "NORMAL"))
    app.extensions["database"] = database

    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()

    return database


def get_database(app=None) -> Database:
    from flask import current_app

    return (app or current_app).extensions["database"]


def request_session() -> Session:
    """The session of the current request (created on first use, closed at teardown)."""
    from flask import g

    if "db_session" not in g:
        g.db_session = get_database().new_session()
    return g.db_session
