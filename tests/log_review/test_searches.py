"""Loggkontroll searches: who opened patient X, what user Y opened, in a period; every search is
itself logged (HSLF-FS 2016:40 4 kap. 9 §)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import event, insert, select

from app.audit.models import AccessLog, AccessLogPatient, AuditEvent
from app.log_review import services

TODAY = "2026-11-23"


def _result(response) -> str:
    """The search result section of the page (the user list elsewhere names everyone)."""
    html = response.get_data(as_text=True)
    return (
        html.split('id="result-heading"', 1)[1].split('id="samples-heading"', 1)[0]
        if 'id="result-heading"' in html
        else ""
    )


def _search_patient(pages, number: str, first: str = TODAY, last: str = TODAY, **extra):
    return pages.post(
        "/log-review/patient", {"identity_number": number, "first_day": first, "last_day": last, **extra}
    )


def test_log_review_is_refused_to_staff_who_are_not_reviewers_and_the_attempt_audited(pages, opened):
    opened("nurse", "adult")
    pages.sign_in("nurse")
    assert pages.get("/log-review").status_code == 403
    assert _search_patient(pages, "19920301-2381").status_code == 403
    session = pages.world.session
    session.expire_all()
    refused = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_log:search_refused")
    ).all()
    assert [e.details["path"] for e in refused] == ["/log-review", "/log-review/patient"]
    assert session.scalar(select(AccessLog).where(AccessLog.action.like("log_review:%"))) is None


def test_the_head_of_unit_and_the_sysadmin_both_review_the_units_log(pages):
    for who in ("head", "sysadmin"):
        pages.sign_in(who)
        assert pages.get("/log-review").status_code == 200


def test_who_opened_the_patient_lists_the_units_reads_in_the_period_with_a_masked_personnummer(
    pages, opened, clock
):
    world = pages.world
    opened("nurse", "adult")
    opened("doctor", "other")  # another patient
    opened("ha_nurse", "adult")  # another unit's read, not about this unit's case
    pages.sign_in("head")
    html = _result(_search_patient(pages, "199203012381"))
    assert "Nurse OG" in html and "Doctor OG" not in html and "Nurse HA" not in html
    assert "19920301-****" in html and "2381" not in html
    # Outside the period: nothing.
    html = _result(_search_patient(pages, "199203012381", first="2026-11-01", last="2026-11-22"))
    assert "Inga loggrader i perioden" in html
    assert world.patients["adult"].id


def test_every_search_is_itself_written_to_the_access_log_and_the_audit_trail(pages, opened):
    session = pages.world.session
    adult = pages.world.patients["adult"]
    opened("nurse", "adult")
    reviewer, _unit = pages.world.staff["head"]
    pages.sign_in("head")
    _search_patient(pages, "19920301-2381")
    nurse, _unit = pages.world.staff["nurse"]
    pages.post("/log-review/user", {"user_id": str(nurse.id), "first_day": TODAY, "last_day": TODAY})
    _search_patient(pages, "19920615-2382", first="2026-01-01")  # Fredrik: nobody opened him, still logged
    _search_patient(pages, "19121212-1212")  # no such patient in the service: the search is still audited
    session.expire_all()
    logs = session.scalars(
        select(AccessLog).where(AccessLog.user_id == reviewer.id).order_by(AccessLog.id)
    ).all()
    assert [log.action for log in logs] == [
        "log_review:who_opened_patient",
        "log_review:what_user_opened",
        "log_review:who_opened_patient",
    ]
    assert [p.patient_id for p in logs[0].patients] == [adult.id]
    assert [p.patient_id for p in logs[1].patients] == [adult.id]  # the patients the user search showed
    searches = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "access_log:searched").order_by(AuditEvent.id)
    ).all()
    assert [(e.subject_type, e.details["kind"]) for e in searches] == [
        ("patient", "who_opened_patient"), ("user", "what_user_opened"), ("patient", "who_opened_patient"), ("unit", "who_opened_patient"),
    ]  # fmt: skip
    assert searches[-1].details["found"] is False and searches[0].details["results"] == 1


def test_what_the_user_opened_includes_reads_after_the_employment_ended(pages, opened):
    nurse, _unit = pages.world.staff["nurse"]
    opened("nurse", "adult")
    opened("nurse", "child")
    pages.sign_in("sysadmin")
    assert pages.post(f"/admin/users/{nurse.id}/end-employment", {"confirmed": "1"}).status_code == 302
    response = pages.post(
        "/log-review/user", {"user_id": str(nurse.id), "first_day": TODAY, "last_day": TODAY}
    )
    assert "Anna Andersson" in _result(response) and "Cecilia Berg" in _result(response)
    assert f'<option value="{nurse.id}" selected>' in response.get_data(
        as_text=True
    )  # an ended employment stays reviewable


def test_a_covering_units_read_of_this_units_case_is_in_this_units_review(pages, opened):
    case = pages.world.submit("adult")
    opened("ha_nurse", "adult", case=case)
    pages.sign_in("head")
    assert "Nurse HA" in _result(_search_patient(pages, "199203012381"))
    pages.sign_in("ha_sysadmin")
    assert "Nurse HA" in _result(
        _search_patient(pages, "199203012381")
    )  # acting for Havsbris: in Havsbris's review as well


def test_a_bad_period_or_number_is_shown_beside_the_fields_with_the_typed_values(pages):
    pages.sign_in("head")
    response = _search_patient(pages, "", first="2026-11-23", last="2026-11-01")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="pe-identity_number"' in html and 'id="pe-last_day"' in html and 'value="2026-11-01"' in html


class _statements_on:
    """The SQL statements a session sends to the database while open (with their parameters)."""

    def __init__(self, session):
        self.engine = session.get_bind()
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, _connection, _cursor, statement, parameters, _context, _executemany):
        self.statements.append((statement, parameters))

    def close(self):
        event.remove(self.engine, "before_cursor_execute", self._seen)


def test_searches_page_by_time_without_repeats_and_read_the_log_by_index_over_many_rows(admin_world, clock):
    session = admin_world.session
    nurse, unit = admin_world.staff["nurse"]
    adult = admin_world.patients["adult"]
    start = clock.now() - timedelta(days=20)
    # 20,000 reads at the unit over 20 days, 120 of them of Anna (every 10 minutes the first day).
    rows = [
        {
            "at": start + timedelta(seconds=86 * i),
            "user_id": nurse.id,
            "actor_label": nurse.display_name,
            "acting_unit_id": unit.id,
            "action": "case:read",
            "context": "/bulk",
        }
        for i in range(20_000)
    ]
    session.execute(insert(AccessLog.__table__), rows)
    ids = session.scalars(select(AccessLog.id).order_by(AccessLog.id).limit(120)).all()
    session.execute(
        insert(AccessLogPatient.__table__), [{"access_log_id": i, "patient_id": adult.id} for i in ids]
    )
    session.commit()
    head = admin_world.actor("head")
    first, last = date(2026, 11, 1), date(2026, 11, 23)
    seen, cursor, pages_read = [], None, 0
    searched = _statements_on(session)
    while True:
        page = services.who_opened_patient(
            session, actor=head, identity_number="199203012381", first_day=first, last_day=last, cursor=cursor
        )
        seen += [e.log_id for e in page.entries]
        pages_read += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages_read == 3 and len(seen) == 120 and len(set(seen)) == 120
    assert seen == sorted(seen, reverse=True)  # newest first
    user_page = services.what_user_opened(
        session, actor=head, user_id=nurse.id, first_day=first, last_day=last
    )
    assert len(user_page.entries) == services.PAGE_SIZE and user_page.next_cursor
    searched.close()
    if session.get_bind().dialect.name == "sqlite":  # PostgreSQL's plan depends on its statistics
        connection = session.connection()
        plans = [
            [row[3] for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)]
            for statement, params in searched.statements
        ]
        reads = [steps for steps in plans if any("access_log" in step.split() for step in steps)]
        assert len(reads) >= 4  # three pages of the patient search, one of the user search
        for steps in reads:  # by an index, however many rows the log holds
            assert not [step for step in steps if step.split()[:2] == ["SCAN", "access_log"]], steps
    session.rollback()


def test_each_logged_action_is_named_in_the_reviewers_words_beside_its_code(pages, opened):
    """The Åtgärd column showed only codes ("case:view"); now their meaning, in the page's language."""
    opened("nurse", "adult", action="case:view")
    pages.sign_in("head")
    html = _result(_search_patient(pages, "199203012381"))
    assert 'Öppnade ärendet <code class="action-code">case:view</code>' in html
    with pages.client.session_transaction() as browser:
        browser["lang"] = "en"
    html = _result(_search_patient(pages, "199203012381"))
    assert 'Opened the case <code class="action-code">case:view</code>' in html


def test_every_access_log_action_the_product_writes_has_words_for_the_reviewer():
    """A new kind of logged read gets its label too: the codes written anywhere in app/ are all named
    (an API endpoint or a control-tower check by its prefix)."""
    import re
    from pathlib import Path

    from app.log_review.labels import ACTION_LABELS, PREFIX_LABELS

    root = Path(__file__).resolve().parents[2] / "app"
    written = set()
    for source in root.rglob("*.py"):
        written |= set(re.findall(r'action="([a-z_]+:[a-z_]+)"', source.read_text(encoding="utf-8")))
    record_only = {c for c in written if not any(c.startswith(p) for p in PREFIX_LABELS)}
    assert record_only - set(ACTION_LABELS) == set()
