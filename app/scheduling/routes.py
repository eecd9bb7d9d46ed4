"""Pages of the unit's schedule under /schedule (OG-5, HA-chat-staff).

Every member of the unit's staff reads the week (days × people, role, chat responsible) and the
opening hours without a named chat responsible; those the unit's routine lets schedule (by default the
head of unit) also add, change, remove and copy shifts. Routes parse, call one service in
app.people.scheduling and render; one transaction per action, committed here with the service's audit
record. A refusal (403) is rolled back and the attempt audited on its own.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app import clock
from app.auth.current import current_actor
from app.calendar.zone import local_date
from app.db import get_database, request_session
from app.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.ids import bounded_version
from app.people import scheduling
from app.people.labels import ROLE_LABELS, WEEKDAYS

bp = Blueprint(
    "scheduling",
    __name__,
    url_prefix="/schedule",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static/scheduling",
)

FIELD_LABELS = {
    "user_id": _l("Person"),
    "role": _l("Roll"),
    "day": _l("Datum"),
    "starts": _l("Börjar"),
    "ends": _l("Slutar"),
}
FIELDS = ("user_id", "role", "day", "starts", "ends", "ends_next_day", "chat_responsible")


@bp.context_processor
def _labels():
    return {"role_labels": ROLE_LABELS, "weekdays": WEEKDAYS, "field_labels": FIELD_LABELS}


@bp.errorhandler(Forbidden)
def _forbidden(error: Forbidden):
    """Not allowed by the unit's routine (OG-5): 403, and the attempt in the audit trail (own transaction)."""
    request_session().rollback()
    actor = current_actor(required=False)
    with get_database().transaction() as fresh:
        scheduling.record_refusal(fresh, actor=actor, path=request.path, reason=error.message)
    return render_template("error.html", status=403, message=error.message), 403


def _week_arg() -> date:
    try:
        return date.fromisoformat(request.args.get("week", ""))
    except ValueError:
        return local_date(clock.now())


def _errors(error: ValidationFailed) -> dict[str, str]:
    return {name: " ".join(str(m) for m in messages) for name, messages in error.field_errors.items()}


def _form_values() -> dict:
    return {name: request.form.get(name, "") for name in FIELDS}


def _render_week(
    week: date,
    *,
    error: str | None = None,
    field_errors: dict | None = None,
    values: dict | None = None,
    status=200,
):
    schedule = scheduling.week_schedule(request_session(), actor=current_actor(), week_start=week)
    return (
        render_template(
            "scheduling/week.html",
            schedule=schedule,
            previous_week=(schedule.monday - scheduling.WEEK).isoformat(),
            next_week=(schedule.monday + scheduling.WEEK).isoformat(),
            error=error,
            field_errors=field_errors or {},
            values=values or {"day": schedule.monday.isoformat(), "starts": "08:00", "ends": "17:00"},
            roles=[
                role for role in ROLE_LABELS if any(role in roles for _id, _n, roles in schedule.schedulable)
            ],
        ),
        status,
    )


@bp.get("")
def week():
    """The unit's week: days × people, their role and chat responsibility, and the chat gaps."""
    return _render_week(_week_arg())


@bp.post("/shifts")
def add_shift():
    actor = current_actor()
    db = request_session()
    values = _form_values()
    week_of = _parsed_day(values["day"]) or _week_arg()
    try:
        entry = scheduling.entry_from_form(request.form)
        shift = scheduling.add_shift(db, actor=actor, entry=entry)
    except ValidationFailed as error:
        db.rollback()
        return _render_week(
            week_of,
            error=_("Passet lades inte till."),
            field_errors=_errors(error),
            values=values,
            status=422,
        )
    label = scheduling.describe(shift)
    db.commit()
    flash(_("Passet är tillagt: %(shift)s.", shift=label))
    return redirect(url_for("scheduling.week", week=entry.day.isoformat()))


