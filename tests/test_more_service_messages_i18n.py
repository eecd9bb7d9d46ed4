"""More services' refusals in the reader's language (app/people, app/instances, app/profile): English
when the reader chose English, Swedish by default, and Swedish in the audit trail whoever read them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases.day_close import start_day_close
from app.errors import Forbidden, source_text
from app.instances import service as instances
from app.instances.models import HumanTask
from app.people import scheduling
from app.people.service import take_duty
from app.phrases.models import PhraseLevel, PhraseTemplate
from app.timers.worker import TimerWorker
from tests.casework.conftest import staff as staff  # noqa: F401  (signed-in staff clients, shared)
from tests.processes.conftest import world as world  # noqa: F401  (the care world fixture, shared)
from tests.scheduling.conftest import MONDAY
from tests.scheduling.conftest import Pages as SchedulePages
from tests.scheduling.conftest import ward as ward  # noqa: F401  (the unit to schedule, shared)
from tests.worklist.conftest import Pages as WorklistPages

STOCKHOLM = ZoneInfo("Europe/Stockholm")
SCHEDULER_ONLY = "Enhetens rutin säger vem som lägger schema, och du har inte någon av de rollerna."
WITH_A_COLLEAGUE = (
    "Ärendet ligger på en kollega: be kollegan lämna över det, eller övergripande ansvarig "
    "flytta det till yrkesrollens kö."
)


@pytest.fixture
def schedule(client, ward):  # noqa: F811
    return SchedulePages(client, ward)


@pytest.fixture
def worklist(client, world):  # noqa: F811
    return WorklistPages(client, world)


def _refusal_reasons(session, action: str) -> list[str]:
    session.expire_all()
    reasons = [
        e.details["reason"] for e in session.scalars(select(AuditEvent).where(AuditEvent.action == action))
    ]
    session.commit()
    return reasons


# --- app/people: the schedule (OG-5) ---------------------------------------------------------------


def _shift_form(ward) -> dict:  # noqa: F811
    return {
        "user_id": str(ward.people["nurse"].id),
        "role": "Sjuksköterska",
        "day": MONDAY.isoformat(),
        "starts": "12:00",
        "ends": "17:00",
    }


def test_OG_5_a_schedule_refusal_reads_in_english_and_its_audit_row_stays_swedish(schedule):
    response = schedule.sign_in("nurse2", lang="en").post("/schedule/shifts", _shift_form(schedule.ward))
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "routine says who schedules staff, and you hold none of those roles." in html
    assert "Enhetens rutin" not in html
    # The trail is the routines' language, whichever language the member read the refusal in.
    assert _refusal_reasons(schedule.ward.session, scheduling.ACTION_REFUSED) == [SCHEDULER_ONLY]


def test_OG_5_a_schedule_refusal_stays_swedish_on_the_swedish_page(schedule):
    response = schedule.sign_in("nurse2").post("/schedule/shifts", _shift_form(schedule.ward))
    assert response.status_code == 403 and SCHEDULER_ONLY in response.get_data(as_text=True)
    assert _refusal_reasons(schedule.ward.session, scheduling.ACTION_REFUSED) == [SCHEDULER_ONLY]


def test_OG_5_a_persons_name_in_a_field_refusal_is_escaped_on_the_page(schedule):
    """A name is data: the refusal naming it is plain text, so the page escapes it (no lazy text as HTML)."""
    ward = schedule.ward
    ward.people["nurse"].given_name = "<b>Sara</b>"
    response = schedule.sign_in("head", lang="en").post(
        "/schedule/shifts", {**_shift_form(ward), "role": "Läkare"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "&lt;b&gt;Sara&lt;/b&gt; Lind does not hold the role Doctor at the unit." in html
    assert "<b>Sara</b>" not in html


# --- app/instances: a task on the overall responsible (OG-6.1-j), through the task page ---------------


def _day_close_task(world, clock, database) -> HumanTask:  # noqa: F811
    """Dagens stängning, drawn in the nurses' lane and assigned to the doctor holding the duty."""
    world.submit("other", unit="ha")
    holder = world.actor("ha_doctor")
    take_duty(world.session, actor=holder)
    start_day_close(
        world.session, world.engine, unit_id=world.units["ha"].id, actor=holder, after=clock.now()
    )
    world.session.commit()
    clock.set(datetime(2026, 11, 23, 16, 16, tzinfo=STOCKHOLM))  # a quarter before closing (16:30)
    TimerWorker(database, world.engine, name="test").run_once()
    world.session.expire_all()
    task = world.session.scalar(select(HumanTask).where(HumanTask.process_id == "unit_day_close"))
    world.session.commit()
    return task


