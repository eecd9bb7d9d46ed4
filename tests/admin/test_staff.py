"""Users and roles per unit and the end of an employment (OG-4-a), through the administration pages."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import handling
from app.errors import Forbidden
from app.people.models import Membership, User
from app.people.roles import Role
from app.people.service import current_duty, open_shift, roles_at, sign_in, take_duty


def _actions(session, action: str) -> list[AuditEvent]:
    session.expire_all()
    return list(
        session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
    )


def test_OG_4_a_administration_is_refused_to_others_with_403_and_the_attempt_audited(pages):
    pages.sign_in("nurse")
    assert pages.get("/admin").status_code == 403
    assert (
        pages.post(
            "/admin/users",
            {"username": "x.y", "given_name": "X", "family_name": "Y", "role": "Sjuksköterska"},
        ).status_code
        == 403
    )
    refused = _actions(pages.world.session, "admin:refused")
    assert [e.details["path"] for e in refused] == ["/admin", "/admin/users"]
    assert pages.world.session.scalar(select(User).where(User.username == "x.y")) is None


def test_OG_4_a_a_sysadmin_cannot_manage_another_units_staff(pages):
    nurse, _unit = pages.world.staff["nurse"]
    pages.sign_in("ha_sysadmin")
    assert pages.post(f"/admin/users/{nurse.id}/end-employment", {"confirmed": "1"}).status_code == 403
    pages.world.session.expire_all()
    assert nurse.active and roles_at(pages.world.session, nurse.id, pages.world.units["og"].id) == {
        Role.NURSE
    }


def test_OG_4_a_the_unit_page_lists_only_its_users_with_their_roles(pages):
    pages.sign_in("sysadmin")
    html = pages.get("/admin").get_data(as_text=True)
    assert "og.nurse" in html and "og.head" in html and "Verksamhetschef" in html
    assert "ha.nurse" not in html


def test_OG_4_a_a_new_user_with_bad_input_is_refused_beside_the_fields_and_nothing_is_lost(pages):
    pages.sign_in("sysadmin")
    response = pages.post(
        "/admin/users",
        {
            "username": "og.nurse",
            "given_name": "Ny",
            "family_name": "",
            "title": "Ssk",
            "role": "Sjuksköterska",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="e-username"' in html and 'id="e-family_name"' in html
    assert 'value="Ny"' in html and 'value="Ssk"' in html  # typed values kept


def test_OG_4_a_the_sysadmin_starts_an_employment_adds_and_removes_roles_all_audited(pages):
    session = pages.world.session
    pages.sign_in("sysadmin")
    response = pages.post(
        "/admin/users",
        {"username": "ny.ssk", "given_name": "Nora", "family_name": "Nyberg", "role": "Sjuksköterska"},
    )
    assert response.status_code == 302
    user = session.scalar(select(User).where(User.username == "ny.ssk"))
    unit_id = pages.world.units["og"].id
    assert roles_at(session, user.id, unit_id) == {Role.NURSE}
    assert pages.post(f"/admin/users/{user.id}/roles", {"role": "Läkare"}).status_code == 302
    assert (
        pages.post(f"/admin/users/{user.id}/roles", {"role": "Läkare"}).status_code == 409
    )  # already holds it
    session.expire_all()
    doctor = session.scalar(
        select(Membership).where(Membership.user_id == user.id, Membership.role == Role.DOCTOR)
    )
    assert pages.post(f"/admin/memberships/{doctor.id}/remove").status_code == 302
    second = pages.post(f"/admin/memberships/{doctor.id}/remove")  # a second administrator's stale page
    assert second.status_code == 409 and "redan borttagen" in second.get_data(as_text=True)
    session.expire_all()
    assert roles_at(session, user.id, unit_id) == {Role.NURSE}
    assert session.get(Membership, doctor.id).valid_until is not None  # kept, not deleted
    assert [e.details["role"] for e in _actions(session, "membership:added")][-2:] == [
        "Sjuksköterska",
        "Läkare",
    ]
    assert len(_actions(session, "membership:removed")) == 1 and len(_actions(session, "user:created")) == 1


def test_OG_4_a_the_sysadmin_cannot_remove_their_own_admin_role_or_end_their_own_employment(pages):
    session = pages.world.session
    me, unit = pages.world.staff["sysadmin"]
    mine = session.scalar(select(Membership).where(Membership.user_id == me.id))
    pages.sign_in("sysadmin")
    assert pages.post(f"/admin/memberships/{mine.id}/remove").status_code == 422
    assert pages.post(f"/admin/users/{me.id}/end-employment", {"confirmed": "1"}).status_code == 422
    assert roles_at(session, me.id, unit.id) == {Role.LOCAL_SYSADMIN}


def test_OG_4_a_an_ended_employment_cannot_sign_in_or_act_but_its_audit_trail_and_records_keep_the_name(
    pages, clock
):
    world, session = pages.world, pages.world.session
    nurse, unit = world.staff["nurse"]
    case = world.submit("adult")
    handling.receive(session, world.engine, actor=world.actor("nurse"), case_id=case.id)
    session.commit()
    before = [e.id for e in session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == nurse.id))]
    assert before

    pages.sign_in("nurse")
    assert pages.get("/").status_code == 200
    pages.sign_in("sysadmin")
    assert (
        pages.post(f"/admin/users/{nurse.id}/end-employment").status_code == 422
    )  # not confirmed: nothing happens
    session.expire_all()
    assert nurse.active
    response = pages.post(f"/admin/users/{nurse.id}/end-employment", {"confirmed": "1"})
    assert response.status_code == 302
    clock.advance(minutes=1)

    session.expire_all()
    assert not nurse.active and nurse.employment_ended_at is not None
    assert roles_at(session, nurse.id, unit.id) == frozenset()
    with pytest.raises(Forbidden):
        sign_in(session, user=nurse, unit_id=unit.id)
    session.rollback()
    # The nurse's open session no longer works: the next request is sent to the login page.
    pages.sign_in("nurse")
    response = pages.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    # Nothing of theirs is gone: the audit trail still names them, the user row keeps its name.
    after = session.scalars(select(AuditEvent).where(AuditEvent.actor_user_id == nurse.id)).all()
    assert {e.id for e in after} >= set(before)
    assert {e.actor_label for e in after} == {nurse.display_name}
    ended = _actions(session, "user:employment_ended")[-1]
    assert ended.details == {"unit_id": unit.id, "roles": ["Sjuksköterska"], "account_deactivated": True}
    pages.sign_in("sysadmin")
    html = pages.get("/admin").get_data(as_text=True)
    assert nurse.display_name in html and "Avslutad" in html and "Kan inte logga in" in html
    # Ending it again (a second administrator's stale page) is a conflict, not a silent repeat.
    assert pages.post(f"/admin/users/{nurse.id}/end-employment", {"confirmed": "1"}).status_code == 409


def test_OG_4_a_a_returning_user_gets_a_role_again_and_can_sign_in(pages):
    world, session = pages.world, pages.world.session
    nurse, unit = world.staff["nurse2"]
    pages.sign_in("sysadmin")
    pages.post(f"/admin/users/{nurse.id}/end-employment", {"confirmed": "1"})
    assert pages.post(f"/admin/users/{nurse.id}/roles", {"role": "Sjuksköterska"}).status_code == 302
    session.expire_all()
    assert nurse.active and roles_at(session, nurse.id, unit.id) == {Role.NURSE}
    assert _actions(session, "user:reactivated")


def test_the_administration_and_log_review_pages_speak_english_when_chosen(pages):
    pages.sign_in("sysadmin", lang="en")
    expected = {
        "/admin": "Staff and roles",
        "/admin/hours": "Opening hours per weekday",
        "/admin/phrases": "Regional and local phrase templates",
        "/log-review": "Who opened the patient?",
    }
    for path, heading in expected.items():
        html = pages.get(path).get_data(as_text=True)
        assert '<html lang="en">' in html and heading in html, path


def test_OG_4_a_ending_the_employment_of_the_overall_responsible_ends_their_shift_and_duty_audited(pages):
    world, session = pages.world, pages.world.session
    nurse, unit = world.staff["nurse"]
    take_duty(session, actor=world.actor("nurse"))
    session.commit()
    pages.sign_in("sysadmin")
    assert pages.post(f"/admin/users/{nurse.id}/end-employment", {"confirmed": "1"}).status_code == 302
    session.expire_all()
    assert current_duty(session, unit.id) is None and open_shift(session, nurse.id, unit.id) is None
    released = _actions(session, "duty:released")[-1]
    assert released.details["reason"] == "employment ended" and released.actor_label == "Sysadmin OG"
