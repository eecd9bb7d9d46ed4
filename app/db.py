"""Database plumbing: declarative Base, UTC datetimes on both databases, engine and sessions.

Services receive a Session and only flush; the request (or the worker loop) commits, so one user
action or one timer firing is one transaction together with its audit record.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, bindparam, create_engine, event, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.types import TypeDecorator

from app.errors import Conflict

log = logging.getLogger(__name__)

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
        event.listen(self.session_factory, "after_commit", _run_on_commit)

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
    if transaction is None:
        # Before the first statement there is no transaction yet: begin the one that statement will
        # use (no SQL is sent), or what is stored now would be dropped as soon as it begins.
        transaction = session.begin()
    stores = session.info.setdefault("transaction_stores", {})
    held = stores.get(name)
    if held is None or held[0] is not transaction:
        held = stores[name] = (transaction, {})
    return held[1]


def on_commit(session: Session, key: Any, callback: Callable[[], None]) -> None:
    """Call `callback` once the current transaction has committed; never if it rolls back. A later
    call with the same key in the same transaction replaces the earlier one."""
    transaction_store(session, "on_commit")[key] = callback


def _run_on_commit(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: the transaction goes on
        return
    callbacks = transaction_store(session, "on_commit")
    while callbacks:
        callback = callbacks.pop(next(iter(callbacks)))
        try:
            callback()
        except Exception:  # the action is committed: a failing follow-up must not report it failed
            log.exception("an after-commit callback failed")


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

    database = Database(
        app.config["DATABASE_URL"], sqlite_synchronous=app.config.get("SQLITE_SYNCHRONOUS", "NORMAL")
    )
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


STALE_ROW = "someone else changed this case at the same moment; nothing was overwritten"


def write_now(session: Session, obj: Any) -> None:
    """Write a versioned object's changed columns at once, as a flush would, for less.

    One prepared UPDATE of exactly the changed columns, with the version check the ORM does (a row
    someone else changed meanwhile matches nothing: a Conflict, and the action rolls back). The object is
    then clean, so the commit has nothing left to write for it. The hot paths change one case per
    step; the flush machinery costs three times the statement there. Anything but plain column
    changes on a versioned row (a new object, a relationship, an onupdate column) is flushed."""
    state = instance_state(obj)
    if state.key is None:  # not in the database yet
        session.flush()
        return
    if not state.modified:
        return
    mapper = state.mapper
    changed = tuple(state.committed_state)
    version_column = mapper.version_id_col
    columns = _plain_columns(mapper)
    version_key = mapper.get_property_by_column(version_column).key if version_column is not None else None
    if (
        not changed
        or not version_key
        or not mapper.version_id_generator
        or version_key in changed
        or len(mapper.primary_key) != 1
        or not all(key in columns for key in changed)
    ):
        session.flush()
        return
    version = state.dict[version_key]
    next_version = mapper.version_id_generator(version)
    values = {f"v_{columns[key]}": state.dict.get(key) for key in changed}
    values[f"v_{version_column.name}"] = next_version
    [primary_key] = mapper.primary_key
    statement = _versioned_update(
        mapper.local_table, primary_key, version_column, frozenset(columns[key] for key in changed)
    )
    with session.no_autoflush:
        result = session.execute(
            statement, {**values, "where_pk": state.identity[0], "where_version": version}
        )
    if result.rowcount != 1:
        raise Conflict(STALE_ROW, table=mapper.local_table.name)
    state.dict[version_key] = next_version
    # What a flush does after its UPDATE (SQLAlchemy's own bookkeeping, pinned version): the values
    # are now the committed ones and the object leaves the session's modified set.
    state._commit_all(state.dict, session.identity_map)


def insert_now(session: Session, obj: Any) -> Any:
    """Insert a new object at once with one prepared INSERT … RETURNING its id, and attach it to the
    session as loaded, as a flush would, for less: the id is usually all the caller needs next.

    Scalar column defaults are applied here (so the object reads them without a query); anything
    else a flush would do (relationships, callable or server defaults) is left to a flush."""
    state = instance_state(obj)
    mapper = state.mapper
    columns = _plain_columns(mapper)
    version_key = (
        mapper.get_property_by_column(mapper.version_id_col).key
        if mapper.version_id_col is not None
        else None
    )
    server_versioned = version_key is not None and not mapper.version_id_generator  # the database numbers it
    if (
        not state.transient
        or server_versioned
        or len(mapper.primary_key) != 1
        or any(key not in columns for key in state.dict if not key.startswith("_"))
    ):
        session.add(obj)
        session.flush()
        return obj
    for key, column in _scalar_defaults(mapper).items():
        if key not in state.dict:
            state.dict[key] = column.default.arg
    # Columns left out that have no default at all are NULL in the row: say so on the object too,
    # or the first read of one (case.owner_user_id, instance.completed_at) loads them all back.
    for key in _null_when_unset(mapper):
        if key not in state.dict:
            state.dict[key] = None
    if version_key is not None and state.dict.get(version_key) is None:
        state.dict[version_key] = mapper.version_id_generator(None)
    [primary_key] = mapper.primary_key
    primary_key_attr = mapper.get_property_by_column(primary_key).key
    values = {columns[key]: value for key, value in state.dict.items() if key in columns}
    statement = _INSERTS.get(mapper.local_table)
    if statement is None:
        statement = _INSERTS[mapper.local_table] = insert(mapper.local_table).returning(primary_key)
    with session.no_autoflush:
        state.dict[primary_key_attr] = session.execute(statement, values).scalar_one()
    make_transient_to_detached(obj)  # the row is in the database: attach it without reading it back
    session.add(obj)
    return obj


_INSERTS: dict[Any, Any] = {}
_SCALAR_DEFAULTS: dict[Any, dict] = {}


def _scalar_defaults(mapper) -> dict:
    held = _SCALAR_DEFAULTS.get(mapper)
    if held is None:
        held = _SCALAR_DEFAULTS[mapper] = {
            key: mapper.local_table.c[name]
            for key, name in _plain_columns(mapper).items()
            if mapper.local_table.c[name].default is not None and mapper.local_table.c[name].default.is_scalar
        }
    return held


_NULL_WHEN_UNSET: dict[Any, tuple[str, ...]] = {}


def _null_when_unset(mapper) -> tuple[str, ...]:
    held = _NULL_WHEN_UNSET.get(mapper)
    if held is None:
        table = mapper.local_table
        held = _NULL_WHEN_UNSET[mapper] = tuple(
            key
            for key, name in _plain_columns(mapper).items()
            if table.c[name].default is None
            and table.c[name].server_default is None
            and not table.c[name].primary_key
        )
    return held


_PLAIN_COLUMNS: dict[Any, dict[str, str]] = {}
_VERSIONED_UPDATES: dict[tuple, Any] = {}


def _plain_columns(mapper) -> dict[str, str]:
    """Attribute key -> column name for the mapper's single-table columns without onupdate."""
    held = _PLAIN_COLUMNS.get(mapper)
    if held is None:
        held = _PLAIN_COLUMNS[mapper] = {
            prop.key: prop.columns[0].name
            for prop in mapper.column_attrs
            if len(prop.columns) == 1
            and prop.columns[0].table is mapper.local_table
            and prop.columns[0].onupdate is None
            and prop.columns[0].server_onupdate is None
        }
    return held


def _versioned_update(table, primary_key, version_column, names: frozenset):
    # Built once per table and set of columns; the bind names carry a prefix (a bindparam named like
    # a column of the SET clause is reserved by SQLAlchemy).
    key = (table, names)
    statement = _VERSIONED_UPDATES.get(key)
    if statement is None:
        statement = _VERSIONED_UPDATES[key] = (
            update(table)
            .where(primary_key == bindparam("where_pk"), version_column == bindparam("where_version"))
            .values(**{name: bindparam(f"v_{name}") for name in sorted(names | {version_column.name})})
        )
    return statement
