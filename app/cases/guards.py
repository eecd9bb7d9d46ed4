"""The routines' guards: each refusal says why, names its rule, and when it is about time, says when.

Pure functions over plain values, so every guard is testable alone; the services gather the values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l

from app import calendar
from app.errors import GuardRefused, Message
from app.people.identity import age_on

STOCKHOLM = ZoneInfo("Europe/Stockholm")
GUARDIAN_AGE_LIMIT = 13  # OG-6.4-b: a guardian acts for a child up to 13 years
MINIMUM_AGE = 1  # OG-6.4-a: no case for a child under one year
SIX_WORKING_HOURS = 6.0  # OG-6.1-f
# Region policies for closing an unanswered case (Region.policies["closing"]).
SIX_WORKING_HOURS_POLICY = "six_working_hours"  # Östergötland, and any region that sets nothing
STANGNING_POLICY = "stangning_plus_one_day"  # Halland


def stockholm_date(moment: datetime) -> date:
    return moment.astimezone(STOCKHOLM).date()


def check_submission_age(*, birth_date: date, submitted_at: datetime, by_guardian: bool) -> None:
    """OG-6.4-a and OG-6.4-b, judged on the Stockholm date of the submission."""
    age = age_on(birth_date, stockholm_date(submitted_at))
    if age < MINIMUM_AGE:
        raise GuardRefused(
            _l(
                "Det går inte att söka vård för barn under 1 år här. Ring 1177 eller kontakta din vårdcentral."
            ),
            rule="OG-6.4-a",
            age=age,
        )
    if by_guardian and age >= GUARDIAN_AGE_LIMIT:
        raise GuardRefused(
            _l(
                "Från 13 års ålder företräder barnet sig självt: barnet behöver logga in och söka vård själv."
            ),
            rule="OG-6.4-b",
            age=age,
        )


def guardian_may_act(*, birth_date: date, at: datetime) -> bool:
    """Whether a guardian acts for the child at a moment (OG-6.4-b). From the 13th birthday, no longer,
    also in a case the guardian started: the child represents themself from then on."""
    return age_on(birth_date, stockholm_date(at)) < GUARDIAN_AGE_LIMIT


@dataclass(frozen=True)
class Attempt:
    kind: str  # chat, sms_reminder, phone
    at: datetime


def earliest_unanswered_close(
    *,
    started_at: datetime,
    attempts: Sequence[Attempt],
    now: datetime,
    unit_calendar: calendar.UnitCalendar,
    gap_hours: float,
) -> tuple[datetime, Message | None]:
    """When an unanswered case may be closed (OG-6.1-f/g), and what is still missing (None: nothing),
    as a lazy text shown in the reader's language.

    Six working hours of the unit's opening time after the case was started, and two contact
    attempts `gap_hours` apart (the unit's setting, "några timmars mellanrum").
    """
    six_hours = calendar.add_working_hours(unit_calendar, started_at, SIX_WORKING_HOURS)
    ordered = sorted(a.at for a in attempts)
    gap = timedelta(hours=gap_hours)
    missing = None
    if not ordered:
        earliest = max(six_hours, now + gap)
        missing = _l("två kontaktförsök med minst %(hours)s timmars mellanrum", hours=format(gap_hours, "g"))
    elif ordered[-1] - ordered[0] < gap:
        earliest = max(six_hours, ordered[0] + gap)
        missing = _l("ett kontaktförsök till, tidigast %(earliest)s", earliest=_local(ordered[0] + gap))
    else:
        earliest = six_hours
    return earliest, missing


def check_close(
    *,
    priority: int | None,
    concluded_in_dialogue: bool,
    confirmed: bool,
    started_at: datetime | None,
    last_patient_message_at: datetime | None,
    attempts: Sequence[Attempt],
    now: datetime,
    unit_calendar: calendar.UnitCalendar,
    gap_hours: float,
    closing_policy: str = SIX_WORKING_HOURS_POLICY,
    resumed_at: datetime | None = None,
) -> None:
    """May the case be closed now? Refuses with the reason, the rule, and the earliest allowed time.

    The unanswered case is where the regions differ: Östergötland's six working hours and two attempts
    (OG-6.1-f/g, priority 1–2 by OG-6.1-h); Halland's "Stängning" policy closes after a reminder and
    keeps the case answerable one more day (HA-remind, HA-close-plus1). A case resumed after closing
    (an answer or a reopening) is judged from the resumption, as a case started then: what was tried
    before the first closing does not count again."""
    if started_at is not None and resumed_at is not None and resumed_at > started_at:
        started_at = resumed_at
        attempts = [a for a in attempts if a.at > resumed_at]
    if not confirmed:
        raise GuardRefused(_l("Bekräfta att du vill avsluta ärendet."), rule="HA-close-confirm")
    if concluded_in_dialogue:
        if started_at is None or last_patient_message_at is None or last_patient_message_at < started_at:
            raise GuardRefused(
                _l("Patienten har inte skrivit i ärendet: det är inte avslutat i dialog."), rule="OG-6.1-f"
            )
        return
    if started_at is None:
        raise GuardRefused(
            _l("Ärendet är inte startat: starta det och kontakta patienten först."), rule="OG-6.1-f"
        )
    since_answer = [a for a in attempts if last_patient_message_at is None or a.at > last_patient_message_at]
    if closing_policy == STANGNING_POLICY:
        # Halland closes after a reminder (HA-remind): the first message, at the start, is not one.
        if not [a for a in since_answer if a.at > started_at]:
            raise GuardRefused(
                _l(
                    "Påminn patienten med sms-knappen innan ett obesvarat ärende avslutas. Efter avslut kan patienten svara en dag till."
                ),
                rule="HA-remind",
            )
        return
    if priority is not None and priority <= 2:
        # OG-6.1-h: urgent cases end the same day; unanswered after two chat attempts and a phone call.
        chat = [a for a in since_answer if a.kind in ("chat", "sms_reminder")]
        phone = [a for a in since_answer if a.kind == "phone"]
        if len(chat) < 2 or not phone:
            raise GuardRefused(
                _l(
                    "Prioritet 1–2 avslutas samma dag: två kontaktförsök i chatten och ett telefonförsök krävs innan ett obesvarat ärende avslutas."
                ),
                rule="OG-6.1-h",
                chat_attempts=len(chat),
                phone_attempts=len(phone),
            )
        return
    earliest, missing = earliest_unanswered_close(
        started_at=started_at,
        attempts=since_answer,
        now=now,
        unit_calendar=unit_calendar,
        gap_hours=gap_hours,
    )
    if missing or now < earliest:
        # One message per case rather than pieces put together: a translation may order it otherwise.
        message = (
            _l(
                "Ett obesvarat ärende kan avslutas tidigast %(earliest)s (sex arbetstimmar efter start och två kontaktförsök med några timmars mellanrum). Saknas: %(missing)s.",
                earliest=_local(earliest),
                missing=missing,
            )
            if missing
            else _l(
                "Ett obesvarat ärende kan avslutas tidigast %(earliest)s (sex arbetstimmar efter start och två kontaktförsök med några timmars mellanrum).",
                earliest=_local(earliest),
            )
        )
        raise GuardRefused(
            message,
            rule="OG-6.1-f" if not missing else "OG-6.1-g",
            earliest=earliest.isoformat(),
        )


def check_reopen(*, reopen_until: datetime | None, now: datetime, same_reason: bool) -> None:
    """OG-6.5: reopening only within the unit's window, and only for the same search reason."""
    if reopen_until is None or now >= reopen_until:
        raise GuardRefused(
            _l("Ärendet kan inte längre återupptas. Skapa ett nytt ärende om du behöver söka vård."),
            rule="OG-6.5",
        )
    if not same_reason:
        raise GuardRefused(
            _l(
                "Ett ärende kan bara återupptas för samma sökorsak. För en ny sökorsak skapar du ett nytt ärende."
            ),
            rule="OG-6.5",
        )


def check_may_reprioritise(roles: frozenset[str] | set[str]) -> None:
    """HA-prio-b: the licensed clinician is responsible for the assessment and may change the priority;
    Medicinsk admin and Administrativ kontakt handle the case but do not reassess it."""
    from app.people.roles import CLINICAL_ROLES

    if not set(roles) & {role.value for role in CLINICAL_ROLES}:
        raise GuardRefused(
            _l(
                "Prioriteten ändras av legitimerad personal (sjuksköterska, läkare, psykolog eller fysioterapeut)."
            ),
            rule="HA-prio-b",
        )


def check_priority(kind: str, priority: int | None) -> None:
    """OG-7-d: administrative cases carry no priority; others 1–5 (HA-prio-a)."""
    if kind == "admin":
        if priority is not None:
            raise GuardRefused(_l("Administrativa ärenden får ingen prioritet."), rule="OG-7-d")
        return
    if priority is None or not 1 <= int(priority) <= 5:
        raise GuardRefused(_l("Prioriteten är 1 (högst) till 5 (lägst)."), rule="HA-prio-a")


def _local(moment: datetime) -> str:
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")
