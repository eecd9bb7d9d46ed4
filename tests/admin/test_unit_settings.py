"""Opening hours, cover by another unit instead of closing (OG-9.2), and regional and local phrase
templates published by the local system administrator (OG-8.2)."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.permissions import can_read
from app.people.calendars import unit_calendar
from app.people.models import OpeningException, Unit
from app.phrases.models import PhraseStatus, PhraseTemplate
from app.phrases.service import text_for

TUESDAY = date(2026, 11, 24)  # the day after DEFAULT_NOW


def _actions(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def _hours_form(version: int, **overrides) -> dict:
    form = {"expected_version": str(version)}
    for day in range(5):
        form[f"d{day}_0_opens"], form[f"d{day}_0_closes"] = "08:00", "12:00"
        form[f"d{day}_1_opens"], form[f"d{day}_1_closes"] = "13:00", "17:00"
    form.update(overrides)
    return form


def test_the_sysadmin_sets_opening_hours_with_a_lunch_break_audited(pages):
    session = pages.world.session
    unit = pages.world.units["og"]
    pages.sign_in("sysadmin")
    page = pages.get("/admin/hours").get_data(as_text=True)
    assert 'value="08:00"' in page and 'value="17:00"' in page
    response = pages.post("/admin/hours", _hours_form(unit.calendar_version))
    assert response.status_code == 302
    session.expire_all()
    assert unit_calendar(session, unit.id).weekly[0] == unit_calendar(session, unit.id).weekly[4]
    assert [(s.opens, s.closes) for s in unit_calendar(session, unit.id).weekly[0]] == [
        (time(8), time(12)),
        (time(13), time(17)),
    ]
    assert len(_actions(session, "unit:opening_hours_changed")) == 1


def test_opening_hours_changed_meanwhile_are_a_409_conflict_never_overwritten(pages):
    session = pages.world.session
    unit = pages.world.units["og"]
    stale = unit.calendar_version
    pages.sign_in("sysadmin")
    assert pages.post("/admin/hours", _hours_form(stale)).status_code == 302
    response = pages.post(
        "/admin/hours", _hours_form(stale, d0_0_opens="07:00", d0_1_opens="", d0_1_closes="")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409 and "ändrades av någon annan" in html
    assert "Sparade öppettider nu" in html and "08:00–12:00, 13:00–17:00" in html  # what changed
    assert 'value="07:00"' in html  # what was typed stays in the form
    session.expire_all()
    assert unit_calendar(session, unit.id).weekly[0][0].opens == time(8)
    fresh = re.search(r'name="expected_version" value="(\d+)"', html).group(1)
    assert int(fresh) == session.get(Unit, unit.id).calendar_version  # saving again is a deliberate choice
    again = pages.post(
        "/admin/hours", _hours_form(int(fresh), d0_0_opens="07:00", d0_1_opens="", d0_1_closes="")
    )
    assert again.status_code == 302


def test_overlapping_intervals_are_refused_with_the_typed_values(pages):
    pages.sign_in("sysadmin")
    form = _hours_form(pages.world.units["og"].calendar_version, d1_1_opens="11:00")
    response = pages.post("/admin/hours", form)
    assert response.status_code == 422 and "får inte överlappa" in response.get_data(as_text=True)
    assert 'value="11:00"' in response.get_data(as_text=True)


def test_bad_opening_hours_are_shown_beside_the_field_with_the_typed_values(pages):
    pages.sign_in("sysadmin")
    response = pages.post(
        "/admin/hours",
        _hours_form(pages.world.units["og"].calendar_version, d2_0_opens="8 am", d3_0_opens="18:00"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-d2_0"' in html and 'id="e-d3_0"' in html and 'value="8 am"' in html


def test_OG_9_2_closing_a_unit_is_refused_with_the_rule_and_the_attempt_audited(pages):
    session = pages.world.session
    pages.sign_in("sysadmin")
    response = pages.post("/admin/close")
    assert response.status_code == 422 and "OG-9.2" in response.get_data(as_text=True)
    # Closing days without a unit that keeps the service open is the same attempt.
    response = pages.post(
        "/admin/cover",
        {
            "first_day": TUESDAY.isoformat(),
            "last_day": (TUESDAY + timedelta(days=2)).isoformat(),
            "covering_unit_id": "",
        },
    )
    assert response.status_code == 422 and "OG-9.2" in response.get_data(as_text=True)
    assert session.scalars(select(OpeningException)).all() == []
    assert [e.details.get("rule") for e in _actions(session, "unit:closing_refused")] == ["OG-9.2", "OG-9.2"]


def test_OG_9_2_cover_is_arranged_beforehand_and_the_covering_staff_can_read_the_units_cases_then(
    pages, clock
):
    world, session = pages.world, pages.world.session
    og, ha = world.units["og"], world.units["ha"]
    case = world.submit("adult")
    pages.sign_in("sysadmin")
    # A cover that would start today is too late: the other unit's staff get access beforehand.
    today = pages.post(
        "/admin/cover", {"first_day": "2026-11-23", "last_day": "2026-11-24", "covering_unit_id": str(ha.id)}
    )
    assert today.status_code == 422 and 'id="e-first_day"' in today.get_data(as_text=True)
    response = pages.post(
        "/admin/cover",
        {
            "first_day": "2026-11-24",
            "last_day": "2026-11-30",
            "covering_unit_id": str(ha.id),
            "note": "Utbildningsdag",
        },
    )
    assert response.status_code == 302
    days = sorted(
        e.day for e in session.scalars(select(OpeningException).where(OpeningException.unit_id == og.id))
    )
    assert days == [date(2026, 11, d) for d in (24, 25, 26, 27, 30)]  # the weekend is closed anyway
    arranged = _actions(session, "unit:cover_arranged")
    assert len(arranged) == 1 and arranged[0].details["covering_unit_id"] == ha.id
    assert "Vårdcentralen Havsbris" in pages.get("/admin/hours").get_data(as_text=True)

    covering_nurse = world.actor("ha_nurse")
    assert not can_read(session, covering_nurse, case)  # not yet: the cover starts tomorrow
    clock.set(clock.now() + timedelta(days=1))
    assert can_read(session, covering_nurse, case)


def test_OG_8_2_the_sysadmin_publishes_a_local_template_decided_by_the_head_and_routines_send_it(pages):
    world, session = pages.world, pages.world.session
    head, unit = world.staff["head"]
    pages.sign_in("sysadmin")
    form = {
        "level": "local",
        "purpose": "case_received",
        "title": "Mottaget (Ekdalen)",
        "text": "Hej {patient_first_name}. Vi på vårdcentralen har tagit emot ditt ärende.",
    }
    assert pages.post("/admin/phrases", form).status_code == 302
    draft = session.scalar(select(PhraseTemplate).where(PhraseTemplate.title == "Mottaget (Ekdalen)"))
    # Not decided by the head of unit: publishing is refused (OG-8.2), nothing changes.
    refused = pages.post(f"/admin/phrases/{draft.id}/publish")
    assert refused.status_code == 422 and "verksamhetschef" in refused.get_data(as_text=True)
    assert (
        pages.post(
            "/admin/phrases", {**form, "title": "Mottaget v2", "decided_by_user_id": str(head.id)}
        ).status_code
        == 302
    )
    decided = session.scalar(select(PhraseTemplate).where(PhraseTemplate.title == "Mottaget v2"))
    assert pages.post(f"/admin/phrases/{decided.id}/publish").status_code == 302
    session.expire_all()
    assert decided.status is PhraseStatus.PUBLISHED and decided.decided_by_user_id == head.id
    assert text_for(session, unit_id=unit.id, purpose="case_received").startswith(
        "Hej {patient_first_name}. Vi på vårdcentralen"
    )
    assert pages.post(f"/admin/phrases/{decided.id}/publish").status_code == 409  # not a draft any more
    assert pages.post(f"/admin/phrases/{decided.id}/retire").status_code == 302
    assert (
        len(_actions(session, "phrase_template:published")) >= 1
        and len(_actions(session, "phrase_template:retired")) == 1
    )


def test_OG_8_2_a_regional_template_published_here_reaches_every_unit_of_the_region_only(pages):
    world, session = pages.world, pages.world.session
    pages.sign_in("sysadmin")
    pages.post(
        "/admin/phrases",
        {
            "level": "regional",
            "purpose": "closing",
            "title": "Avslut (region)",
            "text": "Tack för att du hörde av dig. Ring 1177 om du behöver.",
        },
    )
    template = session.scalar(select(PhraseTemplate).where(PhraseTemplate.title == "Avslut (region)"))
    assert pages.post(f"/admin/phrases/{template.id}/publish").status_code == 302
    session.expire_all()
    assert text_for(session, unit_id=world.units["og"].id, purpose="closing").startswith(
        "Tack för att du hörde av dig. Ring 1177"
    )
    assert not text_for(session, unit_id=world.units["ha"].id, purpose="closing").endswith(
        "Ring 1177 om du behöver."
    )
    # Another region's sysadmin cannot retire it.
    pages.sign_in("ha_sysadmin")
    assert pages.post(f"/admin/phrases/{template.id}/retire").status_code == 403


def test_OG_8_2_a_draft_with_bad_input_keeps_the_typed_text(pages):
    pages.sign_in("sysadmin")
    response = pages.post(
        "/admin/phrases", {"level": "local", "purpose": "case_received", "title": "", "text": "Min text"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="e-title"' in html and "Min text" in html
    assert pages.world.session.get(Unit, pages.world.units["og"].id) is not None


def test_OG_9_2_a_unit_cannot_cover_for_itself(pages):
    own = pages.world.units["og"]
    pages.sign_in("sysadmin")
    response = pages.post(
        "/admin/cover", {"first_day": "2026-11-24", "last_day": "2026-11-24", "covering_unit_id": str(own.id)}
    )
    assert response.status_code == 422 and "kan inte täcka" in response.get_data(as_text=True)
    assert pages.world.session.scalars(select(OpeningException)).all() == []
