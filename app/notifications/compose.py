"""The composer: the one choke point every notification passes through before it may be queued.

Phrase texts may hold the placeholders {unit}, {unit_phone} and {unit_address} (links: {unit_slug});
only the composer fills them. For a protected recipient (protected identity claimed or confirmed,
SEC-protected-sms) nothing may name or locate the unit in any field, so the composer

- fills the placeholders neutrally ({unit} -> "din vårdgivare"; phone, address and slug dropped),
- uses the neutral sender ID "1177", From name and signature "1177 direkt",
- replaces every link by the neutral 1177.se address (any path could carry a unit slug or id),
- then scans every field for the unit's name, its distinctive name words, slug, SMS sender ID,
  address (and its parts), phone and vård-till-vård digits, and raises ProtectedIdentityLeak when
  anything is found (e.g. a phrase that names the unit literally): such a message is never queued.

Pure: no database, no Flask, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from app.notifications.models import Channel, RecipientKind
from app.notifications.purposes import NotificationPurpose

NEUTRAL_SMS_SENDER = "1177"
NEUTRAL_EMAIL_SENDER = "1177 direkt"
NEUTRAL_SIGNATURE = "1177 direkt"
NEUTRAL_UNIT = "din vårdgivare"
NEUTRAL_LINK = "https://www.1177.se/"
DEFAULT_EMAIL_SUBJECT = "Nytt meddelande från {unit}"
SMS_SENDER_MAX = 11  # alphanumeric SMS sender IDs: at most 11 characters

TEXT_PLACEHOLDERS = frozenset({"unit", "unit_phone", "unit_address"})
LINK_PLACEHOLDERS = frozenset({"unit_slug"})
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")

# Words that many unit names share: on their own they locate no unit, so they are not scanned for.
GENERIC_NAME_WORDS = frozenset(
    "vardcentralen vardcentral halsocentralen halsocentral lakarhuset lakarhus rehab rehabilitering "
    "mottagning mottagningen klinik kliniken privat region och".split()
)
# Abbreviations that make a unit's name fit an 11-character SMS sender ID.
_SENDER_ABBREVIATIONS = {
    "vardcentralen": "VC",
    "vardcentral": "VC",
    "halsocentralen": "HC",
    "halsocentral": "HC",
}
# Needles shorter than this match whole words only; longer ones match anywhere (catching "Ekdalens").
_SUBSTRING_MIN = 4


class ProtectedIdentityLeak(Exception):
    """A message to a protected recipient would name or locate the unit: it must never be sent."""


@dataclass(frozen=True)
class Recipient:
    kind: RecipientKind
    name: str
    phone: str | None = None
    email: str | None = None
    protected: bool = False  # protected identity claimed or confirmed (Patient.is_protected)
    patient_id: int | None = None
    user_id: int | None = None


@dataclass(frozen=True)
class SenderUnit:
    """What a message could say about the sending unit (and what must be hidden from protected recipients)."""

    unit_id: int | None
    name: str
    slug: str
    phone: str | None = None
    vtv_number: str | None = None  # vård-till-vård: the care units' direct line
    address: str | None = None
    region_code: str = ""
    region_name: str = ""
    sms_sender: str | None = None  # a configured alphanumeric sender ID, else derived from the name


@dataclass(frozen=True)
class ComposedMessage:
    purpose: NotificationPurpose
    channel: Channel
    recipient_kind: RecipientKind
    patient_id: int | None
    user_id: int | None
    unit_id: int | None
    to_address: str
    sender_id: str
    subject: str | None
    body: str
    links: tuple[str, ...]
    signature: str
    neutral: bool  # composed for a protected recipient


def compose(
    purpose: NotificationPurpose,
    *,
    recipient: Recipient,
    unit: SenderUnit,
    text: str,
    subject: str | None = None,
    links: Sequence[str] = (),
    channel: Channel = Channel.SMS,
) -> ComposedMessage:
    """Build the message for one recipient; neutral and leak-checked when the recipient is protected."""
    purpose = NotificationPurpose(purpose)
    channel = Channel(channel)
    if recipient.kind.value not in purpose.audiences:
        raise ValueError(f"{purpose} is not a notification for {recipient.kind}")
    if channel.value not in purpose.channels:
        raise ValueError(f"{purpose} may not be sent by {channel}")
    to_address = recipient.phone if channel is Channel.SMS else recipient.email
    if not to_address:
        raise ValueError(f"the recipient has no address for {channel}")
    neutral = recipient.protected
    fill = _neutral_fill if neutral else _unit_fill(unit)
    body = _fill(text, TEXT_PLACEHOLDERS, fill).strip()
    if channel is Channel.EMAIL:
        subject = " ".join(_fill(subject or DEFAULT_EMAIL_SUBJECT, TEXT_PLACEHOLDERS, fill).split())
    else:
        subject = None  # an SMS has no subject line
    if neutral:
        filled_links: tuple[str, ...] = (NEUTRAL_LINK,) if links else ()
    else:
        filled_links = tuple(
            _fill(link, LINK_PLACEHOLDERS, {"unit_slug": unit.slug}.__getitem__) for link in links
        )
    message = ComposedMessage(
        purpose=purpose,
        channel=channel,
        recipient_kind=recipient.kind,
        patient_id=recipient.patient_id,
        user_id=recipient.user_id,
        unit_id=unit.unit_id,
        to_address=to_address,
        sender_id=_sender(unit, channel, neutral),
        subject=subject,
        body=body,
        links=filled_links,
        signature=NEUTRAL_SIGNATURE if neutral else unit.name,
        neutral=neutral,
    )
    if neutral:
        check_neutral(message, unit)
    return message


def render_text(*, body: str, links: Sequence[str], signature: str | None) -> str:
    """The text a transport sends: body, links, signature."""
    parts = [body, "\n".join(links), signature or ""]
    return "\n\n".join(part for part in parts if part)


def sms_sender_id(unit: SenderUnit) -> str:
    """The unit's alphanumeric SMS sender ID: ASCII letters, digits and spaces, at most 11 characters."""
    if unit.sms_sender:
        words = _ascii(unit.sms_sender).split()
    else:
        name = re.sub(r"\(.*?\)", " ", unit.name)  # "(privat)" and the like
        words = [_SENDER_ABBREVIATIONS.get(word.lower(), word) for word in _ascii(name).split()]
        if len(" ".join(words)) > SMS_SENDER_MAX:  # too long: keep the words that tell units apart
            words = [word for word in words if word.lower() not in GENERIC_NAME_WORDS] or words
    sender = ""
    for word in words:
        candidate = f"{sender} {word}".strip()
        if len(candidate) > SMS_SENDER_MAX:
            break
        sender = candidate
    if not sender:
        sender = "".join(words)[:SMS_SENDER_MAX]
    # An all-digit sender would be read as a phone number; a unit without letters gets the neutral one.
    return sender if any(c.isalpha() for c in sender) else NEUTRAL_SMS_SENDER


