"""Database plumbing: UTC times on both databases, SQLite settings, migrations match the models."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from app import clock as app_clock
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
            names = set(
                connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars()
            )
        else:
            names = set(
                connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
            )
    assert {"audit_event_append_only", "access_log_append_only", "access_log_patient_append_only"} <= names


# --- write_now / insert_now: the hot paths' flush-free writes keep the ORM's guarantees ---------


def _statements(database):
    from sqlalchemy import event

    seen: list[str] = []

    def _record(_conn, _cursor, statement, *_args):
        seen.append(" ".join(statement.split()))

    event.listen(database.engine, "before_cursor_execute", _record)
    return seen, lambda: event.remove(database.engine, "before_cursor_execute", _record)


def _a_case(database):
    from tests import factories

    with database.transaction() as session:
        unit = factories.unit(session)
        return factories.case(session, unit, factories.patient(session)).id


def test_write_now_writes_the_changed_columns_with_the_version_check_and_leaves_nothing_for_the_commit(
    database,
):
    from app.cases.models import Case, CaseState
    from app.db import write_now

    case_id = _a_case(database)
    seen, stop = _statements(database)
    try:
        with database.transaction() as session:
            case = session.get(Case, case_id)
            before = case.version
            case.state, case.handling_role = CaseState.RECEIVED, "nurse"
            write_now(session, case)
            written = list(seen)
            assert not session.dirty and case.version == before + 1
        after_commit = seen[len(written) :]
    finally:
        stop()
    [update] = [s for s in written if s.startswith("UPDATE")]
    assert (
        "handling_role=" in update
        and "state=" in update
        and "version=" in update
        and "priority" not in update
    )
    assert "AND care_case.version = " in update
    assert not [s for s in after_commit if s.startswith("UPDATE")]
    with database.transaction() as session:
        stored = session.get(Case, case_id)
        assert (stored.state, stored.handling_role, stored.version) == (
            CaseState.RECEIVED,
            "nurse",
            before + 1,
        )


def test_write_now_on_a_case_someone_else_changed_meanwhile_is_a_conflict_and_writes_nothing(database):
    from sqlalchemy import update

    from app.cases.models import Case
    from app.db import write_now
    from app.errors import Conflict

    case_id = _a_case(database)
    with pytest.raises(Conflict), database.transaction() as session:
        case = session.get(Case, case_id)
        # Another transaction's change, as the row now reads (the version moved on).
        session.execute(
            update(Case.__table__)
            .where(Case.__table__.c.id == case_id)
            .values(version=Case.__table__.c.version + 1, search_reason="Ändrat av någon annan")
        )
        case.search_reason = "Mitt ändrade sökorsak"
        write_now(session, case)
    with database.transaction() as session:
        assert session.get(Case, case_id).search_reason == "Halsont"  # the whole action rolled back


def test_insert_now_inserts_with_defaults_readable_without_a_query_and_the_row_is_there(database):
    from app.cases.models import Case, CaseKind, CaseState
    from app.db import insert_now
    from tests import factories

    with database.transaction() as session:
        unit = factories.unit(session)
        patient = factories.patient(session)
        session.flush()
        case = Case(
            kind=CaseKind.SOK_VARD,
            unit_id=unit.id,
            patient_id=patient.id,
            submitted_by_id=patient.id,
            priority=3,
            search_reason="Feber",
            anamnesis="",
            submitted_at=app_clock.now(),
        )
        seen, stop = _statements(database)
        try:
            insert_now(session, case)
            defaults = (case.state, case.version, case.chargeable, case.meeting_form)
            unset = (case.owner_user_id, case.received_at, case.closed_at)  # NULL, known without a read
        finally:
            stop()
        assert [s.split(" (")[0] for s in seen] == ["INSERT INTO care_case"]  # no read-back
        assert case.id is not None and defaults == (CaseState.NEW, 1, False, "chat")
        assert unset == (None, None, None)
        case_id = case.id
    with database.transaction() as session:
        stored = session.get(Case, case_id)
        assert (stored.search_reason, stored.state, stored.version) == ("Feber", CaseState.NEW, 1)


def test_on_commit_runs_after_the_transaction_commits_never_after_a_rollback_or_a_savepoint(database):
    from app.db import on_commit

    ran: list[str] = []
    with database.transaction() as session:
        on_commit(session, "a", lambda: ran.append("first"))
        on_commit(session, "a", lambda: ran.append("replaced"))
        with session.begin_nested():
            on_commit(session, "b", lambda: ran.append("in savepoint"))
        assert ran == []  # the savepoint's release is no commit
    assert ran == ["replaced", "in savepoint"]
    with pytest.raises(RuntimeError), database.transaction() as session:
        on_commit(session, "c", lambda: ran.append("rolled back"))
        raise RuntimeError("the action failed")
    with database.transaction() as session:
        session.execute(text("SELECT 1"))
    assert ran == ["replaced", "in savepoint"]

    def broken():
        raise RuntimeError("a bug in a follow-up")

    with database.transaction() as session:  # committed: the follow-up's failure is logged, not raised
        on_commit(session, "d", broken)
        on_commit(session, "e", lambda: ran.append("after the broken one"))
    assert ran[-1] == "after the broken one"


def test_a_transaction_store_written_before_the_first_statement_lasts_the_transaction(database):
    """Stored before any SQL (e.g. a row claimed for later in the action), still there after the
    first statement; gone with the transaction."""
    from app.db import transaction_store

    with database.transaction() as session:
        transaction_store(session, "claims")["instance"] = 1
        session.execute(select(AuditEvent.id).limit(1)).all()
        assert transaction_store(session, "claims") == {"instance": 1}
    with database.transaction() as session:
        assert transaction_store(session, "claims") == {}


def test_HA_handover_consent_the_consent_questions_ask_for_the_buttons_not_a_chat_answer(tmp_path):
    """The default consent texts said "Svara ja eller nej här i chatten", where an answer changes
    nothing. The migration gives an unedited regional text the new ending and leaves an edited one as
    the region wrote it; a new region gets the new text from the defaults."""
    from sqlalchemy import create_engine, text

    from app.migrate import upgrade
    from app.phrases.defaults import DEFAULTS

    url = f"sqlite:///{tmp_path / 'consent.db'}"
    upgrade(url, "a7c4e9f1b2d3")
    old = (
        "För att du ska få rätt hjälp vill vi lämna över ditt ärende till {handed_to}. Går det bra för dig? "
        "Svara ja eller nej här i chatten."
    )
    edited = "Vi vill lämna över ditt ärende till {handed_to}. Svara ja eller nej här i chatten, tack."
    engine = create_engine(url)
    with engine.begin() as connection:
        for region_id, body in ((1, old), (2, edited)):
            connection.execute(text("INSERT INTO region (id, code, name, policies) VALUES (:i, :c, :n, '{}')"),
                               {"i": region_id, "c": f"R{region_id}", "n": f"Region {region_id}"})  # fmt: skip
            connection.execute(
                text(
                    "INSERT INTO phrase_template (level, region_id, purpose, title, text, status, created_at)"
                    " VALUES ('regional', :r, 'consent_handover', 'Samtycke', :t, 'published', '2026-12-01')"
                ),
                {"r": region_id, "t": body},
            )
    upgrade(url)
    with engine.begin() as connection:
        texts = dict(
            connection.execute(
                text("SELECT region_id, text FROM phrase_template WHERE purpose = 'consent_handover'")
            ).all()
        )
    engine.dispose()
    assert texts[1] == DEFAULTS["consent_handover"][1]
    assert texts[1].endswith("Svara med knapparna Ja eller Nej i ditt ärende.")
    assert texts[2] == edited
    assert "här i chatten" not in DEFAULTS["consent_meeting_form"][1]
