"""Protected identity in the administrative case and the chat without triage, as in Sök vård: Region
Östergötland verifies the claim in the EHR and follows its routine (OG-6.3); Region Halland does not
handle the person in the platform and sends no SMS (HA-protected, SEC-protected-sms)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases import handling
from app.cases.models import CaseKind, CaseState, ChatMessage
from app.instances import service as instances
from app.notifications.models import Notification, NotificationStatus
from app.patients.models import Protection

FIRST_TASK = {
    CaseKind.ADMIN: ("Hantera det administrativa ärendet", "admin"),
    CaseKind.NO_TRIAGE: ("Läs och besvara meddelandet", "nurse"),
}


@pytest.mark.parametrize("kind", [CaseKind.ADMIN, CaseKind.NO_TRIAGE])
def test_HA_protected_SEC_protected_sms_admin_and_no_triage_cases_are_refused_and_redirected(world, kind):
    """HA-protected: not handled in the platform, told to use 1177.se or visit the clinic; no SMS at all."""
    case = world.submit("adult", unit="ha", kind=kind, protected=True)
    assert (case.state, case.closed_reason) == (CaseState.REFUSED, "protected_identity")
    assert world.titles(case) == []
    [message] = world.session.scalars(
        select(ChatMessage).where(
            ChatMessage.case_id == case.id, ChatMessage.phrase_purpose == "protected_redirect"
        )
    ).all()
    assert "1177.se" in message.body and "Havsbris" not in message.body
    sent = world.session.scalars(
        select(Notification).where(
            Notification.patient_id == case.patient_id, Notification.status != NotificationStatus.SUPPRESSED
        )
    ).all()
    assert sent == []


@pytest.mark.parametrize("kind", [CaseKind.ADMIN, CaseKind.NO_TRIAGE])
def test_OG_6_3_admin_and_no_triage_cases_verify_a_claimed_protected_identity_in_the_ehr_first(world, kind):
    """OG-6.3: the claim is checked in the EHR before the case is handled; confirmed, it follows the routine."""
    title, staff = FIRST_TASK[kind]
    case = world.submit("adult", unit="og", kind=kind, protected=True)
    [verify] = world.tasks(case)
    assert verify.title == "Kontrollera skyddad identitet i journalsystemet" and verify.patient_protected
    assert verify.role.value in world.actor(staff).roles
    instances.complete_task(
        world.session,
        world.engine,
        task_id=verify.id,
        actor=world.actor(staff),
        data={"ehr_checked": True, "confirmed": True},
    )
    world.session.commit()
    assert world.patients["adult"].protection == Protection.CONFIRMED
    assert world.titles(case) == [title]


@pytest.mark.parametrize("kind", [CaseKind.ADMIN, CaseKind.NO_TRIAGE])
def test_OG_6_3_an_unprotected_admin_or_no_triage_case_goes_straight_to_the_queue(world, kind):
    """OG-6.3 applies only to a claimed protected identity: other cases reach the queue at once."""
    case = world.submit("adult", unit="og", kind=kind)
    assert world.titles(case) == [FIRST_TASK[kind][0]]
    assert handling.protected_policy(world.session, world.units["og"]) == "verify_and_follow_routine"
