"""Case-level effects caused by the routines' service tasks (the `ctx.case` object of tasks/).

Each effect changes the case in the step's transaction and records why; notifications go to the
outbox in the same transaction. Nothing here decides the flow: the diagram does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.cases import limits, messaging
from app.cases.guards import STANGNING_POLICY
from app.cases.lookup import get_unit
from app.cases.models import (
    AckItem,
    AckKind,
    AttemptKind,
    Case,
    CaseKind,
    CaseState,
    ChatMessage,
    Consent,
    ConsentAnswer,
    ConsentKind,
    ContactAttempt,
    MessageAuthor,
)
from app.db import get_held, transaction_store, write_now
from app.documentation.models import DraftReason, JournalDraft
from app.instances.persistence import defer_reprojection
from app.notifications.purposes import NotificationPurpose
from app.notifications.service import notify_staff_of_new_case
from app.patients.service import record_protection
from app.people.models import Region, Unit, User
from app.people.roles import CLINICAL_ROLES, Role
from app.people.service import duty_holder, present_users, roles_at
from app.people.unit_settings import unit_setting

MEETING_FORMS = {"video": "video", "phone": "telefon", "physical": "besök på mottagningen", "chat": "chatt"}
# The routing table's referral (OG-3) → the phrase template telling the patient where to turn (OG-8.2).
REFERRAL_PHRASES = {
    "call_112": "referral_112",
    "call_1177": "referral_1177",
    "self_care": "referral_self_care",
}
WRONG_PATIENT_NOTE = "OBS FEL PATIENT"


# HA-doc-a: the clinicians who wrote in a case's chat and have no note of their own for it yet (a
# form note documents the form, not their assessment), in the order they first wrote. One statement.
_UNDOCUMENTED_WRITERS = (
    select(ChatMessage.author_user_id)
    .where(
        ChatMessage.case_id == bindparam("case_id"),
        ChatMessage.author == MessageAuthor.STAFF,
        ChatMessage.author_user_id.is_not(None),
        ~exists().where(
            JournalDraft.case_id == ChatMessage.case_id,
            JournalDraft.for_user_id == ChatMessage.author_user_id,
            JournalDraft.reason != DraftReason.FORM,
        ),
    )
    .group_by(ChatMessage.author_user_id)
    .order_by(func.min(ChatMessage.id))
)


def region_policy(session: Session, unit: Unit, key: str, default: Any = None) -> Any:
    region = get_held(session, Region, unit.region_id)
    return (region.policies or {}).get(key, default)


class CaseEffectsImpl:
    def __init__(self, session: Session, case: Case, actor: Actor, engine=None):
        self.session = session
        self.case = case
        self.actor = actor
        self.engine = engine
        self.unit = get_unit(session, case.unit_id)

    def _record(self, action: str, **details) -> None:
        record(self.session, action, actor=self.actor, subject=("case", self.case.id), **details)

    def _changed(self) -> None:
        write_now(self.session, self.case)
        # Effects run inside a step of the case's routine: its save brings the task rows in line.
        defer_reprojection(self.session, self.case)

    # --- arrival -----------------------------------------------------------------------------

    def route(self, role: str) -> None:
        """The queue the routing table chose (DMN)."""
        self.case.handling_role = Role(role).value
        self._record("case:routed", role=role)
        self._changed()

    def notify_staff_new_case(self, roles: list[str]) -> int:
        """OG-8.7: SMS only to present staff of those roles, on their work phones."""
        rows = notify_staff_of_new_case(
            self.session, unit=self.unit, case_id=self.case.id, roles=[Role(r) for r in roles]
        )
        return len(rows)

    def refer(self, referral: str) -> None:
        """OG-3 / HA-after-hours: the case is referred (112, 1177, self-care), not handled here."""
        self.case.referral = referral
        self.case.state = CaseState.REFERRED
        self.case.closed_at = clock.now()
        self.case.closed_reason = "referred"
        messaging.post(
            self.session,
            self.case,
            # An unknown value (a process owner's typo in the table) still sends the patient to 1177.
            body=messaging.phrase(self.session, self.case, REFERRAL_PHRASES.get(referral, "referral_1177")),
            author=MessageAuthor.UNIT,
            purpose=f"referral:{referral}",
        )
        self._record("case:referred", referral=referral)
        self._changed()

    def refuse_protected(self) -> None:
        """HA-protected: persons with protected personal data are not handled in the platform."""
        self.case.state = CaseState.REFUSED
        self.case.closed_at = clock.now()
        self.case.closed_reason = "protected_identity"
        messaging.tell_patient(self.session, self.case, "protected_redirect", notice=None)
        self._record("case:refused_protected_identity")
        self._changed()

    def record_protection(self, confirmed: bool) -> None:
        """OG-6.3: staff verified the claim in the EHR; confirmed cases follow the protected-identity routine."""
        user_actor = self.actor
        record_protection(self.session, patient=self.case.patient, actor=user_actor, confirmed=confirmed)
        self._changed()

    # --- handling ----------------------------------------------------------------------------

    def mark_received(self, new_priority: int | None = None, reason: str = "") -> None:
        """'Ta emot' (OG-6.1-b/c): the case is the receiver's; the resident is told handling starts."""
        if new_priority is not None and new_priority != self.case.priority:
            change_priority(self.session, self.case, int(new_priority), reason, self.actor)
        now = clock.now()
        self.case.state = CaseState.RECEIVED
        self.case.received_at = now
        self.case.received_by = self.actor.user_id
        self.case.owner_user_id = self.actor.user_id
        messaging.sms(
            self.session,
            self.case,
            NotificationPurpose.CASE_RECEIVED,
            text=messaging.phrase(self.session, self.case, "case_received"),  # OG-8.2: the unit's words
            key=f"case:{self.case.id}:received",
        )
        self._record("case:received")
        self._changed()

    def mark_started(self, first_message: str | None) -> None:
        """'Starta' (OG-6.1-d): the first chat message goes out."""
        self.case.state = CaseState.STARTED
        self.case.started_at = clock.now()
        if first_message and first_message.strip():
            message = messaging.post(
                self.session,
                self.case,
                body=first_message.strip(),
                author=MessageAuthor.STAFF,
                user_id=self.actor.user_id,
            )
            messaging.sms(
                self.session,
                self.case,
                NotificationPurpose.NEW_CHAT_MESSAGE,
                key=f"case:{self.case.id}:started:{message.id}",
            )
        else:
            messaging.tell_patient(self.session, self.case, "first_message", user_id=self.actor.user_id)
        # The first message is a staff chat message too: unanswered, it is a contact attempt (OG-6.1-g).
        # Recorded at the start itself, which is how Halland's closing rule tells it from a reminder.
        self.session.add(
            ContactAttempt(
                case_id=self.case.id,
                kind=AttemptKind.CHAT,
                made_by=self.actor.user_id,
                at=self.case.started_at,
                note="",
            )
        )
        self._record("case:started")
        self._changed()

    def close(self, reason: str, replaced_visit: bool = False) -> dict:
        """Close the case (after its guard passed): closing phrase, journal draft, registration, reopen window."""
        from app.documentation.service import create_draft

        self._hold_closing_rules(reason)
        now = clock.now()
        unanswered = reason == "unanswered"
        self.case.state = CaseState.CLOSED
        self.case.closed_at = now
        self.case.closed_reason = reason
        self.case.after_close = False
        reopen_days = float(unit_setting(self.unit, "reopen_days"))
        answerable_days = reopen_days
        if region_policy(self.session, self.unit, "closing") == STANGNING_POLICY and unanswered:
            # HA-close-plus1: a chat closed without the patient's answer stays answerable one more day.
            answerable_days = max(reopen_days, 1.0)
        # How long the patient may still write into the case; reopening keeps to the unit's own
        # window (chat.reopen), so a unit that allows no reopening is not overruled by HA-close-plus1.
        self.case.reopen_until = now + timedelta(days=answerable_days) if answerable_days > 0 else None
        administrative = self.case.kind == CaseKind.ADMIN
        purpose = "admin_closing" if administrative else "closing_unanswered" if unanswered else "closing"
        messaging.tell_patient(self.session, self.case, purpose, user_id=self.actor.user_id)
        if reopen_days > 0 and reason not in ("wrong_patient", "on_call") and not administrative:
            # OG-6.5: the unit tells the patient how long the case may be reopened.
            until = (
                (now + timedelta(days=reopen_days)).astimezone(messaging_zone()).strftime("%Y-%m-%d %H:%M")
            )
            messaging.tell_patient(
                self.session, self.case, "reopen_possible", notice=None, reopen_until=until
            )
        if reason != "wrong_patient" and not administrative:
            # OG-11-e / HA-doc-a: closed without an answer (and every other handled case) is documented;
            # an administrative matter holds no medical assessment to document.
            create_draft(
                self.session,
                case=self.case,
                reason="closed_unanswered" if unanswered else "closed",
                for_user_id=self.actor.user_id,
                actor=self.actor,
                assessment=self._step_note(),
            )
            self._document_other_assessors()
        if (
            region_policy(self.session, self.unit, "journal_template") == "ha_besoksanteckning"
            and reason != "wrong_patient"
            and not administrative
        ):
            self._register(replaced_visit)
        self._record("case:closed", reason=reason, reopen_until=self.case.reopen_until)
        self._changed()
        return {"reopen_until": self.case.reopen_until.isoformat() if self.case.reopen_until else None}

    def _document_other_assessors(self) -> None:
        """HA-doc-a: everyone documents their own medical assessment. Every other clinician who wrote
        in the chat (an invited colleague, OG-8.5, or one who had the case before) and has no note
        for the case yet gets an assessment draft of their own."""
        from app.documentation.service import create_draft

        with self.session.no_autoflush:  # reads only; the closing change is flushed with the drafts
            writers = self.session.scalars(_UNDOCUMENTED_WRITERS, {"case_id": self.case.id}).all()
        for user_id in writers:
            if user_id == self.actor.user_id:
                continue
            if not roles_at(self.session, user_id, self.case.unit_id) & CLINICAL_ROLES:
                continue  # administrative staff assess nothing medical
            create_draft(
                self.session,
                case=self.case,
                reason=DraftReason.ASSESSMENT,
                for_user_id=user_id,
                actor=self.actor,
            )

    def _hold_closing_rules(self, reason: str) -> None:
        """The closing rules hold whatever the diagram says: a version published without the handling
        task's guard still cannot close an unanswered case early (OG-6.1-f/g/h). When the guard
        already passed in this action, nothing is read twice. HA-suicide-f's "no contact, low risk:
        close without further action" is the one close of an unanswered case outside those rules."""
        from app.cases.handling import check_closing
        from app.instances.guards import passed_guards

        if reason not in ("dialogue", "unanswered"):
            return
        if reason == "unanswered" and self.case.suicide_risk == "unreachable_low":
            return
        if ("handling", self.case.id) in passed_guards(self.session):
            return
        check_closing(
            self.session,
            self.case,
            {"concluded_in_dialogue": reason == "dialogue", "confirmed": True},
        )

    def _register(self, replaced_visit: bool) -> None:
        """HA-reg-a/b/c: prepare the cash-desk registration (or record that none is due)."""
        from app.cases.models import ChatMessage
        from app.documentation.registration import ChatContact, registration_for_closed_chat

        authors = list(
            dict.fromkeys(
                self.session.scalars(
                    select(ChatMessage.author_user_id)
                    .where(ChatMessage.case_id == self.case.id, ChatMessage.author_user_id.is_not(None))
                    .order_by(ChatMessage.id)
                )
            )
        )
        contacts = []
        for user_id in authors:
            roles = roles_at(self.session, user_id, self.case.unit_id) & CLINICAL_ROLES
            if roles:
                contacts.append(ChatContact(user_id, sorted(roles)[0]))
        registration_for_closed_chat(
            self.session,
            case=self.case,
            actor=self.actor,
            replaced_clinic_visit=replaced_visit and bool(contacts),
            contacts=contacts,
            care_service=unit_setting(self.unit, "care_service"),
            identification_method="E-legitimation",
            visit_type="Distansbesök",
        )

    def hand_over(self, role: str, user_id: int | None, without_consent: bool) -> None:
        """Hand the case to a role's queue or a named colleague (OG-8.6), documented (OG-11-e, HA-doc-a)."""
        from app.documentation.service import create_draft

        previous_role = self.case.handling_role
        # After a consent the resident's answer moves the routine on: the handover is still the clinician's who asked.
        staff_id = self.actor.user_id or self._consent_requester()
        staff_actor = (
            self.actor
            if self.actor.user_id
            else Actor(label="handover", user_id=staff_id, unit_id=self.case.unit_id)
        )
        self.case.handling_role = Role(role).value
        self.case.owner_user_id = user_id
        self.case.state = CaseState.STARTED if self.case.started_at else CaseState.NEW
        if self.case.received_at is not None and staff_id is not None:
            create_draft(
                self.session,
                case=self.case,
                reason="handover",
                for_user_id=staff_id,
                actor=staff_actor,
                assessment=self._handover_note(),
            )
        if self.case.started_at is not None:
            messaging.tell_patient(
                self.session,
                self.case,
                "handover",
                user_id=staff_id,
                handed_to=self._handed_to(role, user_id),
            )
        self._record(
            "case:handed_over",
            from_role=previous_role,
            to_role=role,
            to_user_id=user_id,
            without_consent=without_consent,
        )
        self._changed()

    def _step_note(self) -> str | None:
        """The note the clinician wrote with this step (handover, suicide risk, closing), if any: their
        assessment, for their journal note and for whoever takes the case over."""
        return step_note(self.session, self.case.id)

    def _handover_note(self) -> str | None:
        """This step's note, or the one written when the resident was asked to consent to the handover
        (the handover itself happens when they answer, in another transaction)."""
        note = self._step_note()
        if note is None and not self.actor.user_id:
            consent = self.session.scalar(
                select(Consent)
                .where(Consent.case_id == self.case.id, Consent.kind == ConsentKind.HANDOVER)
                .order_by(Consent.id.desc())
            )
            note = (consent.details or {}).get("note") if consent is not None else None
        return note

    def request_consent(self, kind: str, details: dict) -> int:
        """Ask the resident (HA-handover-consent, OG-8.3): a consent row and a message in the chat."""
        note = self._step_note()
        consent = Consent(
            case_id=self.case.id,
            kind=ConsentKind(kind),
            details={**details, "note": note} if note else dict(details),  # not in the audit row below
            requested_by=self.actor.user_id,
            requested_at=clock.now(),
        )
        self.session.add(consent)
        self.session.flush()
        self.case.state = CaseState.HANDED_OVER if kind == ConsentKind.HANDOVER else self.case.state
        purpose = "consent_handover" if kind == ConsentKind.HANDOVER else "consent_meeting_form"
        if kind == ConsentKind.MEETING_FORM:
            fields = {
                "cost": details.get("cost", ""),
                "meeting_form": MEETING_FORMS.get(details.get("form"), details.get("form", "")),
            }
        else:
            fields = {"handed_to": self._handed_to(details.get("role"), details.get("user_id"))}
        messaging.tell_patient(
            self.session,
            self.case,
            purpose,
            notice=NotificationPurpose.CONSENT_REQUEST,
            user_id=self.actor.user_id,
            **fields,
        )
        self._record("consent:requested", kind=kind, consent_id=consent.id, **details)
        self._changed()
        return consent.id

    def _consent_requester(self) -> int | None:
        consent = self.session.scalar(
            select(Consent).where(Consent.case_id == self.case.id).order_by(Consent.id.desc())
        )
        return consent.requested_by if consent is not None else None

    def _handed_to(self, role: str | None, user_id: int | None) -> str:
        """How the patient is told who takes over: the role, and the colleague's name when there is one."""
        role_text = (role or "").lower() or "en kollega"
        if user_id is not None:
            user = self.session.get(User, int(user_id))
            if user is not None:
                return f"{role_text} {user.display_name}"
        return role_text

    def consent_declined(self, kind: str) -> None:
        """A declined consent goes to the acknowledgement inbox; the case stays where it was."""
        if self.case.state == CaseState.HANDED_OVER:
            self.case.state = CaseState.STARTED
        # Reached by a "no" or by the routine's time running out: a question still open is closed now,
        # so a late answer is refused instead of reaching a routine that no longer waits for it.
        expired = self.session.scalars(
            select(Consent).where(
                Consent.case_id == self.case.id,
                Consent.kind == ConsentKind(kind),
                Consent.answer == ConsentAnswer.PENDING,
            )
        ).all()
        for consent in expired:
            consent.answer = ConsentAnswer.EXPIRED
            consent.answered_at = clock.now()
        about = CONSENT_ABOUT.get(ConsentKind(kind), str(kind))
        summary = (
            f"Inget svar i tid på frågan om samtycke till {about}."
            if expired
            else f"Patienten avböjde samtycke till {about}."
        )
        self.session.add(
            AckItem(
                unit_id=self.case.unit_id,
                case_id=self.case.id,
                kind=AckKind.CONSENT_DECLINED,
                summary=summary,
                for_user_id=self.case.owner_user_id,
                created_at=clock.now(),
            )
        )
        self._record("consent:declined_noted", kind=kind, expired=bool(expired))
        self._changed()

    def reopen_after_close(self, how: str) -> None:
        """An answer or a reopening after closing goes to the role queue, flagged (the former owner may be off duty)."""
        self.case.state = CaseState.STARTED
        self.case.after_close = True
        self.case.owner_user_id = None
        self.case.closed_at = None
        # Handling resumes at the answer itself (it is the patient's side of the dialogue), or now.
        answered = how != "reopen" and self.case.last_patient_message_at is not None
        self.case.resumed_at = self.case.last_patient_message_at if answered else clock.now()
        kind = AckKind.REOPENED if how == "reopen" else AckKind.ANSWER_AFTER_CLOSE
        self.session.add(
            AckItem(
                unit_id=self.case.unit_id,
                case_id=self.case.id,
                kind=kind,
                summary="Patienten har svarat efter att ärendet stängdes."
                if how != "reopen"
                else "Patienten har återupptagit ärendet.",
                created_at=clock.now(),
            )
        )
        self._record("case:reopened_after_close", how=how)
        self._changed()

    def wrong_patient(self) -> None:
        """HA-behalf: explain, add 'OBS FEL PATIENT' to the anamnesis (never overwrite), nothing to the EHR."""
        self.case.wrong_patient = True
        if WRONG_PATIENT_NOTE not in self.case.anamnesis:
            self.case.anamnesis = (
                f"{WRONG_PATIENT_NOTE}\n{self.case.anamnesis}" if self.case.anamnesis else WRONG_PATIENT_NOTE
            )
        messaging.tell_patient(self.session, self.case, "wrong_patient", user_id=self.actor.user_id)
        self._record("case:wrong_patient")
        self._changed()

    def refer_admin(self, to: str) -> None:
        """OG-7-c: a Sök vård matter in the administrative flow; OG-7-e: prescription renewal to 'Förnya recept'."""
        purpose = {"sok_vard": "admin_to_sok_vard", "prescription": "prescription_renewal"}[to]
        messaging.tell_patient(self.session, self.case, purpose, user_id=self.actor.user_id)
        self._record("case:referred_admin", to=to)

    def switch_meeting_form(self, form: str, cost: str) -> None:
        """OG-8.3 / OG-2-b: with the resident's consent the meeting form changes and the visit is chargeable."""
        self.case.meeting_form = form
        self.case.chargeable = True
        self._record("case:meeting_form_switched", form=form, cost=cost)
        self._changed()

    def phone_attempt(self, reached: bool, note: str = "") -> None:
        """A phone attempt: reaching the patient is an answer; not reaching them is a contact attempt."""
        record_phone_attempt(self.session, self.case, self.actor, reached=reached, note=note)
        self._changed()

    def tell_patient(self, purpose: str, **fields: Any) -> None:
        """Send the unit's phrase for `purpose` to the chat, with an SMS notice (OG-8.2 phrase levels);
        `fields` fill the phrase's own placeholders (the next weekday's {earliest}, OG-6.1-e)."""
        messaging.tell_patient(self.session, self.case, purpose, **fields)
        self._record("case:told_patient", purpose=purpose)

    # --- suicide risk (HA-suicide-*) ---------------------------------------------------------

    def find_assessor(self) -> dict:
        """HA-suicide-b/g: a present psychologist, else doctor; if none, the overall responsible on duty
        (and the on-call service) — never an empty queue. The handover is documented (OG-11-e)."""
        now = clock.now()
        present = present_users(self.session, self.case.unit_id, now)
        self._document_handover()
        for role in (Role.PSYCHOLOGIST, Role.DOCTOR):
            if any(role in roles_at(self.session, user.id, self.case.unit_id) for user in present):
                self.case.suicide_risk = "suspected"
                self.case.owner_user_id = None  # to the role's queue at once: whoever is free takes it
                self.case.handling_role = role.value
                self._record("suicide_risk:assessor_found", role=role.value)
                self._changed()
                return {"assessor_role": role.value, "escalated": False, "owner_user_id": None}
        owner = self._escalation_owner(present, now)
        owner_role = (
            next(
                iter(
                    sorted(r.value for r in roles_at(self.session, owner, self.case.unit_id) & CLINICAL_ROLES)
                ),
                Role.NURSE.value,
            )
            if owner
            else Role.NURSE.value
        )
        self.case.suicide_risk = "suspected"
        self.case.owner_user_id = owner
        self.case.handling_role = owner_role
        on_call = unit_setting(self.unit, "on_call_number")
        self._record("suicide_risk:escalated", owner_user_id=owner, on_call=on_call)
        self._changed()
        return {"assessor_role": owner_role, "escalated": True, "owner_user_id": owner, "on_call": on_call}

    def _escalation_owner(self, present: list[User], now) -> int | None:
        """Who holds an escalated suicide-risk case (HA-suicide-g): the overall responsible when present;
        else the clinician who raised it, another present clinician, the staff member who raised it;
        last, the overall responsible even when away — a named person, never nobody's queue."""
        holder = duty_holder(self.session, self.case.unit_id, now)
        if holder is not None and any(u.id == holder.user_id for u in present):
            return holder.user_id
        clinicians = [u for u in present if roles_at(self.session, u.id, self.case.unit_id) & CLINICAL_ROLES]
        raiser = next((u for u in clinicians if u.id == self.actor.user_id), None)
        if raiser is not None or clinicians:
            return (raiser or clinicians[0]).id
        if self.actor.user_id is not None:
            return self.actor.user_id
        return holder.user_id if holder is not None else None

    def _document_handover(self) -> None:
        """The clinician who hands a received case over owes a journal note (OG-11-e, HA-doc-a)."""
        from app.documentation.service import create_draft

        # A case sought for the wrong person is never documented (HA-behalf); the handover still happens.
        if (
            self.case.received_at is not None
            and self.actor.user_id is not None
            and not self.case.wrong_patient
        ):
            create_draft(
                self.session,
                case=self.case,
                reason="handover",
                for_user_id=self.actor.user_id,
                actor=self.actor,
                assessment=self._step_note(),
            )

    def record_suicide_assessment(self, risk: str) -> None:
        """HA-suicide-c..e: the assessed risk; moderate risk is prioritised above lower risk (priority 1)."""
        self.case.suicide_risk = risk
        if risk in ("moderate", "high", "unreachable_raised"):  # may be at least moderate: first in line
            self.case.priority = 1
        self._record("suicide_risk:assessed", risk=risk)
        self._changed()

    # --- follow-ups ----------------------------------------------------------------------------

    def start_test_followup(self, doctor_user_id: int, note: str) -> int:
        """OG-6.2: the doctor who ordered tests follows up the results: a task of their own, closed by hand."""
        from app.instances.service import start_instance

        instance = start_instance(
            self.session,
            self.engine,
            process_id="test_result_followup",
            actor=self.actor,
            unit_id=self.case.unit_id,
            data={"for_case_id": self.case.id, "assignee_user_id": doctor_user_id, "note": note},
            business_key=f"followup:case:{self.case.id}",
        )
        self._record("case:test_followup", doctor_user_id=doctor_user_id, note=note, instance_id=instance.id)
        return instance.id


