"""The case page and the routine's steps on it: receive, start, the handling actions, generic task forms."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.auth.current import current_actor
from app.casework import actions
from app.casework import page as pages
from app.casework.blueprint import bp
from app.casework.views_common import (
    STATUS,
    Failure,
    act,
    engine,
    expected_version,
    failure_of,
    form_flag,
    form_helpers,
    form_text,
    insert_phrase,
    record_refused_action,
    render_case,
    tone_checked,
)
from app.db import request_session
from app.errors import DomainError, ValidationFailed
from app.ids import bounded_id


@bp.get("/<id:case_id>")
def show(case_id: int):
    """The case page; `?before=<id>` shows an older page of the chat (the no-JavaScript "Visa tidigare")."""
    return render_case(case_id)


@bp.get("/<id:case_id>/messages")
def messages(case_id: int):
    """An older page of the chat as a fragment (htmx), or the case page at that page without JavaScript."""
    before = request.args.get("before", type=bounded_id)
    if before is None or not request.headers.get("HX-Request"):
        return render_case(case_id)
    actor = current_actor()
    db = request_session()
    case, rows, earlier = pages.load_messages(
        db, actor=actor, case_id=case_id, before_id=before, context=request.path
    )
    db.commit()
    return render_template("casework/_messages_page.html", case=case, messages=rows, earlier_before=earlier)


@bp.post("/<id:case_id>/receive")
def receive(case_id: int):
    actor = current_actor()
    raw = form_text("new_priority").strip()
    if raw and not raw.isdigit():
        raw = ""
    new_priority = int(raw) if raw else None

    def call(db):
        return actions.receive(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            new_priority=new_priority,
            priority_reason=form_text("priority_reason"),
            expected_version=expected_version(),
        )

    return act(
        case_id,
        "receive",
        call,
        notice=_("Ärendet är mottaget. Patienten har fått ett sms om att handläggningen har börjat."),
        region="tasks",
    )


@bp.post("/<id:case_id>/priority")
def change_priority(case_id: int):
    """HA-prio-b: change the priority of a received case, with the reason."""
    actor = current_actor()
    raw = form_text("priority").strip()
    priority = int(raw) if raw.isdigit() else None

    def call(db):
        return actions.change_priority(
            db,
            actor=actor,
            case_id=case_id,
            priority=priority,
            reason=form_text("priority_reason"),
            seen_event=request.form.get("seen_event", type=bounded_id),
            expected_version=expected_version(),
        )

    return act(case_id, "priority", call, notice=_("Prioriteten är ändrad."), region="tasks")


@bp.post("/<id:case_id>/start")
def start(case_id: int):
    actor = current_actor()
    text = form_text("first_message")

    def call(db):
        tone_checked("start", text)
        return actions.start(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            first_message=text,
            expected_version=expected_version(),
        )

    if request.form.get("action") == "insert":
        return insert_phrase(case_id, "start", "first_message")
    return act(
        case_id,
        "start",
        call,
        notice=_("Ärendet är startat och det första meddelandet är skickat."),
        region="chat",
    )


@bp.post("/<id:case_id>/close")
def close(case_id: int):
    """HA-close-confirm: closing needs the explicit confirmation box; refusals name the earliest time."""
    actor = current_actor()

    def call(db):
        return actions.close(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            concluded_in_dialogue=form_flag("concluded_in_dialogue"),
            confirmed=form_flag("confirmed"),
            note=form_text("note"),
            replaced_visit=form_flag("replaced_visit"),
            expected_version=expected_version(),
        )

    return act(case_id, "close", call, notice=_("Ärendet är avslutat."), region="tasks")


@bp.post("/<id:case_id>/handover")
def handover(case_id: int):
    """Hand over to a role or a named colleague; the resident is asked for consent first (HA-handover-consent)."""
    actor = current_actor()
    user_id = request.form.get("user_id", type=bounded_id)

    def call(db):
        return actions.hand_over(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            role=form_text("role"),
            user_id=user_id,
            note=form_text("note"),
            expected_version=expected_version(),
        )

    return act(
        case_id,
        "handover",
        call,
        notice=_("Patienten har fått frågan om samtycke. Ärendet lämnas över när patienten har svarat ja."),
        region="tasks",
    )


@bp.post("/<id:case_id>/suicide-risk")
def suicide_risk(case_id: int):
    """Suspected suicide risk: handed over at once, without waiting for consent (HA-suicide-b)."""
    actor = current_actor()

    def call(db):
        return actions.suspect_suicide_risk(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            note=form_text("note"),
            expected_version=expected_version(),
        )

    return act(
        case_id, "suicide", call, notice=_("Ärendet är överlämnat för suicidriskbedömning."), region="tasks"
    )


@bp.post("/<id:case_id>/medical-admin")
def medical_admin(case_id: int):
    actor = current_actor()

    def call(db):
        return actions.to_medical_admin(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            note=form_text("note"),
            expected_version=expected_version(),
        )

    return act(
        case_id,
        "medical_admin",
        call,
        notice=_("Ärendet är överlämnat till Medicinsk admin."),
        region="tasks",
    )


@bp.post("/<id:case_id>/wrong-patient")
def wrong_patient(case_id: int):
    """HA-behalf: the resident sought care for someone else."""
    actor = current_actor()

    def call(db):
        if not form_flag("confirmed"):
            raise ValidationFailed(_("Bekräfta att ärendet gäller fel patient."), {"confirmed": ["required"]})
        return actions.wrong_patient(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            note=form_text("note"),
            expected_version=expected_version(),
        )

    return act(
        case_id,
        "wrong_patient",
        call,
        notice=_("Ärendet är markerat som fel patient och avslutat."),
        region="tasks",
    )


@bp.post("/<id:case_id>/meeting-form")
def meeting_form(case_id: int):
    """Propose another meeting form with its cost; the resident consents first (OG-8.3)."""
    actor = current_actor()

    def call(db):
        return actions.switch_meeting_form(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            form=form_text("meeting_form"),
            cost=form_text("cost"),
            expected_version=expected_version(),
        )

    return act(
        case_id,
        "meeting_form",
        call,
        notice=_("Patienten har fått frågan om byte av mötesform, med kostnaden."),
        region="tasks",
    )


@bp.post("/<id:case_id>/order-tests")
def order_tests(case_id: int):
    """OG-6.2: the ordering doctor gets a follow-up task of their own."""
    actor = current_actor()

    def call(db):
        return actions.order_tests(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            note=form_text("note"),
            expected_version=expected_version(),
        )

    return act(
        case_id,
        "order_tests",
        call,
        notice=_("Provtagningen är registrerad. Du har fått en uppgift att följa upp provsvaret."),
        region="tasks",
    )


@bp.post("/<id:case_id>/tasks/<id:task_id>")
def complete_task(case_id: int, task_id: int):
    """Any other task of the case, from its generic form (JSON Schema), validated on the server."""
    actor = current_actor()
    form = f"task-{task_id}"

    def call(db):
        return actions.complete_case_task(
            db,
            engine(),
            actor=actor,
            case_id=case_id,
            task_id=task_id,
            form=request.form,
            expected_version=expected_version(),
        )

    return act(case_id, form, call, notice=_("Uppgiften är klar."), region="tasks")


@bp.get("/tasks/<id:task_id>")
def task(task_id: int):
    """A task outside the case page (the unit's day close, a follow-up of test results), as its generic form."""
    return _render_task(task_id)


def _render_task(task_id: int, failure: Failure | None = None, status: int = 200):
    actor = current_actor()
    db = request_session()
    view = pages.load_task_page(db, engine(), actor=actor, task_id=task_id, context=request.path)
    db.commit()
    if view.task.case_id is not None:
        return redirect(url_for("casework.show", case_id=view.task.case_id, _anchor=f"task-{task_id}"))
    return render_template("casework/task.html", view=view, failure=failure, **form_helpers(failure)), status


@bp.post("/tasks/<id:task_id>")
def complete_unit_task(task_id: int):
    actor = current_actor()
    db = request_session()
    try:
        actions.complete_case_task(
            db,
            engine(),
            actor=actor,
            case_id=None,
            task_id=task_id,
            form=request.form,
            expected_version=expected_version(),
        )
        db.commit()
    except DomainError as error:
        db.rollback()
        record_refused_action(error, None)
        failed = failure_of(error, f"task-{task_id}", request.form)
        if failed.kind == "conflict":  # the task is gone: back to the list, where the user sees what is open
            return render_template(
                "error.html",
                status=409,
                message=_("Uppgiften är redan klar eller har ändrats av någon annan."),
            ), 409
        return _render_task(task_id, failed, STATUS[failed.kind])
    return redirect(url_for("worklist.index"))
