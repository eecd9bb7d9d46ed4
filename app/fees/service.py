"""Patient fees: the tariff in effect on a date (OG-2-d), free contacts (OG-2-a, OG-2-c), the stated cost (OG-8.3).

Amounts are whole öre in the database and `Decimal` kronor at the edges, so no sum is ever a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import Actor, record
from app.errors import Forbidden, NotFound, ValidationFailed
from app.fees.models import Tariff, VisitKind
from app.people.models import Region, Unit
from app.people.roles import Role
from app.phrases.service import render, text_for

STOCKHOLM = ZoneInfo("Europe/Stockholm")
_TARIFF_SETTERS = frozenset({Role.PROCESS_OWNER, Role.LOCAL_SYSADMIN})


class ContactKind(StrEnum):
    """What a contact through the service turned out to be."""

    CHAT_ADVICE = "chat_advice"  # Sök vård / Administrativa frågor, image or video included (OG-2-a)
    TEST_RESULTS = "test_results"  # OG-2-c: still free ...
    BOOKING = "booking"
    PRESCRIPTION_RENEWAL = "prescription_renewal"
    PHONE_ADVICE = "phone_advice"
    LETTER = "letter"
    CARE_GUARANTEE_CONTACT = "care_guarantee_contact"  # the "0" of the care guarantee
    DIGITAL_VISIT = "digital_visit"  # OG-2-b: the region's tariff applies
    PHYSICAL_VISIT = "physical_visit"
    PHONE_VISIT = "phone_visit"


FREE_CONTACTS = {
    ContactKind.CHAT_ADVICE: "OG-2-a",
    ContactKind.TEST_RESULTS: "OG-2-c",
    ContactKind.BOOKING: "OG-2-c",
    ContactKind.PRESCRIPTION_RENEWAL: "OG-2-c",
    ContactKind.PHONE_ADVICE: "OG-2-c",
    ContactKind.LETTER: "OG-2-c",
    ContactKind.CARE_GUARANTEE_CONTACT: "OG-2-c",
}


class MeetingForm(StrEnum):
    """The meeting forms a case may switch between (OG-8.3), with the visit each becomes."""

    CHAT = "chat"
    VIDEO = "video"
    PHONE = "phone"

    @property
    def swedish(self) -> str:
        return {"chat": "chatt", "video": "video", "phone": "telefon"}[self.value]

    @property
    def visit_kind(self) -> VisitKind:
        return VisitKind.PHONE_VISIT if self is MeetingForm.PHONE else VisitKind.DIGITAL_VISIT


@dataclass(frozen=True)
class Fee:
    """A patient fee and where it comes from: a tariff (OG-2-b) or a free contact rule."""

    amount_ore: int
    rule: str
    visit_kind: VisitKind | None = None
    effective_from: date | None = None
    tariff_id: int | None = None
    note: str = ""

    @property
    def amount_sek(self) -> Decimal:
        return Decimal(self.amount_ore) / 100

    @property
    def free(self) -> bool:
        return self.amount_ore == 0


@dataclass(frozen=True)
class FeeNotice:
    """The consent question with its cost, and the fee to record with the consent (OG-8.3)."""

    text: str
    fee: Fee


def fee_for(session: Session, *, region_id: int, visit_kind: VisitKind, on: date) -> Fee:
    """The fee of the region's tariff in effect on that day for this kind of visit."""
    visit_kind = VisitKind(visit_kind)
    tariff = session.scalar(
        select(Tariff)
        .where(Tariff.region_id == region_id, Tariff.visit_kind == visit_kind, Tariff.effective_from <= on)
        .order_by(Tariff.effective_from.desc())
        .limit(1)
    )
    if tariff is None:
        raise NotFound(
            f"region {region_id} has no tariff for {visit_kind.value} in effect on {on.isoformat()}",
            rule="OG-2-d",
        )
    return Fee(tariff.amount_ore, "OG-2-b", visit_kind, tariff.effective_from, tariff.id, tariff.note)


def fee_for_contact(session: Session, *, region_id: int, contact: ContactKind, on: date) -> Fee:
    """Zero for the contacts that stay free (chat advice, OG-2-a; OG-2-c); the tariff for a visit."""
    contact = ContactKind(contact)
    if contact in FREE_CONTACTS:
        return Fee(0, FREE_CONTACTS[contact])
    return fee_for(session, region_id=region_id, visit_kind=VisitKind(contact.value), on=on)