def _parsed_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _render_edit(
    shift_id: int,
    *,
    error: str | None = None,
    field_errors: dict | None = None,
    values: dict | None = None,
    status: int = 200,
):
    db = request_session()
    actor = current_actor()
    shift = scheduling.shift_for_edit(db, actor=actor, shift_id=shift_id)
    schedule = scheduling.week_schedule(db, actor=actor, week_start=shift.day)
    shown = {
        "user_id": str(shift.user_id),
        "role": shift.role,
        "day": shift.day.isoformat(),
        "starts": shift.starts,
        "ends": shift.ends,
        "ends_next_day": "1" if shift.ends_next_day else "",
        "chat_responsible": "1" if shift.chat_responsible else "",
    }
    return (
        render_template(
            "scheduling/edit.html",
            shift=shift,
            schedule=schedule,
            error=error,
            field_errors=field_errors or {},
            values=values or shown,
            roles=list(ROLE_LABELS),
        ),
        status,
    )


@bp.get("/shifts/<id:shift_id>")
def edit_shift(shift_id: int):
    """One shift's change form, and its removal."""
    try:
        return _render_edit(shift_id)
    except NotFound:
        flash(_("Passet finns inte längre: någon annan har tagit bort det."))
        return redirect(url_for("scheduling.week"))


@bp.post("/shifts/<id:shift_id>")
def change_shift(shift_id: int):
    actor = current_actor()
    db = request_session()
    values = _form_values()
    try:
        entry = scheduling.entry_from_form(request.form)
        shift = scheduling.change_shift(
            db,
            actor=actor,
            shift_id=shift_id,
            expected_version=request.form.get("version", type=bounded_version),
            entry=entry,
        )
    except ValidationFailed as error:
        db.rollback()
        return _render_edit(
            shift_id,
            error=_("Ändringen sparades inte."),
            field_errors=_errors(error),
            values=values,
            status=422,
        )
    except Conflict as conflict:
        db.rollback()
        return _conflict(shift_id, conflict, values)
    label = scheduling.describe(shift)
    db.commit()
    flash(_("Passet är ändrat: %(shift)s.", shift=label))
    return redirect(url_for("scheduling.week", week=entry.day.isoformat()))


def _conflict(shift_id: int, conflict: Conflict, values: dict | None):
    if conflict.details.get("gone"):
        flash(str(conflict.message))
        return redirect(url_for("scheduling.week"))
    # What was typed stays, now against the saved version: saving again is a deliberate choice.
    message = _(
        "Passet ändrades av någon annan medan du redigerade. Inget skrevs över. Se hur passet ser ut nu och spara igen om din ändring ska gälla."
    )
    return _render_edit(shift_id, error=message, values=values, status=409)


@bp.post("/shifts/<id:shift_id>/remove")
def remove_shift(shift_id: int):
    actor = current_actor()
    db = request_session()
    try:
        shift = scheduling.shift_for_edit(db, actor=actor, shift_id=shift_id)
        scheduling.remove_shift(
            db,
            actor=actor,
            shift_id=shift_id,
            expected_version=request.form.get("version", type=bounded_version),
        )
    except NotFound:
        db.rollback()
        flash(_("Passet finns inte längre: någon annan har tagit bort det."))
        return redirect(url_for("scheduling.week"))
    except ValidationFailed as error:
        db.rollback()
        return _render_edit(shift_id, error=error.message, status=422)
    except Conflict as conflict:
        db.rollback()
        return _conflict(shift_id, conflict, None)
    db.commit()
    flash(_("Passet är borttaget: %(name)s %(shift)s.", name=shift.name, shift=shift.label))
    return redirect(url_for("scheduling.week", week=shift.day.isoformat()))


@bp.post("/copy-week")
def copy_week():
    actor = current_actor()
    db = request_session()
    week_of = _parsed_day(request.form.get("week", "")) or local_date(clock.now())
    result = scheduling.copy_week(db, actor=actor, week_start=week_of)
    db.commit()
    flash(_("%(count)s pass kopierades till nästa vecka.", count=result.copied))
    for skipped in result.skipped:
        flash(
            _(
                "Kopierades inte: %(name)s %(shift)s. %(reason)s",
                name=skipped.name,
                shift=skipped.shift,
                reason=skipped.reason,
            )
        )
    return redirect(
        url_for("scheduling.week", week=(scheduling.week_monday(week_of) + scheduling.WEEK).isoformat())
    )
