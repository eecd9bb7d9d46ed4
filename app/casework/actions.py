"""The few things the case page does that the services in app/cases do not do in one call.

Each function is one user action over one service call, adding only what the page needs: the
stale-page check for handling actions whose service takes no `expected_version` yet, the reason a
changed priority needs (HA-prio-b), the registration flag on closing (HA-reg), a generic task that
must belong to the case it was posted for, and a form sent exactly as previewed (OG-8.1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.audit.models import AuditEvent
from app.audit.service import Actor, log_access
from app.cases import chat, handling
from app.cases.effects import change_priority as record_priority
from app.cases.guards import check_may_reprioritise
from app.cases.lookup import case_instance, get_case, task_for
from app.cases.models import CaseImage, PatientForm
from app.cases.patient_forms import form_definition
from app.cases.permissions import require_act, require_read
from app.casework import schema_form
from app.engine import ProcessEngine
from app.errors import Conflict, NotFound, ValidationFailed
from app.instances import service as instances
from app.instances.models import HumanTask, ProcessInstance
from app.instances.persistence import reproject_case
from app.process_models.service import load_bundle

STALE = "someone else changed this case since you opened it"


def check_version(session: Session, actor: Actor, case_id: int, expected_version: int | None) -> None:
    """Refuse an action posted from a page older than the routine's last step (nothing is overwritten).

    Checked before the action's own permission, so a clinician whose colleague was quicker hears that
    the case changed (and how) rather than only that it is no longer theirs; but only to someone who
    may read the case at all — an outsider gets the logged refusal, not news of the case."""
    if expected_version is None:
        return
    require_read(session, actor, get_case(session, case_id))
    instance = case_instance(session, case_id)
    if instance is None or instance.version != expected_version:
        raise Conflict(STALE, current_version=instance.version if instance else None)


def receive(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    new_priority: int | None,
    priority_reason: str,
    expected_version: int | None,
):
    """'Ta emot' (OG-6.1-b); a changed priority needs its reason (HA-prio-b: the clinician's assessment)."""
    check_version(session, actor, case_id, expected_version)
    case = get_case(session, case_id)
    if new_priority is not None and new_priority != case.priority and not priority_reason.strip():
        raise ValidationFailed(_("Skriv varför du ändrar prioriteten."), {"priority_reason": ["required"]})
    if new_priority == case.priority:
        new_priority = None  # unchanged: nothing to record
    return handling.receive(
        session,
        engine,
        actor=actor,
        case_id=case_id,
        new_priority=new_priority,
        priority_reason=priority_reason.strip(),
        expected_version=expected_version,
    )


def change_priority(
    session: Session,
    *,
    actor: Actor,
    case_id: int,
    priority: int | None,
    reason: str,
    expected_version: int | None,
    seen_event: int | None = None,
):
    """HA-prio-b after 'Ta emot': the clinician changes the priority with a reason; the patient list follows.

    A priority change is not a step of the routine, so the routine's version does not see a colleague's
    change: the case's audit trail since the page was rendered (`seen_event`) does."""
    check_version(session, actor, case_id, expected_version)
    case = get_case(session, case_id)
    require_act(session, actor, case)
    check_may_reprioritise(actor.roles)
    if not case.is_open or (seen_event is not None and _priority_changed_since(session, case_id, seen_event)):
        raise Conflict(STALE)
    errors = {}
    if priority is None or priority == case.priority:
        errors["priority"] = ["required"]
    if not reason.strip():
        errors["priority_reason"] = ["required"]
    if errors:
        raise ValidationFailed(_("Välj en ny prioritet och skriv varför du ändrar den."), errors)
    record_priority(session, case, priority, reason.strip(), actor)  # checks 1–5 (HA-prio-a) and audits
    try:
        session.flush()  # the case's own version: a colleague's change at the same moment is a conflict
    except StaleDataError as exc:
        raise Conflict(STALE) from exc
    reproject_case(session, case)  # the open task rows carry the priority the patient list sorts by
    return case


def _priority_changed_since(session: Session, case_id: int, event_id: int) -> bool:
    return (
        session.scalar(
            select(AuditEvent.id).where(
                AuditEvent.subject_type == "case",
                AuditEvent.subject_id == str(case_id),
                AuditEvent.action == "case:priority_changed",
                AuditEvent.id > event_id,
            )
        )
        is not None
    )


def start(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    first_message: str,
    expected_version: int | None,
):
    """'Starta': the first chat message goes out (OG-6.1-d)."""
    check_version(session, actor, case_id, expected_version)
    return handling.start(
        session,
        engine,
        actor=actor,
        case_id=case_id,
        first_message=first_message,
        expected_version=expected_version,
    )


def close(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    concluded_in_dialogue: bool,
    confirmed: bool,
    note: str,
    replaced_visit: bool,
    expected_version: int | None,
):
    """Close (HA-close-confirm, OG-6.1-f/g/h); a chat that replaced a visit carries that for the registration (HA-reg-c)."""
    check_version(session, actor, case_id, expected_version)
    if not replaced_visit:
        return handling.close(
            session,
            engine,
            actor=actor,
            case_id=case_id,
            concluded_in_dialogue=concluded_in_dialogue,
            confirmed=confirmed,
            note=note,
            expected_version=expected_version,
        )
    # handling.close takes no replaced_visit: the same completion of the handling task, with it.
    require_act(session, actor, get_case(session, case_id))
    task = task_for(session, case_id, *handling.HANDLING_TASKS)
    data = {
        "outcome": "close",
        "concluded_in_dialogue": concluded_in_dialogue,
        "confirmed": confirmed,
        "note": note,
        "replaced_visit": True,
    }
    return instances.complete_task(
        session, engine, task_id=task.id, actor=actor, data=data, expected_version=expected_version
    )


def hand_over(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    role: str,
    user_id: int | None,
    note: str,
    expected_version: int | None,
):
    """Hand over to a role or a named colleague; the resident's consent is asked first (HA-handover-consent)."""
    check_version(session, actor, case_id, expected_version)
    if user_id is not None and not role:
        raise ValidationFailed(_("Välj en yrkesroll."), {"role": ["required"]})
    return handling.hand_over(
        session, engine, actor=actor, case_id=case_id, role=role, user_id=user_id, note=note
    )


def suspect_suicide_risk(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    note: str,
    expected_version: int | None,
):
    """Suspected suicide risk: to a psychologist or doctor at once, no consent wait (HA-suicide-b)."""
    check_version(session, actor, case_id, expected_version)
    return handling.suspect_suicide_risk(session, engine, actor=actor, case_id=case_id, note=note)


def to_medical_admin(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    note: str,
    expected_version: int | None,
):
    check_version(session, actor, case_id, expected_version)
    return handling.to_medical_admin(session, engine, actor=actor, case_id=case_id, note=note)


def wrong_patient(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    note: str,
    expected_version: int | None,
):
    check_version(session, actor, case_id, expected_version)
    return handling.wrong_patient(session, engine, actor=actor, case_id=case_id, note=note)


def switch_meeting_form(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    form: str,
    cost: str,
    expected_version: int | None,
):
    """Propose another meeting form, stating its cost; the resident consents or not (OG-8.3)."""
    check_version(session, actor, case_id, expected_version)
    errors = {}
    if form not in ("video", "phone", "physical"):
        errors["meeting_form"] = ["required"]
    if not cost.strip():
        errors["cost"] = ["required"]
    if errors:
        raise ValidationFailed(_("Välj mötesform och ange kostnaden."), errors)
    return handling.switch_meeting_form(
        session, engine, actor=actor, case_id=case_id, form=form, cost=cost.strip()
    )


def order_tests(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int,
    note: str,
    expected_version: int | None,
):
    """Tests ordered: the ordering doctor's own follow-up task (OG-6.2)."""
    check_version(session, actor, case_id, expected_version)
    return handling.order_tests(session, engine, actor=actor, case_id=case_id, note=note)


def complete_case_task(
    session: Session,
    engine: ProcessEngine,
    *,
    actor: Actor,
    case_id: int | None,
    task_id: int,
    form: Mapping[str, str],
    expected_version: int | None,
):
    """Complete a task from its generic form: posted values typed by the task's schema, then validated
    against it on the server and guarded (`complete_task`). A case's task must belong to that case."""
    task = session.get(HumanTask, task_id)
    if task is None:
        raise Conflict("the task is no longer open: someone else completed it or the case moved on")
    if case_id is not None and task.case_id != case_id and not _followup_of(session, task, case_id):
        raise NotFound(_("Uppgiften hör inte till ärendet."))
    if task.case_id is not None:
        require_act(session, actor, get_case(session, task.case_id))
    schema, ui = task_form(session, engine, task)
    data = schema_form.parse(schema, ui, form) if schema is not None else {}
    return instances.complete_task(
        session, engine, task_id=task.id, actor=actor, data=data, expected_version=expected_version
    )


def task_form(session: Session, engine: ProcessEngine, task: HumanTask) -> tuple[dict | None, dict | None]:
    """The task's form definition and UI hints, from the bundle its instance runs on."""
    bundle_hash = session.scalar(
        select(ProcessInstance.bundle_hash).where(ProcessInstance.id == task.instance_id)
    )
    loaded = engine.loaded(bundle_hash, lambda: load_bundle(session, bundle_hash))
    schema = loaded.forms.get(task.form_schema) if task.form_schema else None
    ui = loaded.forms.get(task.form_ui_schema) if task.form_ui_schema else None
    return schema, ui


def _followup_of(session: Session, task: HumanTask, case_id: int) -> bool:
    key = session.scalar(select(ProcessInstance.business_key).where(ProcessInstance.id == task.instance_id))
    return key == f"followup:case:{case_id}"


def case_image(
    session: Session, *, actor: Actor, case_id: int, image_id: int, context: str | None
) -> CaseImage:
    """An image the patient uploaded, for staff who may read the case; the read is logged."""
    case = get_case(session, case_id)
    require_read(session, actor, case)
    image = session.get(CaseImage, image_id)
    if image is None or image.case_id != case.id:
        raise NotFound(_("Bilden finns inte."))
    log_access(
        session,
        actor=actor,
        action="case:image_view",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=context,
    )
    return image


def definition_digest(definition: dict) -> str:
    """A fingerprint of a form definition: what was previewed is what is sent."""
    return hashlib.sha256(json.dumps(definition, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[
        :32
    ]


def preview_form(session: Session, *, actor: Actor, case_id: int, form_key: str, context: str | None):
    """The form as the patient will see it, before sending (OG-8.1); a read of the case, logged."""
    case = get_case(session, case_id)
    require_act(session, actor, case)
    try:
        definition = form_definition(form_key)
    except KeyError as exc:
        raise ValidationFailed(_("Välj ett formulär."), {"form_key": ["required"]}) from exc
    log_access(
        session,
        actor=actor,
        action="case:form_preview",
        patient_ids=[case.patient_id],
        case_id=case.id,
        context=context,
    )
    return case, definition


def send_previewed_form(
    session: Session, *, actor: Actor, case_id: int, form_key: str, digest: str
) -> PatientForm:
    """Send the form that was previewed; if its definition changed since, preview again (OG-8.1)."""
    try:
        definition = form_definition(form_key)
    except KeyError as exc:
        raise ValidationFailed(_("Välj ett formulär."), {"form_key": ["required"]}) from exc
    if digest != definition_digest(definition):
        raise Conflict(
            _("Formuläret har ändrats sedan du förhandsgranskade det. Granska det igen innan du skickar.")
        )
    return chat.send_form(session, actor=actor, case_id=case_id, form_key=form_key)
