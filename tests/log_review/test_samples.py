"""Sampled log reviews: a stored, reproducible random sample of a period's access-log rows, and the
reviewer's verdict on each row (HSLF-FS 2016:40 asks for systematic sample checks)."""

from __future__ import annotations

import random
import re

from sqlalchemy import select

from app.audit.models import AccessLog, AuditEvent
from app.log_review import samples
from app.log_review.models import LogReviewItem, LogReviewSample, Verdict
from app.log_review.services import scope

TODAY = "2026-11-23"


def _draw(pages, size: int = 5, first: str = TODAY, last: str = TODAY):
    return pages.post("/log-review/samples", {"first_day": first, "last_day": last, "size": str(size)})


def _sample(pages) -> LogReviewSample:
    pages.world.session.expire_all()
    return pages.world.session.scalars(select(LogReviewSample).order_by(LogReviewSample.id.desc())).first()


def test_a_sample_is_stored_and_the_same_seed_draws_the_same_rows_again(pages, opened, clock):
    for who, patient in [
        ("nurse", "adult"),
        ("doctor", "child"),
        ("nurse2", "teen"),
        ("psychologist", "other"),
        ("medadmin", "adult"),
        ("ha_nurse", "adult"),
    ] * 3:
        opened(who, patient)
    pages.sign_in("head")
    response = _draw(pages, size=5)
    assert response.status_code == 302
    sample = _sample(pages)
    assert sample.population == 15  # Havsbris's reads are not this unit's
    drawn = [item.access_log_id for item in sample.items]
    assert len(drawn) == 5 and len(set(drawn)) == 5
    opened("nurse", "adult")  # later rows do not change what the stored period draws
    population, again = samples.draw(
        pages.world.session,
        unit_id=sample.unit_id,
        start=sample.period_start,
        end=sample.period_end,
        seed=sample.seed,
        size=5,
    )
    assert (population, again) == (15, drawn)
    # The rows drawn are the seed's choice among the period's rows in id order (as samples stored before
    # the draw moved into the database were drawn): a stored sample can always be re-drawn and checked.
    period_ids = sorted(
        pages.world.session.scalars(
            select(AccessLog.id).where(
                AccessLog.at >= sample.period_start,
                AccessLog.at < sample.period_end,
                scope(sample.unit_id),
            )
        )
    )
    assert random.Random(sample.seed).sample(period_ids, 5) == drawn
    assert sample.period_end <= clock.now()
    created = pages.world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "log_review:sample_created")
    ).all()
    assert len(created) == 1 and created[0].details["population"] == 15


def test_showing_a_sample_is_written_to_the_access_log_naming_its_patients(pages, opened):
    opened("nurse", "adult")
    opened("doctor", "child")
    reviewer, _unit = pages.world.staff["head"]
    pages.sign_in("head")
    location = _draw(pages, size=10).headers["Location"]
    html = pages.get(location).get_data(as_text=True)
    assert "Anna Andersson" in html and "Cecilia Berg" in html and "20160101-****" in html
    session = pages.world.session
    session.expire_all()
    read = session.scalars(
        select(AccessLog).where(
            AccessLog.user_id == reviewer.id, AccessLog.action == "log_review:sample_read"
        )
    ).one()
    assert {p.patient_id for p in read.patients} == {
        pages.world.patients["adult"].id,
        pages.world.patients["child"].id,
    }


