"""Demo cases: a few chat and administrative cases in the states a working day leaves them in, made
through the same services a resident and a nurse use (each step its own transaction), so the patient
list, the case pages, the documentation list and the control tower have something to show.

They are made on the last weekday morning both demo care centres were open, with the clock standing
then; afterwards the clock is the real one again, and whatever came due since (reminders, deadlines)
is the timer worker's to fire, as for any case. Made once: a database holding them gets none again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor
from app.cases import chat, handling
from app.cases.models import Case, CaseKind, Consent, ConsentAnswer
from app.cases.submission import submit_case
from app.cases.triage import DemoTriage
from app.clock import MovableClock, install_clock
from app.db import Database
from app.engine import ProcessEngine
from app.errors import NotFound
from app.instances import service as instances
from app.patients.models import Patient
from app.people.calendars import service_is_open
from app.people.models import Unit, User
from app.people.roles import Role
from app.people.service import mark_idle, sign_in
from app.process_models.models import ProcessModel
from app.process_models.service import deploy_directory, runnable_version

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KEY_PREFIX = "demo:"
OWN_UNIT = "Vårdcentralen Ekdalen"
OTHER_REGION_UNIT = "Vårdcentralen Havsbris"
NURSE = "sara.lind"
DOCTOR = "maria.berg"
PSYCHOLOGIST = "johan.ek"
# From the first submission to the last step; the morning must have been open all that time.
SPAN = timedelta(minutes=100)
T = TypeVar("T")


class DemoCasesNotMade(Exception):
    """The demo cases cannot be made (the world or the routines are not there yet)."""


@dataclass(frozen=True)
class _Resident:
    actor: Actor
    patient_id: int


def seed_demo_cases(
    database: Database, engine: ProcessEngine, *, processes_dir: Path, forms_dir: Path
) -> str:
    """Make the demo cases unless they exist; returns a one-line summary.

    On a database with no routines yet, processes/ is deployed first, as of shortly before that
    morning (a demo installation set up then): a version is only in effect from its deployment on."""
    with database.transaction() as session:
        if session.scalar(select(Case.id).where(Case.submission_key.startswith(KEY_PREFIX)).limit(1)):
            return "demo cases: kept (made before)"
        units = {
            u.name: u.id
            for u in session.scalars(select(Unit).where(Unit.name.in_((OWN_UNIT, OTHER_REGION_UNIT))))
        }
        if len(units) < 2:
            raise DemoCasesNotMade("seed the demo world first (flask demo seed)")
        morning = _last_open_morning(session, list(units.values()), clock.now())
    demo_clock = MovableClock(frozen_at=morning - timedelta(minutes=15))
    previous = install_clock(demo_clock)
    try:
        _routines_in_effect(database, engine, morning, processes_dir=processes_dir, forms_dir=forms_dir)
        demo_clock.set(morning)
        made = _DemoDay(database, engine, units, demo_clock).run()
    finally:
        install_clock(previous)
    day = morning.astimezone(STOCKHOLM).strftime("%A %Y-%m-%d %H:%M")
    return f"demo cases: {made} made on {day} (Stockholm)"


def _routines_in_effect(
    database: Database, engine: ProcessEngine, morning: datetime, *, processes_dir: Path, forms_dir: Path
) -> None:
    with database.transaction() as session:
        if session.scalar(select(ProcessModel.id).limit(1)) is None:
            results = deploy_directory(
                session,
                engine,
                processes_dir=processes_dir,
                forms_dir=forms_dir,
                actor=Actor.system("demo-seed"),
            )
            refused = [result for result in results if result.status == "refused"]
            if refused:
                raise DemoCasesNotMade(f"processes/ did not deploy: {refused}")
        for process_id in ("chat_case", "admin_case"):
            try:
                runnable_version(session, process_id, at=morning)
            except NotFound as exc:
                raise DemoCasesNotMade(
                    f"no routine {process_id} was in effect on {morning:%Y-%m-%d %H:%M}: the demo cases need "
                    "a database whose routines the demo seed deployed (a new database)"
                ) from exc


def _last_open_morning(session: Session, unit_ids: list[int], now: datetime) -> datetime:
    """08:45 on the latest weekday, at most two weeks back, when every unit was open for SPAN and
    which ended before now (a holiday or a closed day is skipped)."""
    today = now.astimezone(STOCKHOLM).date()
    for back in range(15):
        day = today - timedelta(days=back)
        start = datetime.combine(day, time(8, 45), STOCKHOLM)
        if start + SPAN > now:
            continue
        if all(service_is_open(session, unit_id, at) for unit_id in unit_ids for at in (start, start + SPAN)):
            return start
    raise DemoCasesNotMade("no morning in the last two weeks when both demo care centres were open")


class _DemoDay:
    def __init__(
        self, database: Database, engine: ProcessEngine, units: dict[str, int], demo_clock: MovableClock
    ):
        self.database = database
        self.clock = demo_clock
        self.engine = engine
        self.units = units
        self.made = 0

    def _do(self, action: Callable[[Session], T], *, minutes: int = 3) -> T:
        result = instances.perform(self.database, action)
        self.clock.advance(minutes=minutes)  # a few minutes between the steps, as in a real morning
        return result

    def _resident(self, given_name: str, family_name: str) -> _Resident:
        with self.database.transaction() as session:
            patient = session.scalar(
                select(Patient).where(Patient.given_name == given_name, Patient.family_name == family_name)
            )
            if patient is None:
                raise DemoCasesNotMade(f"the demo patient {given_name} {family_name} is missing")
            return _Resident(Actor(label=patient.display_name, patient_id=patient.id), patient.id)

    def _signed_in(self, username: str) -> Actor:
        """A member of the care centre's staff signs in (at work that morning: present for the routines)."""

        def action(session: Session) -> Actor:
            user = session.scalar(select(User).where(User.username == username))
            return sign_in(session, user=user, unit_id=self.units[OWN_UNIT])

        return self._do(action, minutes=1)

    def _consent_given(self, resident: _Resident, case_id: int) -> None:
        def action(session: Session) -> None:
            consent_id = session.scalar(
                select(Consent.id).where(Consent.case_id == case_id, Consent.answer == ConsentAnswer.PENDING)
            )
            chat.answer_consent(session, self.engine, actor=resident.actor, consent_id=consent_id, given=True)

        self._do(action)

    def _submit(
        self,
        key: str,
        by: _Resident,
        *,
        patient: _Resident | None = None,
        unit: str = OWN_UNIT,
        kind: CaseKind = CaseKind.SOK_VARD,
        answers: dict | None = None,
        reason: str | None = None,
        message: str = "",
        claims_protected: bool = False,
    ) -> int:
        def action(session: Session) -> int:
            case = submit_case(
                session,
                self.engine,
                actor=by.actor,
                patient_id=(patient or by).patient_id,
                unit_id=self.units[unit],
                kind=kind,
                triage=DemoTriage().assess(answers) if answers is not None else None,
                search_reason=reason,
                message=message,
                claims_protected=claims_protected,
                submission_key=KEY_PREFIX + key,
            )
            return case.id

        self.made += 1
        return self._do(action)

    def _patient_writes(self, resident: _Resident, case_id: int, body: str) -> None:
        self._do(
            lambda s: chat.patient_write(s, self.engine, actor=resident.actor, case_id=case_id, body=body)
        )

    def _started(self, key: str, resident: _Resident, nurse: Actor, first_message: str, **submission) -> int:
        """A case submitted, then received and started by the nurse with her first message."""
        case_id = self._submit(key, resident, **submission)
        self._received_and_started(nurse, case_id, first_message)
        return case_id

    def _received_and_started(self, nurse: Actor, case_id: int, first_message: str) -> None:
        self._do(lambda s: handling.receive(s, self.engine, actor=nurse, case_id=case_id), minutes=1)
        self._do(
            lambda s: handling.start(
                s, self.engine, actor=nurse, case_id=case_id, first_message=first_message
            )
        )

    def run(self) -> int:
        anna = self._resident("Anna", "Andersson")
        cecilia = self._resident("Cecilia", "Berg")
        helena = self._resident("Helena", "Holm")
        ingrid = self._resident("Ingrid", "Isaksson")
        bertil = self._resident("Bertil", "Berg")
        fredrik = self._resident("Fredrik", "Dahl")
        lea = self._resident("Lea", "Skottdag")
        gustav = self._resident("Gustav", "Gran")
        nurse = self._signed_in(NURSE)
        self._signed_in(DOCTOR)
        psychologist = self._signed_in(PSYCHOLOGIST)

        # Waiting in the nurses' queue: nobody has received it yet.
        self._submit(
            "waiting",
            anna,
            answers={"reason": "halsont", "description": "Ont i halsen sedan tre dagar", "days": 3},
        )
        # A guardian seeks care for a child with a high fever and has answered the nurse.
        fever = self._started(
            "answered",
            anna,
            nurse,
            "Hej! Hur hög är febern nu, och dricker Cecilia ordentligt?",
            patient=cecilia,
            answers={
                "reason": "feber",
                "description": "Feber sedan i går kväll",
                "days": 1,
                "high_fever": True,
            },
        )
        self._patient_writes(anna, fever, "39,4 i morse. Hon dricker lite i taget.")
        # A rash: the nurse asked, the patient has not answered; an SMS reminder went out.
        rash = self._started(
            "reminded",
            helena,
            nurse,
            "Hej Helena! Kliar utslagen, och har du feber?",
            answers={"reason": "utslag", "description": "Röda prickar på armarna", "days": 2},
        )
        self._do(lambda s: chat.remind(s, actor=nurse, case_id=rash), minutes=10)
        # Back pain, concluded in the chat and closed: the journal note is still to be documented.
        back = self._started(
            "closed",
            ingrid,
            nurse,
            "Hej Ingrid! Strålar smärtan ner i benen?",
            answers={"reason": "rygg", "description": "Ont i ländryggen efter flytt", "days": 5},
        )
        self._patient_writes(ingrid, back, "Nej, den sitter bara i ryggen.")
        self._do(
            lambda s: chat.staff_write(
                s,
                actor=nurse,
                case_id=back,
                body="Fortsätt röra på dig och ta smärtstillande vid behov. Hör av dig om det inte blir bättre på en vecka.",
            )
        )
        self._do(
            lambda s: handling.close(
                s, self.engine, actor=nurse, case_id=back, concluded_in_dialogue=True, confirmed=True
            )
        )
        # An administrative case, in Administrativ kontakt's queue (OG-7-a; never a priority, OG-7-d).
        self._submit(
            "admin",
            bertil,
            kind=CaseKind.ADMIN,
            reason="Intyg",
            message="Jag behöver ett intyg till arbetsgivaren.",
        )
        # Handed over to the doctors after the patient's consent (HA-handover-consent).
        cough = self._started(
            "handed_over",
            lea,
            nurse,
            "Hej Lea! Har du feber eller blir du andfådd?",
            answers={"reason": "annat", "description": "Hosta sedan tre veckor, värre på natten", "days": 21},
        )
        self._do(
            lambda s: handling.hand_over(
                s, self.engine, actor=nurse, case_id=cough, role=Role.DOCTOR.value, note="Långvarig hosta."
            )
        )
        self._consent_given(lea, cough)
        # Suspected suicide risk: handed at once to the psychologist at work, no consent asked (HA-suicide-b).
        low = self._started(
            "suicide_risk",
            bertil,
            nurse,
            "Hej Bertil! Berätta mer om hur du har det.",
            answers={
                "reason": "nedstamdhet",
                "description": "Känner mig nedstämd sedan flera veckor",
                "days": 30,
            },
        )
        # The psychologist is at work (a sign of life: presence lapses without one), so the case is theirs.
        self._do(lambda s: mark_idle(s, actor=psychologist, idle=False), minutes=1)
        self._do(
            lambda s: handling.suspect_suicide_risk(
                s, self.engine, actor=nurse, case_id=low, note="Beskriver tankar på att inte vilja leva."
            )
        )
        # A resident with protected identity (claimed on the form, and so in the registry): Östergötland
        # verifies and follows its routine (OG-6.3); no SMS names the unit (SEC-protected-sms).
        self._submit(
            "protected",
            gustav,
            claims_protected=True,
            answers={"reason": "halsont", "description": "Ont i halsen och feber", "days": 2},
        )
        # Region Halland: a new case at Havsbris.
        self._submit(
            "halland",
            fredrik,
            unit=OTHER_REGION_UNIT,
            answers={"reason": "nedstamdhet", "description": "Sover dåligt och känner mig nere", "days": 20},
        )
        return self.made
