"""The overall-responsible duty (OG-10.1-a), cases on absent people (OG-6.1-j) and ending a shift (HA-shift, OG-6.1-i)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.instances.models import HumanTask
from app.people.models import Shift
from app.people.service import duty_holder, sign_out, take_duty
from tests.worklist.conftest import access_rows, refusals, start


def test_OG_10_1_a_who_holds_the_duty_is_shown_taken_and_passed_to_a_present_colleague(world, pages):
    unit = world.units["og"]
    page = pages.sign_in("nurse").text("/duty")
    assert "Ingen har det övergripande ansvaret just nu." in page and "Ta det övergripande ansvaret" in page
    assert pages.post("/duty/take").status_code == 302
    page = pages.text("/duty")
    assert "Du har nu det övergripande ansvaret." in page and "Lämna över" in page
    doctor, _unit = world.staff["doctor"]
    assert f'<option value="{doctor.id}">Doctor OG</option>' in page  # present clinicians only
    admin, _unit = world.staff["admin"]
    assert f'value="{admin.id}"' not in page  # not a clinician: cannot hold it
    assert pages.post("/duty/pass", {"to_user_id": doctor.id}).status_code == 302
    world.session.expire_all()
    assert duty_holder(world.session, unit.id).user_id == doctor.id
    world.session.commit()
    assert "Doctor OG har det övergripande ansvaret sedan" in pages.text("/duty")


def test_OG_10_1_a_a_refused_take_is_explained_on_the_page(world, pages):
    take_duty(world.session, actor=world.actor("doctor"))
    world.session.commit()
    response = pages.sign_in("nurse").post("/duty/take")
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 409
        and "Be kollegan lämna över det till dig." in page
        and 'role="alert"' in page
    )
    admin_page = pages.sign_in("admin").text("/duty")
    assert "Ta det övergripande ansvaret" not in admin_page  # Administrativ kontakt is no clinician


def test_OG_6_1_j_OG_10_1_b_the_holder_sees_cases_left_on_absent_colleagues_and_moves_them_to_the_role_queue(
    world, pages, clock
):
    case = world.submit("adult")
    nurse = start(world, case)
    sign_out(world.session, actor=nurse)  # gone without ending the shift: the case stays on her
    world.session.commit()
    clock.advance(minutes=1)
    assert "Visas för den som har det övergripande ansvaret." in pages.sign_in("nurse2").text("/duty")
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    page = pages.text("/duty")
    assert "Anna Andersson" in page and "Nurse OG" in page and "Flytta till yrkesrollens kö" in page
    holder, _unit = world.staff["nurse2"]
    assert (holder.id, {case.patient_id}) in access_rows(world.session, "duty:absent_owner_cases")
    assert pages.post(f"/duty/cases/{case.id}/to-role-queue").status_code == 302
    world.session.expire_all()
    assert world.session.get(Case, case.id).owner_user_id is None
    assert (
        world.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "case:moved_to_role_queue")
        ).details["reason"]
        == "owner absent"
    )
    world.session.commit()
    assert "Alla pågående ärenden har en ägare som är på plats." in pages.text("/duty")


def test_HA_shift_OG_6_1_i_ending_the_shift_warns_with_the_ongoing_cases_then_moves_them_to_the_role_queue(
    world, pages
):
    """HA-shift: the warning lists the user's own ongoing cases; OG-6.1-i: once confirmed they go to the role's queue."""
    case = world.submit("adult")
    start(world, case)
    header = pages.sign_in("nurse").text("/")
    assert '<a href="/shift/end">Avsluta skift</a>' in header  # every page's header leads to the warning
    assert pages.post("/shift/end").status_code == 405  # no way around it
    page = pages.text("/shift/end")
    assert "Du har 1 pågående ärende" in page and "Anna Andersson" in page and 'role="alert"' in page
    nurse, _unit = world.staff["nurse"]
    assert (nurse.id, {case.patient_id}) in access_rows(world.session, "shift:ongoing_cases")
    assert (
        pages.post("/shift/end/confirm").headers["Location"] == "/shift/end"
    )  # no confirmation, nothing ends
    response = pages.post("/shift/end/confirm", {"confirmed": "1"})
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    world.session.expire_all()
    assert world.session.get(Case, case.id).owner_user_id is None
    [task] = world.session.scalars(select(HumanTask).where(HumanTask.case_id == case.id)).all()
    assert task.owner_user_id is None and task.role.value == "Sjuksköterska"
    assert world.session.scalar(select(Shift.ended_at).where(Shift.user_id == nurse.id)) is not None
    world.session.commit()
    assert pages.get("/").status_code == 302  # signed out


def test_HA_shift_the_duty_holder_is_reminded_to_pass_it_on_before_leaving(world, pages):
    take_duty(world.session, actor=world.actor("nurse"))
    world.session.commit()
    page = pages.sign_in("nurse").text("/shift/end")
    assert "Du har inga pågående ärenden." in page and "Du har det övergripande ansvaret." in page


def test_OG_10_1_a_the_patient_list_says_who_holds_the_duty_and_warns_when_nobody_does(world, pages):
    """OG-10.1-a: who holds the duty at any moment is clear on the start page; a gap is a warning."""
    gap = pages.sign_in("nurse").text("/")
    assert "Ingen har det övergripande ansvaret just nu." in gap and 'class="duty-gap"' in gap
    take_duty(world.session, actor=world.actor("doctor"))
    world.session.commit()
    page = pages.text("/")
    assert "Övergripande ansvarig: Doctor OG" in page and "duty-gap" not in page


def test_OG_6_1_j_OG_10_1_b_the_holders_patient_list_counts_cases_on_absent_owners_and_marks_them(
    world, pages, clock
):
    """OG-6.1-j / OG-10.1-b: the holder's start page counts cases left on someone not present (linking to
    the page where they are moved); every list marks such an owner "inte på plats"."""
    case = world.submit("adult")
    nurse = start(world, case)
    take_duty(world.session, actor=world.actor("nurse2"))
    world.session.commit()
    page = pages.sign_in("nurse2").text("/?scope=unit")
    assert "Alla pågående ärenden har en ägare som är på plats." in page and "inte på plats" not in page
    sign_out(world.session, actor=nurse)
    world.session.commit()
    clock.advance(minutes=1)
    page = pages.text("/?scope=unit")
    assert "1 ärende ägs av en kollega som inte är på plats" in page and "/duty#absent-heading" in page
    assert 'Nurse OG <span class="meta absent">inte på plats</span>' in page
    assert "ägs av en kollega" not in pages.sign_in("doctor").text("/")  # the holder's notice only


def test_OG_6_1_j_OG_10_1_a_only_the_holder_moves_cases_or_passes_the_duty_others_get_403_and_are_audited(
    world, pages
):
    """Moving a colleague's case to the role queue and passing the duty are the holder's: anyone else is
    refused with 403, nothing changes, and each attempt is in the audit log."""
    case = world.submit("adult")
    start(world, case, "nurse2")
    take_duty(world.session, actor=world.actor("doctor"))
    world.session.commit()
    nurse, _unit = world.staff["nurse"]
    doctor, _unit = world.staff["doctor"]
    pages.sign_in("nurse")
    moved = pages.post(f"/duty/cases/{case.id}/to-role-queue")
    passed = pages.post("/duty/pass", {"to_user_id": nurse.id})
    assert moved.status_code == 403 and passed.status_code == 403
    assert 'role="alert"' in moved.get_data(as_text=True)
    assert refusals(world.session) == [
        (nurse.id, "case", str(case.id), f"/duty/cases/{case.id}/to-role-queue"),
        (nurse.id, "unit", str(world.units["og"].id), "/duty/pass"),
    ]
    world.session.expire_all()
    assert world.session.get(Case, case.id).owner_user_id is not None
    assert duty_holder(world.session, world.units["og"].id).user_id == doctor.id
    world.session.commit()


def test_HA_shift_OG_6_1_i_the_sign_in_page_after_ending_the_shift_says_where_the_cases_and_the_duty_went(
    world, pages
):
    """The user lands on the sign-in page: it says once that the ongoing cases are in the role's queue and
    that the duty was released (a gap the unit now has), instead of nothing at all."""
    for key in ("adult", "other"):
        start(world, world.submit(key))
    take_duty(world.session, actor=world.actor("nurse"))
    world.session.commit()
    pages.sign_in("nurse")
    assert pages.post("/shift/end/confirm", {"confirmed": "1"}).headers["Location"] == "/login"
    landing = pages.text("/login")
    assert "Skiftet är avslutat." in landing
    assert "Dina 2 pågående ärenden ligger nu i din yrkesrolls kö." in landing
    assert "Det övergripande ansvaret är släppt" in landing
    assert "Skiftet är avslutat." not in pages.text("/login")  # said once


def test_a_process_owner_is_offered_neither_the_duty_nor_chat_phrases_and_errors_lead_to_her_own_area(
    world, pages
):
    """The end-of-shift page showed a process owner the case staff's menu (the duty, chat phrases) and an
    error page offered her "Till patientliggaren", a list she cannot open."""
    from app.people.roles import Role
    from tests.worklist.conftest import join_unit

    join_unit(world, "owner", Role.PROCESS_OWNER)
    world.session.commit()
    pages.sign_in("owner")
    page = pages.text("/shift/end")
    assert 'href="/profile"' in page and 'href="/duty"' not in page and 'href="/phrases"' not in page
    refused = pages.get("/cases/1")
    assert refused.status_code in (403, 404)
    body = refused.get_data(as_text=True)
    assert "Till patientliggaren" not in body and '<a href="/process-models">Processer</a>' in body
    nurse_page = pages.sign_in("nurse").text("/shift/end")
    assert 'href="/duty"' in nurse_page and 'href="/phrases"' in nurse_page