def slugify(name: str) -> str:
    """A URL slug for a unit name: "Vårdcentralen Ekdalen" -> "vardcentralen-ekdalen"."""
    return "-".join(_ascii(name).lower().split())


def check_neutral(message: ComposedMessage, unit: SenderUnit) -> None:
    """Raise ProtectedIdentityLeak if any field of the message names or locates the unit."""
    fields = {
        "sender ID": message.sender_id,
        "subject": message.subject,
        "body": message.body,
        "signature": message.signature,
    }
    fields.update({f"link {n}": link for n, link in enumerate(message.links, 1)})
    words = _word_needles(unit)
    digits = _digit_needles(unit)
    for field, value in fields.items():
        if not value:
            continue
        folded = f" {_fold(value)} "
        for what, needle in words:
            if (needle in folded) if len(needle) >= _SUBSTRING_MIN else (f" {needle} " in folded):
                raise ProtectedIdentityLeak(
                    f"the {field} would reveal the unit's {what} to a protected recipient"
                )
        squeezed = re.sub(r"[\s\-\u2010-\u2015./()+]", "", value)
        for what, needle in digits:
            if needle in squeezed:
                raise ProtectedIdentityLeak(
                    f"the {field} would reveal the unit's {what} to a protected recipient"
                )


# --- filling placeholders ---------------------------------------------------------------------


