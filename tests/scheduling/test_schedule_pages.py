"""The schedule pages under /schedule (OG-5, HA-chat-staff) through the Flask test client: the week,
adding, changing, removing and copying shifts, refusals beside the fields, conflicts and 403s."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.people import scheduling
from app.people.models import ScheduledShift
from app.people.roles import Role
from tests.scheduling.conftest import MONDAY

TUESDAY = MONDAY + timedelta(days=1)


def _form(ward, key: str = "nurse", role: Role = Role.NURSE, **overrides) -> dict:
    form = {
        "user_id": str(ward.people[key].id),
        "role": role.value,
        "day": TUESDAY.isoformat(),
        "starts": "08:00",
        "ends": "17:00",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def _shifts(ward) -> list[ScheduledShift]:
    ward.session.expire_all()
    return list(ward.session.scalars(select(ScheduledShift).order_by(ScheduledShift.starts_at)))


def test_OG_5_the_week_page_shows_days_people_roles_and_the_chat_responsible(pages):
    ward = pages.ward
    scheduling.add_shift(
        ward.session, actor=ward.actor("head"), entry=ward.entry("nurse", day=TUESDAY, chat_responsible=True)
    )
    ward.session.commit()
    html = pages.sign_in("head").get("/schedule?week=2026-11-25").get_data(as_text=True)
    assert "<h1>Schema" in html and "Vecka 48" in html and "2026-11-23 – 2026-11-29" in html
    assert '<th scope="col">Tisdag<br>2026-11-24</th>' in html
    row = re.search(r"<tr>\s*<th scope=\"row\">Sara Lind.*?</tr>", html, re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", row, re.S)
    assert len(cells) == 7 and "08:00–17:00 Sjuksköterska" in cells[1] and "Chattansvarig" in cells[1]
    assert "08:00" not in cells[0] and "Ändra" in cells[1]
    assert 'href="/schedule?week=2026-11-16"' in html and 'href="/schedule?week=2026-11-30"' in html
    assert 'aria-current="page"' in html and ">Schema</a>" in html  # the staff navigation leads here
    assert "Lägg till pass" in html and 'for="f-starts"' in html


def test_HA_chat_staff_the_week_page_shows_opening_hours_without_a_named_chat_responsible(pages):
    ward = pages.ward
    _warning_region(ward, True)
    scheduling.add_shift(
        ward.session,
        actor=ward.actor("head"),
        entry=ward.entry("nurse", day=TUESDAY, starts="08:00", ends="12:00", chat_responsible=True),
    )
    ward.session.commit()
    html = pages.sign_in("head").get("/schedule").get_data(as_text=True)
    gaps = re.search(r'<section class="gaps".*?</section>', html, re.S).group(0)
    assert "Öppettid utan namngiven chattansvarig" in gaps and "varnas för de här perioderna" in gaps
    assert "Tisdag 2026-11-24: 12:00–17:00" in gaps
    assert "Måndag 2026-11-23: 08:00–17:00" in gaps and "Lördag" not in gaps  # closed at weekends

    for day in range(5):  # cover every opening hour of the week
        date_ = MONDAY + timedelta(days=day)
        scheduling.add_shift(
            ward.session,
            actor=ward.actor("head"),
            entry=ward.entry("nurse2", day=date_, starts="08:00", ends="17:00", chat_responsible=True),
        )
    ward.session.commit()
    html = pages.get("/schedule").get_data(as_text=True)
    assert 'class="gaps"' not in html and "Chatten har en namngiven ansvarig under hela öppettiden" in html


def _warning_region(ward, warns: bool) -> None:
    region = ward.unit.region
    region.policies = {**(region.policies or {}), "warn_chat_staffing_gaps": warns}
    ward.session.commit()


def test_OG_5_where_the_region_does_not_warn_the_gaps_are_listed_as_information_without_claiming_a_warning(
    pages,
):
    """Region Östergötland leaves the schedule to each unit (OG-5) and warns about no gap: the page lists
    them as help, and does not say anyone is warned."""
    ward = pages.ward
    _warning_region(ward, False)
    html = pages.sign_in("head").get("/schedule").get_data(as_text=True)
    gaps = re.search(r'<section class="gaps unwarned".*?</section>', html, re.S).group(0)
    assert "Måndag 2026-11-23: 08:00–17:00" in gaps and "Regionen varnar inte" in gaps
    assert "varnas" not in gaps


def test_OG_5_the_head_of_unit_adds_a_shift_with_the_form(pages):
    ward = pages.ward
    pages.sign_in("head")
    response = pages.post("/schedule/shifts", _form(ward, chat_responsible="1"))
    assert response.status_code == 302 and response.headers["Location"].endswith("/schedule?week=2026-11-24")
    [shift] = _shifts(ward)
    assert (shift.user_id, shift.role, shift.chat_responsible) == (ward.people["nurse"].id, Role.NURSE, True)
    page = pages.get(response.headers["Location"]).get_data(as_text=True)
    assert (
        '<div class="flash" role="status">' in page and "Passet är tillagt: 2026-11-24 08:00–17:00." in page
    )
    audit = ward.session.scalars(select(AuditEvent).where(AuditEvent.action == scheduling.ACTION_ADDED)).one()
    assert audit.actor_user_id == ward.people["head"].id


def test_OG_5_a_refused_shift_is_shown_beside_its_fields_with_what_was_typed_and_nothing_saved(pages):
    ward = pages.ward
    pages.sign_in("head")
    response = pages.post("/schedule/shifts", _form(ward, role=Role.DOCTOR, ends="07:00"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and _shifts(ward) == []
    assert 'role="alert" tabindex="-1" data-focus-on-load' in html and "Passet lades inte till." in html
    assert '<a href="#f-ends">Slutar: Passet ska sluta efter att det börjar.' in html
    assert (
        'id="f-ends" name="ends" type="time" value="07:00" required aria-invalid="true" aria-describedby="e-ends"'
        in html
    )
    response = pages.post("/schedule/shifts", _form(ward, role=Role.DOCTOR))
    html = response.get_data(as_text=True)
    assert (
        response.status_code == 422
        and 'id="e-role" class="field-error">Sara Lind har inte rollen Läkare' in html
    )
    response = pages.post("/schedule/shifts", _form(ward, starts="åtta", day="i morgon"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Skriv starttiden som TT:MM" in html and "ÅÅÅÅ-MM-DD" in html
    assert 'value="åtta"' in html


def test_OG_5_a_member_reads_the_schedule_but_may_not_change_it_and_the_attempt_is_audited(pages):
    ward = pages.ward
    shift = scheduling.add_shift(
        ward.session, actor=ward.actor("head"), entry=ward.entry("nurse", day=TUESDAY)
    )
    ward.session.commit()
    html = pages.sign_in("nurse2").get("/schedule").get_data(as_text=True)
    assert "Sara Lind" in html and "08:00–17:00" in html
    assert (
        "Lägg till pass" not in html
        and "Ändra" not in html
        and "Du kan läsa schemat men inte ändra det" in html
    )
    for path, data in (
        ("/schedule/shifts", _form(ward, "nurse2")),
        (f"/schedule/shifts/{shift.id}", {**_form(ward), "version": str(shift.version)}),
        (f"/schedule/shifts/{shift.id}/remove", {"version": str(shift.version)}),
        ("/schedule/copy-week", {"week": MONDAY.isoformat()}),
    ):
        response = pages.post(path, data)
        assert response.status_code == 403, path
        assert "Enhetens rutin säger vem som lägger schema" in response.get_data(as_text=True)
    assert pages.get(f"/schedule/shifts/{shift.id}").status_code == 403
    assert len(_shifts(ward)) == 1
    refusals = ward.session.scalars(
        select(AuditEvent).where(AuditEvent.action == scheduling.ACTION_REFUSED)
    ).all()
    assert len(refusals) == 5 and refusals[0].actor_user_id == ward.people["nurse2"].id


def test_OG_5_the_units_routine_set_on_the_administration_page_decides_who_schedules(pages):
    ward = pages.ward
    pages.sign_in("sysadmin")
    html = pages.get("/admin/routines").get_data(as_text=True)
    assert (
        "Roller som får lägga schema" in html and 'name="schedulers" value="Verksamhetschef" checked' in html
    )
    from app.admin.settings_services import routine_settings

    page = routine_settings(ward.session, actor=ward.actor("sysadmin"))
    ward.session.commit()
    form = {"version": page.version, "shown": page.shown}
    for state in page.states:
        if state.setting.kind.value == "role_map":
            from app.admin.unit_setting_catalog import role_field

            for role, targets in state.value.items():
                form[role_field(role)] = targets
        elif state.setting.kind.value == "boolean":
            if state.value:
                form[state.setting.key] = "1"
        elif state.setting.kind.value in ("integer", "decimal"):
            form[state.setting.key] = str(state.value)
        elif state.setting.kind.value != "role_set":
            form[state.setting.key] = state.value if state.is_set else ""
    form["schedulers"] = [Role.MEDICAL_ADMIN.value, Role.HEAD_OF_UNIT.value]
    assert pages.post("/admin/routines", form).status_code == 302
    ward.session.expire_all()
    assert ward.unit.settings["schedulers"] == [Role.MEDICAL_ADMIN.value, Role.HEAD_OF_UNIT.value]

    response = pages.sign_in("medadmin").post("/schedule/shifts", _form(ward))
    assert response.status_code == 302 and len(_shifts(ward)) == 1


def test_OG_5_changing_and_removing_a_shift_and_a_stale_page_is_a_409_never_an_overwrite(pages):
    ward = pages.ward
    shift = scheduling.add_shift(
        ward.session, actor=ward.actor("head"), entry=ward.entry("nurse", day=TUESDAY)
    )
    ward.session.commit()
    seen, shift_id = shift.version, shift.id
    pages.sign_in("head")
    edit = pages.get(f"/schedule/shifts/{shift_id}").get_data(as_text=True)
    assert "Ändra pass" in edit and f'name="version" value="{seen}"' in edit and 'value="08:00"' in edit
    response = pages.post(
        f"/schedule/shifts/{shift_id}", {**_form(ward, starts="09:00"), "version": str(seen)}
    )
    assert response.status_code == 302
    [changed] = _shifts(ward)
    assert changed.starts_at.hour == 8 and changed.version == seen + 1  # 09:00 in Stockholm is 08:00 UTC

    stale = pages.post(f"/schedule/shifts/{shift_id}", {**_form(ward, ends="12:00"), "version": str(seen)})
    html = stale.get_data(as_text=True)
    assert stale.status_code == 409 and "Passet ändrades av någon annan medan du redigerade" in html
    assert 'value="12:00"' in html and f'name="version" value="{seen + 1}"' in html  # typed kept, now current
    assert _shifts(ward)[0].ends_at.astimezone(scheduling.STOCKHOLM).hour == 17
    assert pages.post(f"/schedule/shifts/{shift_id}/remove", {"version": str(seen)}).status_code == 409
    assert len(_shifts(ward)) == 1

    removed = pages.post(f"/schedule/shifts/{shift_id}/remove", {"version": str(seen + 1)})
    assert removed.status_code == 302 and _shifts(ward) == []
    page = pages.get(removed.headers["Location"]).get_data(as_text=True)
    assert "Passet är borttaget: Sara Lind 2026-11-24 09:00–17:00." in page
    gone = pages.get(f"/schedule/shifts/{shift_id}", follow_redirects=True).get_data(as_text=True)
    assert "Passet finns inte längre" in gone


def test_OG_5_another_units_head_cannot_open_or_change_this_units_shift(pages):
    ward = pages.ward
    shift = scheduling.add_shift(
        ward.session, actor=ward.actor("head"), entry=ward.entry("nurse", day=TUESDAY)
    )
    ward.session.commit()
    pages.sign_in("other_head")
    assert pages.get(f"/schedule/shifts/{shift.id}").status_code == 403
    response = pages.post(f"/schedule/shifts/{shift.id}/remove", {"version": str(shift.version)})
    assert response.status_code == 403 and len(_shifts(ward)) == 1
    assert "Sara Lind" not in pages.get("/schedule").get_data(as_text=True)


def test_OG_5_copying_the_week_from_the_page(pages):
    ward = pages.ward
    scheduling.add_shift(ward.session, actor=ward.actor("head"), entry=ward.entry("nurse", day=TUESDAY))
    ward.session.commit()
    pages.sign_in("head")
    response = pages.post("/schedule/copy-week", {"week": MONDAY.isoformat()})
    assert response.status_code == 302 and response.headers["Location"].endswith("week=2026-11-30")
    assert [s.starts_at.date().isoformat() for s in _shifts(ward)] == ["2026-11-24", "2026-12-01"]
    again = pages.post("/schedule/copy-week", {"week": MONDAY.isoformat()}, follow_redirects=True)
    html = again.get_data(as_text=True)
    assert (
        "0 pass kopierades till nästa vecka." in html
        and "Kopierades inte: Sara Lind 2026-11-24 08:00–17:00." in html
    )
    assert len(_shifts(ward)) == 2


def test_the_schedule_in_english_and_signed_out_users_are_sent_to_the_login(pages):
    assert pages.client.get("/schedule").status_code == 302
    html = pages.sign_in("head", lang="en").get("/schedule").get_data(as_text=True)
    assert "<h1>Schedule" in html and "Add shift" in html and "Tuesday" in html
    assert "Opening hours without a named chat responsible" in html


def test_a_refusal_names_the_role_in_the_readers_language(pages):
    ward = pages.ward
    html = (
        pages.sign_in("head", lang="en")
        .post("/schedule/shifts", _form(ward, role=Role.DOCTOR))
        .get_data(as_text=True)
    )
    assert "Sara Lind does not hold the role Doctor at the unit." in html