def test_the_reviewer_records_ok_or_follow_up_with_a_comment_audited(pages, opened):
    opened("nurse", "adult")
    opened("doctor", "child")
    pages.sign_in("head")
    _draw(pages, size=2)
    sample = _sample(pages)
    first, second = sample.items
    base = f"/log-review/samples/{sample.id}/items"
    assert (
        pages.post(
            f"{base}/{first.id}", {"verdict": "ok", "expected_version": str(first.version)}
        ).status_code
        == 302
    )
    refused = pages.post(
        f"{base}/{second.id}",
        {"verdict": "follow_up", "comment": "", "expected_version": str(second.version)},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and f'id="ce-{second.id}"' in html
    assert re.search(rf'id="v-{second.id}-follow_up"[^>]*checked', html)  # the choice is kept
    done = pages.post(
        f"{base}/{second.id}",
        {
            "verdict": "follow_up",
            "comment": "Ingen vårdrelation synlig",
            "expected_version": str(second.version),
        },
    )
    assert done.status_code == 302
    session = pages.world.session
    session.expire_all()
    assert [(i.verdict, i.comment) for i in sample.items] == [
        (Verdict.OK, ""),
        (Verdict.FOLLOW_UP, "Ingen vårdrelation synlig"),
    ]
    head, _unit = pages.world.staff["head"]
    assert {i.reviewed_by_user_id for i in sample.items} == {head.id}
    events = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "log_review:verdict_recorded")
    ).all()
    assert [e.details["verdict"] for e in events] == ["ok", "follow_up"]
    summary = pages.get("/log-review").get_data(as_text=True)
    assert "2 av 2" in summary


def test_a_verdict_on_a_row_someone_else_just_judged_is_a_409_conflict_showing_theirs(pages, opened):
    opened("nurse", "adult")
    pages.sign_in("head")
    _draw(pages, size=1)
    sample = _sample(pages)
    item = sample.items[0]
    stale = item.version
    pages.sign_in("sysadmin")
    pages.post(
        f"/log-review/samples/{sample.id}/items/{item.id}",
        {"verdict": "follow_up", "comment": "Kontrollera", "expected_version": str(stale)},
    )
    pages.sign_in("head")
    response = pages.post(
        f"/log-review/samples/{sample.id}/items/{item.id}", {"verdict": "ok", "expected_version": str(stale)}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "Sysadmin OG bedömde raden" in html and "Kontrollera" in html
    pages.world.session.expire_all()
    assert pages.world.session.get(LogReviewItem, item.id).verdict is Verdict.FOLLOW_UP


def test_nobody_judges_their_own_access(pages, opened):
    opened("head", "adult", action="case:read")
    pages.sign_in("head")
    _draw(pages, size=1)
    sample = _sample(pages)
    item = sample.items[0]
    page = pages.get(f"/log-review/samples/{sample.id}").get_data(as_text=True)
    assert "Din egen åtkomst bedöms av en annan granskare" in page
    response = pages.post(
        f"/log-review/samples/{sample.id}/items/{item.id}",
        {"verdict": "ok", "expected_version": str(item.version)},
    )
    assert response.status_code == 422
    pages.sign_in("sysadmin")
    assert (
        pages.post(
            f"/log-review/samples/{sample.id}/items/{item.id}",
            {"verdict": "ok", "expected_version": str(item.version)},
        ).status_code
        == 302
    )


def test_another_units_reviewer_cannot_open_or_judge_the_sample(pages, opened):
    opened("nurse", "adult")
    pages.sign_in("head")
    _draw(pages, size=1)
    sample = _sample(pages)
    item = sample.items[0]
    pages.sign_in("ha_sysadmin")
    assert pages.get(f"/log-review/samples/{sample.id}").status_code == 404
    assert (
        pages.post(f"/log-review/samples/{sample.id}/items/{item.id}", {"verdict": "ok"}).status_code == 404
    )


def test_a_sample_of_an_empty_period_or_a_bad_size_is_refused_beside_the_fields(pages):
    pages.sign_in("head")
    empty = _draw(pages, size=5, first="2026-10-01", last="2026-10-02")
    assert empty.status_code == 422 and "Det finns inga loggrader i perioden" in empty.get_data(as_text=True)
    bad = _draw(pages, size=0)
    assert bad.status_code == 422 and 'id="se-size"' in bad.get_data(as_text=True)
    assert _sample(pages) is None
