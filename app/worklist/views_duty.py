"""The overall-responsible duty (OG-10.1-a): who holds it, take it, pass it on; cases left on absent
people, moved to the role queue by the holder (OG-6.1-j); and ending the shift with its warning
about the user's own ongoing cases (HA-shift, OG-6.1-i)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from app.audit.service import log_access
from app.auth.current import SHIFT_ENDED_KEY, current_actor
from app.cases import shifts
from app.cases.permissions import DUTY
from app.db import request_session
from app.errors import Conflict, DomainError, Forbidden, GuardRefused, NotFound
from app.i18n import clear_session
from app.ids import bounded_id
from app.people.service import pass_duty, take_duty
from app.worklist.blueprint import bp, domain_text, note_refusal
from app.worklist.staff_queries import duty_overview, shift_end_overview


def _render_duty(actor, *, error: str | None = None, status: int = 200):
    db = request_session()
    overview = duty_overview(db, actor=actor)
    if overview.patient_ids:
        log_access(
            db,
            actor=actor,
            action="duty:absent_owner_cases",
            patient_ids=overview.patient_ids,
            context=request.path,
        )
    db.commit()
    return render_template("worklist/duty.html", overview=overview, error=error), status


def _duty_refusal(error: DomainError) -> str:
    """The duty services speak English to developers; the user reads why in the interface language."""
    if isinstance(error, GuardRefused):
        return _(
            "Det övergripande ansvaret hålls av en legitimerad kliniker som arbetar pass och är inloggad vid enheten."
        )
    if isinstance(error, Conflict):
        return _(
            "En kollega som är på plats har det övergripande ansvaret. Be kollegan lämna över det till dig."
        )
    if isinstance(error, Forbidden):
        return _("Bara den som har det övergripande ansvaret kan lämna över det.")
    if isinstance(error, NotFound):
        return _("Kollegan finns inte.")
    return domain_text(error)


@bp.get("/duty")
def duty_page():
    """Who holds the duty now; take or pass it on; for the holder, cases left on absent colleagues."""
    return _render_duty(current_actor())


@bp.post("/duty/take")
def duty_take():
    actor = current_actor()
    db = request_session()
    try:
        take_duty(db, actor=actor)
    except DomainError as error:
        db.rollback()
        note_refusal(error)
        return _render_duty(actor, error=_duty_refusal(error), status=error.status)
    db.commit()
    flash(_("Du har nu det övergripande ansvaret."))
    return redirect(url_for("worklist.duty_page"))


@bp.post("/duty/pass")
def duty_pass():
    actor = current_actor()
    db = request_session()
    to_user_id = request.form.get("to_user_id", type=bounded_id)
    if to_user_id is None:
        return _render_duty(actor, error=_("Välj vem som ska ta över det övergripande ansvaret."), status=422)
    try:
        pass_duty(db, actor=actor, to_user_id=to_user_id)
    except DomainError as error:
        db.rollback()
        note_refusal(error)
        return _render_duty(actor, error=_duty_refusal(error), status=error.status)
    db.commit()
    flash(_("Det övergripande ansvaret är överlämnat."))
    return redirect(url_for("worklist.duty_page"))


@bp.post("/duty/cases/<id:case_id>/to-role-queue")
def duty_move_case(case_id: int):
    """Move a case off an absent colleague to its role's queue (OG-6.1-j), audited by the service."""
    actor = current_actor()
    db = request_session()
    try:
        shifts.move_to_role_queue(db, actor=actor, case_id=case_id)
    except DomainError as error:
        db.rollback()
        note_refusal(error, subject=("case", case_id))
        return _render_duty(actor, error=domain_text(error), status=error.status)
    db.commit()
    flash(_("Ärendet ligger nu i yrkesrollens kö."))
    return redirect(url_for("worklist.duty_page"))


def _render_end_shift(actor, *, error: str | None = None, status: int = 200):
    db = request_session()
    overview = shift_end_overview(db, actor=actor)
    if overview.patient_ids:
        log_access(
            db,
            actor=actor,
            action="shift:ongoing_cases",
            patient_ids=overview.patient_ids,
            context=request.path,
        )
    db.commit()
    return render_template("worklist/end_shift.html", overview=overview, error=error), status


@bp.get("/shift/end")
def end_shift_page():
    """'Avsluta skift': the warning first, listing the user's own ongoing cases (HA-shift)."""
    return _render_end_shift(current_actor())


@bp.post("/shift/end/confirm")
def end_shift_confirm():
    """End the shift once confirmed: own ongoing cases go to their role's queue (OG-6.1-i), then sign out."""
    actor = current_actor()
    db = request_session()
    if request.form.get("confirmed") != "1":
        return redirect(url_for("worklist.end_shift_page"))
    try:
        moved = shifts.end_shift(db, actor=actor, confirmed=True)
    except DomainError as error:
        db.rollback()
        note_refusal(error)
        message = (
            _("Du har inget pågående skift på den här enheten.")
            if isinstance(error, Conflict)
            else domain_text(error)
        )
        return _render_end_shift(actor, error=message, status=error.status)
    db.commit()
    clear_session()
    # Said on the sign-in page the user lands on: what became of their cases and of the duty.
    session[SHIFT_ENDED_KEY] = {"cases": len(moved), "duty_released": DUTY in actor.roles}
    return redirect(url_for("auth.login_page"))