def change_priority(session: Session, case: Case, priority: int, reason: str, actor: Actor) -> None:
    """HA-prio-b: priority only indicates order; the licensed clinician may change it (audited, triage's kept)."""
    from app.cases.guards import check_priority

    limits.check_length(
        reason,
        limits.PRIORITY_REASON,
        field="priority_reason",
        message=_l(
            "Skälet till ändrad prioritet får vara högst %(limit)s tecken.", limit=limits.PRIORITY_REASON
        ),
    )
    check_priority(case.kind.value, priority)
    previous = case.priority
    case.priority = priority
    record(
        session,
        "case:priority_changed",
        actor=actor,
        subject=("case", case.id),
        previous=previous,
        new=priority,
        triage=case.triage_priority,
        reason=reason,
    )


def record_phone_attempt(session: Session, case: Case, actor: Actor, *, reached: bool, note: str) -> None:
    """Record a phone call to the patient (OG-6.1-g/h)."""
    from app.cases.models import AttemptKind, ContactAttempt

    limits.check_length(
        note,
        limits.PHONE_NOTE,
        field="note",
        message=_l("Anteckningen om samtalet får vara högst %(limit)s tecken.", limit=limits.PHONE_NOTE),
    )
    now = clock.now()
    if reached:
        case.last_patient_message_at = now  # a conversation: the patient has answered
        case.patient_answered = True
    else:
        session.add(
            ContactAttempt(case_id=case.id, kind=AttemptKind.PHONE, made_by=actor.user_id, at=now, note=note)
        )
    record(session, "case:phone_attempt", actor=actor, subject=("case", case.id), reached=reached)


def messaging_zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Stockholm")


def consent_for(session: Session, case_id: int, kind: ConsentKind) -> Consent | None:
    return session.scalar(
        select(Consent)
        .where(Consent.case_id == case_id, Consent.kind == kind, Consent.answer == ConsentAnswer.PENDING)
        .order_by(Consent.id.desc())
    )


# What a consent is about, in the inbox's stored Swedish summary (the kind's code read "(handover)").
CONSENT_ABOUT = {ConsentKind.HANDOVER: "överlämning", ConsentKind.MEETING_FORM: "byte av mötesform"}


# The note a clinician writes with a handling step travels to the effects of that step through the
# transaction: the routine's service tasks take no free text (their parameters are the diagram's).
_STEP_NOTES = "case_step_notes"


def keep_step_note(session: Session, case_id: int, note: str | None) -> None:
    """Keep the note written with the step being completed on the case, for this transaction."""
    if note and note.strip():
        transaction_store(session, _STEP_NOTES)[case_id] = note.strip()


def step_note(session: Session, case_id: int) -> str | None:
    return transaction_store(session, _STEP_NOTES).get(case_id)