def fee_notice(session: Session, *, unit_id: int, meeting_form: MeetingForm, on: date) -> FeeNotice:
    """The unit's consent text for switching meeting form, always stating the cost (OG-8.3)."""
    meeting_form = MeetingForm(meeting_form)
    region_id = session.scalar(select(Unit.region_id).where(Unit.id == unit_id))
    if region_id is None:
        raise NotFound(f"no unit {unit_id}")
    fee = fee_for(session, region_id=region_id, visit_kind=meeting_form.visit_kind, on=on)
    text = render(
        text_for(session, unit_id=unit_id, purpose="consent_meeting_form"),
        meeting_form=meeting_form.swedish,
        cost=fee.amount_sek,
    )
    return FeeNotice(text, fee)


def set_tariff(
    session: Session,
    *,
    actor: Actor,
    region_id: int,
    visit_kind: VisitKind,
    amount_sek: Decimal | int,
    effective_from: date,
    note: str = "",
) -> Tariff:
    """Record a fee taking effect on a date (a process owner or sysadmin of the region); same date corrects it."""
    visit_kind = VisitKind(visit_kind)
    _require_setter(session, actor, region_id)
    amount_ore = _to_ore(amount_sek)
    tariff = session.scalar(
        select(Tariff).where(
            Tariff.region_id == region_id,
            Tariff.visit_kind == visit_kind,
            Tariff.effective_from == effective_from,
        )
    )
    previous_ore = None if tariff is None else tariff.amount_ore
    if tariff is None:
        tariff = Tariff(
            region_id=region_id,
            visit_kind=visit_kind,
            effective_from=effective_from,
            created_at=clock.now(),
            created_by_user_id=actor.user_id,
        )
        session.add(tariff)
    tariff.amount_ore, tariff.note = amount_ore, note
    session.flush()
    record(
        session,
        "tariff:set",
        actor=actor,
        subject=("tariff", tariff.id),
        region_id=region_id,
        visit_kind=visit_kind.value,
        effective_from=effective_from.isoformat(),
        amount_ore=amount_ore,
        previous_amount_ore=previous_ore,
    )
    return tariff


# Placeholders only: the guideline names no amounts ("enligt regionens taxa"); replace them before real use.
DEMO_TARIFFS_SEK = {VisitKind.DIGITAL_VISIT: 100, VisitKind.PHYSICAL_VISIT: 200, VisitKind.PHONE_VISIT: 100}
DEMO_NOTE = "Platshållare för demo, inte regionens taxa"


def seed_demo_tariffs(session: Session, *, region: Region) -> list[Tariff]:
    """Demo placeholder tariffs from 1 January this year, for a region that has none."""
    if session.scalar(select(Tariff.id).where(Tariff.region_id == region.id).limit(1)) is not None:
        return []
    actor = Actor.system("demo-seed")
    first_of_year = clock.now().astimezone(STOCKHOLM).date().replace(month=1, day=1)
    return [
        set_tariff(
            session,
            actor=actor,
            region_id=region.id,
            visit_kind=kind,
            amount_sek=amount,
            effective_from=first_of_year,
            note=DEMO_NOTE,
        )
        for kind, amount in DEMO_TARIFFS_SEK.items()
    ]


def _require_setter(session: Session, actor: Actor, region_id: int) -> None:
    if actor.user_id is None and actor.label.startswith("system:"):
        return  # the CLI and the demo seed
    if not actor.roles & _TARIFF_SETTERS or actor.unit_id is None:
        raise Forbidden("tariffs are set by a process owner or a local system administrator")
    if session.scalar(select(Unit.region_id).where(Unit.id == actor.unit_id)) != region_id:
        raise Forbidden("tariffs are set for the region you act in")


def _to_ore(amount_sek: Decimal | int) -> int:
    if isinstance(amount_sek, bool) or not isinstance(amount_sek, Decimal | int):
        raise ValidationFailed(
            "give the amount as a Decimal or whole kronor, not a float",
            {"amount_sek": ["exact amount needed"]},
        )
    ore = Decimal(amount_sek) * 100
    if ore < 0 or ore != ore.to_integral_value():
        raise ValidationFailed(
            "the amount must be zero or more, in whole öre", {"amount_sek": ["invalid amount"]}
        )
    return int(ore)
