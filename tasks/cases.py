"""Operators the care routines call. Each is thin: the effect lives in the app (`ctx.case`), the
decision of when to cause it lives in the diagram."""

from __future__ import annotations

from tasks.context import ServiceContext
from tasks.registry import service_task


def _case(ctx: ServiceContext):
    if ctx.case is None:
        raise RuntimeError("this operator needs a routine that runs for a case")
    return ctx.case


@service_task("case_route")
def case_route(ctx: ServiceContext, role: str) -> dict:
    """Put the case in a role's queue (from the routing table)."""
    _case(ctx).route(role)
    return {"role": role}


@service_task("notify_staff_new_case")
def notify_staff_new_case(ctx: ServiceContext, roles: list) -> dict:
    """SMS present staff of the roles about a new case, on their work phones (OG-8.7)."""
    return {"notified": _case(ctx).notify_staff_new_case(list(roles))}


@service_task("case_refer")
def case_refer(ctx: ServiceContext, referral: str) -> dict:
    """Refer the resident after hours (112, 1177, self-care) instead of handling the case (OG-3)."""
    _case(ctx).refer(referral)
    return {"referral": referral}


@service_task("case_refuse_protected")
def case_refuse_protected(ctx: ServiceContext) -> dict:
    """Tell a person with protected identity to seek care via 1177.se or the clinic (HA-protected)."""
    _case(ctx).refuse_protected()
    return {"refused": True}


@service_task("case_record_protection")
def case_record_protection(ctx: ServiceContext, confirmed: bool) -> dict:
    """Record what the EHR says about the claimed protected identity (OG-6.3)."""
    _case(ctx).record_protection(bool(confirmed))
    return {"confirmed": bool(confirmed)}


@service_task("case_received")
def case_received(ctx: ServiceContext, new_priority=None, reason: str = "") -> dict:
    """Mark the case received by the actor (priority changed if the clinician chose so, HA-prio-b) and SMS the resident that handling starts (OG-6.1-c)."""
    _case(ctx).mark_received(new_priority, reason)
    return {"received": True}


@service_task("case_phone_attempt")
def case_phone_attempt(ctx: ServiceContext, reached: bool, note: str = "") -> dict:
    """Record a phone attempt (a contact attempt, OG-6.1-g/h)."""
    _case(ctx).phone_attempt(bool(reached), note)
    return {"reached": bool(reached)}


@service_task("case_started")
def case_started(ctx: ServiceContext, first_message: str = "") -> dict:
    """Start the case: the first chat message goes out (OG-6.1-d)."""
    _case(ctx).mark_started(first_message)
    return {"started": True}


@service_task("case_close")
def case_close(ctx: ServiceContext, reason: str, replaced_visit: bool = False) -> dict:
    """Close the case with the closing phrase, the journal draft, the registration and the reopen window."""
    return _case(ctx).close(reason, bool(replaced_visit))


@service_task("case_reopen_after_close")
def case_reopen_after_close(ctx: ServiceContext, how: str) -> dict:
    """An answer or reopening after closing: back to the role queue, flagged (HA-close-plus1, OG-6.5)."""
    _case(ctx).reopen_after_close(how)
    return {"how": how}


@service_task("case_request_consent")
def case_request_consent(ctx: ServiceContext, kind: str, details: dict) -> dict:
    """Ask the resident's consent (handover, meeting-form switch with cost)."""
    return {"consent_id": _case(ctx).request_consent(kind, dict(details))}


@service_task("case_consent_declined")
def case_consent_declined(ctx: ServiceContext, kind: str) -> dict:
    """Note a declined (or unanswered) consent in the acknowledgement inbox."""
    _case(ctx).consent_declined(kind)
    return {"kind": kind}


@service_task("case_hand_over")
def case_hand_over(ctx: ServiceContext, role: str, user_id=None, without_consent: bool = False) -> dict:
    """Hand the case to a role's queue or a named colleague (documented)."""
    _case(ctx).hand_over(role, user_id, bool(without_consent))
    return {"role": role, "user_id": user_id}


@service_task("case_wrong_patient")
def case_wrong_patient(ctx: ServiceContext) -> dict:
    """Someone sought care for another person: explain, mark 'OBS FEL PATIENT' (HA-behalf)."""
    _case(ctx).wrong_patient()
    return {"wrong_patient": True}


@service_task("case_refer_admin")
def case_refer_admin(ctx: ServiceContext, to: str) -> dict:
    """Refer an administrative case to Sök vård (OG-7-c) or to 'Förnya recept' (OG-7-e)."""
    _case(ctx).refer_admin(to)
    return {"to": to}


@service_task("case_switch_meeting_form")
def case_switch_meeting_form(ctx: ServiceContext, form: str, cost: str) -> dict:
    """Switch meeting form after consent; the visit becomes chargeable (OG-8.3, OG-2-b)."""
    _case(ctx).switch_meeting_form(form, cost)
    return {"form": form}


@service_task("case_test_followup")
def case_test_followup(ctx: ServiceContext, note: str = "") -> dict:
    """A follow-up task for the doctor who ordered tests (OG-6.2)."""
    return {"followup_instance": _case(ctx).start_test_followup(ctx.actor_user_id, note)}


@service_task("case_tell_patient")
def case_tell_patient(ctx: ServiceContext, purpose: str, fields: dict | None = None) -> dict:
    """Send the unit's phrase template for `purpose` to the patient's chat (with an SMS notice); `fields`
    fill the phrase's own placeholders (the next weekday's {earliest}, OG-6.1-e)."""
    _case(ctx).tell_patient(purpose, **dict(fields or {}))
    return {"told": purpose}


@service_task("case_find_assessor")
def case_find_assessor(ctx: ServiceContext) -> dict:
    """Find a present psychologist or doctor, else escalate to the overall responsible (HA-suicide-b/g)."""
    return _case(ctx).find_assessor()


@service_task("case_record_suicide_assessment")
def case_record_suicide_assessment(ctx: ServiceContext, risk: str) -> dict:
    """Record the suicide-risk assessment (HA-suicide-c)."""
    _case(ctx).record_suicide_assessment(risk)
    return {"risk": risk}


@service_task("day_close_assignee")
def day_close_assignee(ctx: ServiceContext):
    """Who holds the overall-responsible duty at the unit now (they get the day-close task)."""
    return ctx.day_close_assignee()


@service_task("day_close_send")
def day_close_send(ctx: ServiceContext) -> dict:
    """Send the day-close messages as the unit (OG-6.1-e, HA-close-day)."""
    return ctx.send_day_close_messages()


@service_task("day_close_next")
def day_close_next(ctx: ServiceContext) -> dict:
    """Plan the next working day's closing."""
    return {"instance": ctx.start_next_day_close()}