def _neutral_fill(name: str) -> str:
    return NEUTRAL_UNIT if name == "unit" else ""


def _unit_fill(unit: SenderUnit) -> Callable[[str], str]:
    values = {"unit": unit.name, "unit_phone": unit.phone or "", "unit_address": unit.address or ""}
    return values.__getitem__


def _fill(text: str, known: frozenset[str], value_of: Callable[[str], str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in known:
            raise ValueError(f"unknown placeholder {{{name}}} in a notification text")
        return value_of(name)

    filled = _PLACEHOLDER.sub(replace, text)
    # A dropped placeholder leaves "Ring  ." behind: tidy the spaces it leaves.
    filled = re.sub(r"[ \t]{2,}", " ", filled)
    return re.sub(r"[ \t]+([,.;:!?])", r"\1", filled)


def _sender(unit: SenderUnit, channel: Channel, neutral: bool) -> str:
    if channel is Channel.SMS:
        return NEUTRAL_SMS_SENDER if neutral else sms_sender_id(unit)
    return NEUTRAL_EMAIL_SENDER if neutral else " ".join(unit.name.split())


# --- what a neutral message must not contain ---------------------------------------------------


def _fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive form: "Vårdcentralen Ekdalen!" -> "vardcentralen ekdalen"."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", stripped).split())


# The neutral wording is the same for every unit, so its words locate none.
_NEUTRAL_WORDS = frozenset(
    _fold(
        " ".join((NEUTRAL_SMS_SENDER, NEUTRAL_EMAIL_SENDER, NEUTRAL_SIGNATURE, NEUTRAL_UNIT, NEUTRAL_LINK))
    ).split()
)


def _ascii(text: str) -> str:
    return " ".join(
        re.sub(
            r"[^A-Za-z0-9]+", " ", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
        ).split()
    )


def _word_needles(unit: SenderUnit) -> list[tuple[str, str]]:
    needles = [("name", _fold(unit.name)), ("slug", _fold(unit.slug))]
    if unit.sms_sender:
        needles.append(("SMS sender ID", _fold(unit.sms_sender)))
    # A distinctive word of the name ("Ekdalen") locates the unit as well as the whole name does.
    needles += [("name", word) for word in _distinctive_words(unit.name) + _distinctive_words(unit.slug)]
    if unit.address:
        needles.append(("address", _fold(unit.address)))
        needles += [
            ("address", _fold(part)) for part in unit.address.split(",") if len(_fold(part)) >= _SUBSTRING_MIN
        ]
        needles += [("address", word) for word in _distinctive_words(unit.address) if not word.isdigit()]
    return [(what, needle) for what, needle in needles if needle]


def _distinctive_words(text: str) -> list[str]:
    words = set(_fold(text).split())
    return sorted(
        w
        for w in words
        if len(w) >= _SUBSTRING_MIN and w not in GENERIC_NAME_WORDS and w not in _NEUTRAL_WORDS
    )


def _digit_needles(unit: SenderUnit) -> list[tuple[str, str]]:
    needles = []
    for what, number in (("phone number", unit.phone), ("vård-till-vård number", unit.vtv_number)):
        significant = _national_significant(number or "")
        if significant:
            needles.append((what, significant))
    # A Swedish postcode ("581 85") locates the unit's area.
    needles += [
        ("postcode", re.sub(r"\D", "", code))
        for code in re.findall(r"(?<!\d)\d{3} ?\d{2}(?!\d)", unit.address or "")
    ]
    return needles


def _national_significant(number: str) -> str:
    """Digits without country code or trunk zero: "+46 13-12 34 56" and "013-12 34 56" -> "13123456"."""
    digits = re.sub(r"\D", "", number)
    if number.strip().startswith("+46") or digits.startswith("0046"):
        digits = digits.removeprefix("00").removeprefix("46")
    return digits.removeprefix("0")
