"""Work in a case beside the routine: the patient list's order, images, forms, colleagues, registration,
new-case SMS, and protected identity across every message the routines send."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.cases import chat, handling
from app.cases.ack import inbox
from app.errors import GuardRefused, ValidationFailed
from app.notifications.models import Notification
from app.people.service import sign_out
from app.worklist.queries import open_tasks_for


def _start(world, case, who="nurse"):
    actor = world.actor(who)
    handling.receive(world.session, world.engine, actor=actor, case_id=case.id)
    handling.start(world.session, world.engine, actor=actor, case_id=case.id)
    world.session.commit()
    return actor


def test_HA_prio_a_OG_9_OG_10_1_g_OG_6_1_a_the_list_puts_priority_first_and_started_cases_before_new_ones(
    world, clock
):
    """Highest priority on top; within a priority started cases before new ones of lower priority; then longest waiting."""
    low_old = world.submit("adult", days=20)  # priority 4, oldest
    clock.advance(minutes=1)
    started_three = world.submit("other")  # priority 3, started below
    clock.advance(minutes=1)
    new_three = world.submit("guardian")  # priority 3, new
    clock.advance(minutes=1)
    urgent = world.submit("teen", high_fever=True)  # priority 2, newest
    _start(world, started_three)
    for who in ("nurse", "nurse2"):  # the unit's cases for the role, owned by a colleague or not
        order = [t.case_id for t in open_tasks_for(world.session, world.actor(who))]
        assert order == [urgent.id, started_three.id, new_three.id, low_old.id]


def test_OG_11_f_images_asked_for_in_the_chat_are_uploaded_into_the_case(world):
    case = world.submit("adult")
    nurse = _start(world, case)
    request = chat.request_images(
        world.session, actor=nurse, case_id=case.id, instructions="Ta en bild på utslaget i dagsljus."
    )
    world.session.commit()
    image = chat.upload_image(
        world.session,
        actor=world.resident("adult"),
        case_id=case.id,
        filename="utslag.jpg",
        content_type="image/jpeg",
        content=b"\xff\xd8\xff fake jpeg",
        request_id=request.id,
    )
    world.session.commit()
    assert image.size > 0 and request.fulfilled_at is not None
    with pytest.raises(ValidationFailed):
        chat.upload_image(
            world.session,
            actor=world.resident("adult"),
            case_id=case.id,
            filename="virus.exe",
            content_type="application/octet-stream",
            content=b"MZ",
        )
    world.session.rollback()
    triaged = world.submit("other", reason="utslag")  # the triage itself asks for images
    from app.cases.models import ImageRequest

    assert (
        world.session.scalar(
            select(ImageRequest).where(
                ImageRequest.case_id == triaged.id, ImageRequest.requested_by.is_(None)
            )
        )
        is not None
    )


def test_OG_11_f_an_upload_cannot_answer_another_cases_image_request(world):
    """The request an image answers must belong to the same case; nothing is stored when it does not."""
    from app.cases.models import CaseImage

    first, second = world.submit("adult"), world.submit("guardian")
    nurse = _start(world, first)
    foreign = chat.request_images(
        world.session, actor=nurse, case_id=first.id, instructions="Bild på utslaget."
    )
    world.session.commit()
    guardian = world.resident("guardian")
    with pytest.raises(ValidationFailed) as refused:
        chat.upload_image(
            world.session,
            actor=guardian,
            case_id=second.id,
            filename="a.jpg",
            content_type="image/jpeg",
            content=b"\xff\xd8\xff",
            request_id=foreign.id,
        )
    world.session.rollback()
    assert "request_id" in refused.value.field_errors
    assert foreign.fulfilled_at is None
    assert world.session.scalar(select(CaseImage).where(CaseImage.case_id == second.id)) is None


def test_OG_8_1_HA_forms_a_rating_scale_is_sent_as_previewed_answered_acknowledged_and_documented(world):
    from app.cases.patient_forms import form_definition

    case = world.submit("adult")
    nurse = _start(world, case)
    form = chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    assert form.definition == form_definition("demo_mood")  # exactly what the preview showed
    with pytest.raises(ValidationFailed):
        chat.answer_form(world.session, actor=world.resident("adult"), form_id=form.id, answers={"q1": 7})
    world.session.rollback()
    chat.answer_form(
        world.session,
        actor=world.resident("adult"),
        form_id=form.id,
        answers={"q1": 1, "q2": 2, "q3": 0, "q4": 3},
    )
    world.session.commit()
    assert form.score == 6
    assert [i.kind.value for i in inbox(world.session, actor=nurse)] == ["form_returned"]
    chat.document_form(world.session, actor=nurse, form_id=form.id, how="summarised")
    world.session.commit()
    assert form.documentation == "summarised"


def test_OG_8_5_a_colleague_invited_into_a_case_may_act_in_it(world):
    from app.cases.permissions import can_act

    case = world.submit("adult")
    nurse = _start(world, case)
    nurse2 = world.actor("nurse2")
    assert not can_act(world.session, nurse2, case)
    chat.invite_colleague(world.session, actor=nurse, case_id=case.id, colleague_id=nurse2.user_id)
    world.session.commit()
    assert can_act(world.session, nurse2, case)
    assert "invitation" in [i.kind.value for i in inbox(world.session, actor=nurse2)]
    world.units["og"].settings = {**world.units["og"].settings, "invite_colleague": False}
    world.session.commit()
    with pytest.raises(GuardRefused) as refused:
        chat.invite_colleague(
            world.session, actor=nurse, case_id=case.id, colleague_id=world.actor("doctor").user_id
        )
    assert refused.value.rule == "OG-8.5"


def test_OG_8_7_new_case_sms_only_to_present_staff_of_the_queue_role(world, clock):
    nurse, nurse2 = world.actor("nurse"), world.actor("nurse2")
    sign_out(world.session, actor=nurse2)
    world.session.commit()
    clock.advance(minutes=1)
    case = world.submit("adult")
    staff_sms = world.session.scalars(
        select(Notification).where(Notification.case_id == case.id, Notification.user_id.is_not(None))
    ).all()
    assert {n.user_id for n in staff_sms} == {nurse.user_id}  # not the signed-out nurse, not the doctor
    assert all(n.channel.value == "sms" for n in staff_sms)


def test_HA_reg_a_HA_reg_c_a_chat_that_replaced_a_visit_gets_an_arrival_registration(world, clock):
    from app.documentation.models import RegistrationRecord
    from app.instances import service as instances

    plain = world.submit("other", unit="ha")
    nurse = _start(world, plain, "ha_nurse")
    chat.patient_write(
        world.session, world.engine, actor=world.resident("other"), case_id=plain.id, body="Tack, det räcker."
    )
    handling.close(
        world.session, world.engine, actor=nurse, case_id=plain.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    assert (
        world.session.scalar(select(RegistrationRecord).where(RegistrationRecord.case_id == plain.id)) is None
    )  # HA-reg-a

    visit = world.submit("adult", unit="ha")
    nurse = _start(world, visit, "ha_nurse")
    chat.staff_write(world.session, actor=nurse, case_id=visit.id, body="Hur ser det ut nu?")
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=visit.id, body="Bättre."
    )
    task = world.tasks(visit)[0]
    instances.complete_task(
        world.session,
        world.engine,
        task_id=task.id,
        actor=nurse,
        data={"outcome": "close", "concluded_in_dialogue": True, "confirmed": True, "replaced_visit": True},
    )
    world.session.commit()
    registration = world.session.scalar(
        select(RegistrationRecord).where(RegistrationRecord.case_id == visit.id)
    )
    assert registration is not None and "Distansbesök - skriftlig" in str(registration.data)


def test_SEC_protected_sms_every_message_the_routines_send_a_protected_patient_is_neutral(world):
    """Östergötland policy: a confirmed protected identity still gets messages — none names or locates the unit."""
    from app.instances import service as instances

    case = world.submit("adult", unit="og", protected=True)
    verify = world.tasks(case)[0]
    instances.complete_task(
        world.session,
        world.engine,
        task_id=verify.id,
        actor=world.actor("nurse"),
        data={"ehr_checked": True, "confirmed": True},
    )
    nurse = _start(world, case)
    chat.staff_write(world.session, actor=nurse, case_id=case.id, body="Hej, hur mår du?")
    chat.remind(world.session, actor=nurse, case_id=case.id)
    chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="Bild tack")
    chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="symptom_diary")
    world.session.commit()
    messages = world.session.scalars(
        select(Notification).where(Notification.patient_id == case.patient_id)
    ).all()
    assert len(messages) >= 5
    unit = world.units["og"]
    for message in messages:
        for value in (
            message.body,
            message.sender_id,
            message.subject,
            message.signature,
            " ".join(message.links or []),
        ):
            assert unit.name not in (value or "") and "Ekdalen" not in (value or "")
            assert "0101112233" not in (value or "").replace(" ", "").replace("-", "")


@pytest.mark.postgres
def test_OG_8_1_a_form_sent_twice_at_once_is_answered_once(pg_url, app, world):
    """Two taps or two devices: the second answer waits for the first (a row lock), then is refused;
    the first answer, its inbox item and its audit record stand alone."""
    import threading
    import time

    from app.audit.models import AuditEvent
    from app.cases.models import AckItem, PatientForm
    from app.errors import Conflict

    case = world.submit("adult")
    nurse = _start(world, case)
    form = chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    resident, database = world.resident("adult"), app.extensions["database"]
    first_answered, release_first = threading.Event(), threading.Event()
    results: dict[str, object] = {}

    def answer(name: str, value: int, hold: bool) -> None:
        try:
            with database.transaction() as session:
                chat.answer_form(
                    session, actor=resident, form_id=form.id, answers={f"q{i}": value for i in range(1, 5)}
                )
                if hold:  # answered, not yet committed: the other answer arrives now
                    first_answered.set()
                    release_first.wait(timeout=10)
            results[name] = "ok"
        except Conflict as refused:
            results[name] = refused

    first = threading.Thread(target=answer, args=("first", 0, True))
    first.start()
    assert first_answered.wait(timeout=10)
    second = threading.Thread(target=answer, args=("second", 3, False))
    second.start()
    time.sleep(0.5)  # the second is at the "already answered?" check by now
    release_first.set()
    first.join(timeout=20)
    second.join(timeout=20)
    assert results["first"] == "ok" and isinstance(results["second"], Conflict)
    world.session.expire_all()
    assert world.session.get(PatientForm, form.id).score == 0
    assert len(world.session.scalars(select(AckItem).where(AckItem.case_id == case.id)).all()) == 1
    assert (
        len(world.session.scalars(select(AuditEvent).where(AuditEvent.action == "form:answered")).all()) == 1
    )