def _refused(world, task: HumanTask, key: str) -> Forbidden:  # noqa: F811
    with pytest.raises(Forbidden) as refused:
        instances.complete_task(world.session, world.engine, task_id=task.id, actor=world.actor(key), data={})
    world.session.rollback()
    return refused.value


def _read_in_english(app, message) -> str:
    with app.test_request_context("/"):
        from flask import session

        session["lang"] = "en"
        return str(message)


def test_OG_6_1_j_a_task_on_the_overall_responsible_is_refused_in_the_readers_language(
    app, world, clock, database
):  # noqa: F811
    """The task page and the case page put their own sentence first; the service's reason is what the
    JSON answers and the trail carry, and the reader's language is the one it is read in."""
    refused = _refused(world, _day_close_task(world, clock, database), "ha_nurse")
    assert refused.details["rule"] == "OG-6.1-j"
    assert str(refused) == WITH_A_COLLEAGUE == source_text(refused.message)  # the trail's language
    assert _read_in_english(app, refused.message) == (
        "The case is with a colleague: ask the colleague to hand it over, or the overall responsible "
        "to move it to the role's queue."
    )


def test_OG_5_a_task_for_another_role_names_the_role_in_the_readers_language(app, world, clock, database):  # noqa: F811
    refused = _refused(world, _day_close_task(world, clock, database), "ha_psychologist")  # the nurses' lane
    swedish = "Uppgiften är för yrkesrollen Sjuksköterska, som du inte har på enheten."
    assert str(refused) == swedish == source_text(refused.message)
    english = _read_in_english(app, refused.message)
    assert english == "The task is for the role Nurse, which you do not hold at the unit."


# --- app/profile: a colleague's personal phrase template (OG-8.2) on /phrases ----------------------


def _personal_template_of_nurse(worklist) -> int:
    worklist.sign_in("nurse").post(
        "/phrases/new",
        {
            "purpose": "first_message",
            "title": "Min hälsning",
            "text": "Hej {patient_first_name}. Jag har läst ditt meddelande och återkommer under dagen.",
        },
    )
    session = worklist.world.session
    session.expire_all()
    template_id = session.scalar(
        select(PhraseTemplate.id).where(
            PhraseTemplate.owner_user_id == worklist.world.staff["nurse"][0].id,
            PhraseTemplate.level == PhraseLevel.PERSONAL,
        )
    )
    session.commit()
    return template_id


def test_OG_8_2_retiring_a_colleagues_phrase_template_is_refused_in_english_and_audited_in_swedish(worklist):
    template_id = _personal_template_of_nurse(worklist)
    response = worklist.sign_in("nurse2", lang="en").post(f"/phrases/{template_id}/retire")
    html = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "A personal phrase template belongs to its owner alone." in html
    assert "bara ägarens" not in html and 'lang="sv"' not in html.split("<main", 1)[-1]
    assert _refusal_reasons(worklist.world.session, "worklist:refused") == [
        "En personlig frasmall är bara ägarens."
    ]


def test_OG_8_2_retiring_a_colleagues_phrase_template_is_refused_in_swedish_by_default(worklist):
    template_id = _personal_template_of_nurse(worklist)
    response = worklist.sign_in("nurse2").post(f"/phrases/{template_id}/retire")
    assert response.status_code == 403
    assert "En personlig frasmall är bara ägarens." in response.get_data(as_text=True)
