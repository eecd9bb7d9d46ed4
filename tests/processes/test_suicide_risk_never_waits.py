"""HA-handover-consent / HA-suicide-b: a suicide-risk handover never waits for consent, also when another
consent question is pending (a handover to another role, a meeting-form switch): the question is
withdrawn, audited, and the assessment handover happens at once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import chat, handling
from app.cases.models import CaseState, Consent, ConsentAnswer
from app.errors import Conflict

ASSESS = "Gör en samlad suicidriskbedömning"


def _raise_and_check(world, case, nurse) -> None:
    consent = world.session.scalar(select(Consent).where(Consent.case_id == case.id))
    assert consent.answer == ConsentAnswer.PENDING and world.titles(case) == []
    handling.suspect_suicide_risk(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    [task] = world.tasks(case)
    assert (task.title, task.role.value, task.owner_user_id) == (ASSESS, "Psykolog", None)
    assert case.suicide_risk == "suspected" and case.state != CaseState.HANDED_OVER
    world.session.refresh(consent)
    assert consent.answer == ConsentAnswer.EXPIRED
    withdrawn = world.session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "consent:withdrawn", AuditEvent.subject_id == str(case.id)
        )
    ).all()
    assert [e.details["reason"] for e in withdrawn] == ["suicide_risk"]
    with pytest.raises(Conflict):  # the late answer reaches no routine: refused, not lost silently
        chat.answer_consent(
            world.session, world.engine, actor=world.resident("adult"), consent_id=consent.id, given=True
        )
    world.session.rollback()


def test_HA_handover_consent_HA_suicide_b_suicide_risk_while_a_handover_consent_is_pending_hands_over_at_once(
    world,
):
    """HA-handover-consent: handed to the doctor, consent pending; suspected suicide risk does not wait."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    handling.hand_over(world.session, world.engine, actor=nurse, case_id=case.id, role="Läkare")
    world.session.commit()
    _raise_and_check(world, case, nurse)


def test_HA_handover_consent_HA_suicide_b_suicide_risk_while_a_meeting_form_consent_is_pending_hands_over_at_once(
    world,
):
    """HA-suicide-b: a pending meeting-form consent (OG-8.3) does not hold back the suicide-risk handover."""
    case = world.submit("adult")
    nurse = world.received_and_started(case)
    handling.switch_meeting_form(
        world.session, world.engine, actor=nurse, case_id=case.id, form="video", cost="200 kr"
    )
    world.session.commit()
    _raise_and_check(world, case, nurse)
