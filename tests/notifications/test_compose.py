"""The composer: placeholders, sender IDs, and SEC-protected-sms for every purpose (hypothesis)."""

from __future__ import annotations

import re
import unicodedata

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.notifications.compose import (
    NEUTRAL_LINK,
    ProtectedIdentityLeak,
    Recipient,
    SenderUnit,
    compose,
    render_text,
    slugify,
    sms_sender_id,
)
from app.notifications.models import Channel, RecipientKind
from app.notifications.purposes import NotificationPurpose

# No example database: it would leave a .hypothesis/ folder in the checkout. No deadline: no timing asserts.
PROPERTY = settings(database=None, deadline=None, max_examples=300)

EKDALEN = SenderUnit(
    unit_id=1,
    name="Vårdcentralen Ekdalen",
    slug="vc-ekdalen",
    phone="013-12 34 56",
    vtv_number="010-100 10 10",
    address="Storgatan 5, 581 85 Linköping",
    region_code="OG",
    region_name="Region Östergötland",
)
PATIENT = Recipient(
    kind=RecipientKind.PATIENT,
    name="Testa Patientsson",
    phone="+46701234567",
    email="testa@example.org",
    patient_id=7,
)
PROTECTED = Recipient(
    kind=RecipientKind.PATIENT,
    name="Skydd Personsson",
    phone="+46701234568",
    email="skydd@example.org",
    protected=True,
    patient_id=8,
)
RECEIVED = "Hej. Ditt ärende hos {unit} har tagits emot och handläggningen har börjat. Ring {unit_phone} eller besök {unit_address} om du behöver."
LINKS = ("https://e-tjanster.1177.se/mvk/{unit_slug}/chatt",)


def _fields(message) -> dict[str, str]:
    found = {
        "sender_id": message.sender_id,
        "subject": message.subject or "",
        "body": message.body,
        "signature": message.signature,
    }
    found.update({f"link{n}": link for n, link in enumerate(message.links)})
    return found


# --- examples ------------------------------------------------------------------------------------


def test_messages_to_unprotected_patients_name_the_unit():
    message = compose(
        NotificationPurpose.CASE_RECEIVED, recipient=PATIENT, unit=EKDALEN, text=RECEIVED, links=LINKS
    )
    assert message.sender_id == "VC Ekdalen" and not message.neutral
    assert (
        message.body
        == "Hej. Ditt ärende hos Vårdcentralen Ekdalen har tagits emot och handläggningen har börjat. Ring 013-12 34 56 eller besök Storgatan 5, 581 85 Linköping om du behöver."
    )
    assert message.links == ("https://e-tjanster.1177.se/mvk/vc-ekdalen/chatt",)
    assert (
        message.signature == "Vårdcentralen Ekdalen"
        and message.subject is None
        and message.to_address == "+46701234567"
    )
    mail = compose(
        NotificationPurpose.CASE_RECEIVED,
        recipient=PATIENT,
        unit=EKDALEN,
        text=RECEIVED,
        channel=Channel.EMAIL,
    )
    assert (mail.sender_id, mail.subject, mail.to_address) == (
        "Vårdcentralen Ekdalen",
        "Nytt meddelande från Vårdcentralen Ekdalen",
        "testa@example.org",
    )


def test_SEC_protected_sms_no_field_names_or_locates_the_unit():
    """SEC-protected-sms: SMS body and sender ID, e-mail From, subject, signature, links: all neutral."""
    sms = compose(
        NotificationPurpose.CASE_RECEIVED, recipient=PROTECTED, unit=EKDALEN, text=RECEIVED, links=LINKS
    )
    assert sms.neutral and sms.sender_id == "1177" and sms.signature == "1177 direkt"
    assert (
        sms.body
        == "Hej. Ditt ärende hos din vårdgivare har tagits emot och handläggningen har börjat. Ring eller besök om du behöver."
    )
    assert sms.links == (NEUTRAL_LINK,)
    mail = compose(
        NotificationPurpose.CASE_RECEIVED,
        recipient=PROTECTED,
        unit=EKDALEN,
        text=RECEIVED,
        subject="Svar från {unit}",
        links=LINKS,
        channel=Channel.EMAIL,
    )
    assert (mail.sender_id, mail.subject, mail.signature) == (
        "1177 direkt",
        "Svar från din vårdgivare",
        "1177 direkt",
    )
    for message in (sms, mail):
        rendered = (
            render_text(body=message.body, links=message.links, signature=message.signature)
            + message.sender_id
            + (message.subject or "")
        )
        for secret in ("Ekdalen", "ekdalen", "Storgatan", "Linköping", "581 85"):
            assert secret not in rendered
        assert "123456" not in re.sub(r"\D", "", rendered) and "101001010" not in re.sub(r"\D", "", rendered)


@pytest.mark.parametrize(
    "phrase",
    [
        "Välkommen till Vårdcentralen Ekdalen.",
        "VÅRDCENTRALEN EKDALEN svarar snart.",
        "Ekdalens vårdcentral svarar snart.",  # a distinctive word of the name, inflected
        "Läs mer på vc-ekdalen.",  # the slug
        "Ring 013-12 34 56.",
        "Ring 013 123456.",
        "Ring +46 13 12 34 56.",
        "Ring 0046131234 56.",
        "Vård till vård: 010 100 10 10.",
        "Besök Storgatan 5.",
        "Vi finns i Linköping.",
        "Postnummer 58185.",
    ],
)
def test_SEC_protected_sms_a_phrase_that_names_or_locates_the_unit_raises(phrase):
    """SEC-protected-sms: a leak in the phrase itself is refused, in every channel, never sent."""
    for channel in (Channel.SMS, Channel.EMAIL):
        with pytest.raises(ProtectedIdentityLeak):
            compose(
                NotificationPurpose.NEW_CHAT_MESSAGE,
                recipient=PROTECTED,
                unit=EKDALEN,
                text=phrase,
                channel=channel,
            )
    with pytest.raises(ProtectedIdentityLeak):
        compose(
            NotificationPurpose.NEW_CHAT_MESSAGE,
            recipient=PROTECTED,
            unit=EKDALEN,
            text="Nytt meddelande.",
            subject=phrase,
            channel=Channel.EMAIL,
        )


def test_SEC_protected_sms_short_unit_names_do_not_block_ordinary_words():
    for name in ("Ö", "Ek", "Vik"):
        unit = SenderUnit(unit_id=2, name=name, slug=slugify(name))
        message = compose(
            NotificationPurpose.NEXT_WEEKDAY,
            recipient=PROTECTED,
            unit=unit,
            text="Ditt ärende hos {unit} handläggs nästa vardag. Sök vård om du behöver, ekonomi och viktigt.",
        )
        assert message.body.startswith("Ditt ärende hos din vårdgivare")
        with pytest.raises(ProtectedIdentityLeak):
            compose(
                NotificationPurpose.NEXT_WEEKDAY, recipient=PROTECTED, unit=unit, text=f"Hälsningar {name}."
            )


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("Vårdcentralen Ekdalen", "VC Ekdalen"),
        ("Vårdcentralen Havsbris", "VC Havsbris"),
        ("Rehab Linnea", "Linnea"),
        ("Läkarhuset Norra (privat)", "Norra"),
        ("Hälsocentralen Åby", "HC Aby"),
        ("Öxnehaga", "Oxnehaga"),
        ("Barnavårdscentralen", "Barnavardsc"),
    ],
)
def test_sms_sender_ids_are_the_units_short_name_in_at_most_eleven_characters(name, sender):
    assert sms_sender_id(SenderUnit(unit_id=1, name=name, slug="x")) == sender


def test_a_configured_sms_sender_id_is_used():
    assert (
        sms_sender_id(SenderUnit(unit_id=1, name="Vårdcentralen Ekdalen", slug="x", sms_sender="Ekdal VC"))
        == "Ekdal VC"
    )


def test_unknown_placeholders_are_refused():
    with pytest.raises(ValueError, match="unknown placeholder"):
        compose(NotificationPurpose.CASE_CLOSED, recipient=PATIENT, unit=EKDALEN, text="Hej {patient_name}")
    braces = compose(
        NotificationPurpose.CASE_CLOSED, recipient=PATIENT, unit=EKDALEN, text="Svara {Ja} eller {nej!}"
    )
    assert braces.body == "Svara {Ja} eller {nej!}"


def test_OG_8_7_purposes_carry_their_audience_and_channels():
    """OG-8.7: the new-case notification to staff exists only as an SMS (and only for staff); reminders too are SMS only."""
    staff = Recipient(
        kind=RecipientKind.STAFF, name="Sara Lind", phone="+46701112233", email="sara@example.org", user_id=3
    )
    with pytest.raises(ValueError, match="may not be sent by email"):
        compose(
            NotificationPurpose.STAFF_NEW_CASE,
            recipient=staff,
            unit=EKDALEN,
            text="Nytt ärende.",
            channel=Channel.EMAIL,
        )
    with pytest.raises(ValueError, match="may not be sent by email"):
        compose(
            NotificationPurpose.SMS_REMINDER,
            recipient=PATIENT,
            unit=EKDALEN,
            text="Påminnelse.",
            channel=Channel.EMAIL,
        )
    with pytest.raises(ValueError, match="not a notification for patient"):
        compose(NotificationPurpose.STAFF_NEW_CASE, recipient=PATIENT, unit=EKDALEN, text="Nytt ärende.")
    assert (
        compose(
            NotificationPurpose.STAFF_NEW_CASE, recipient=staff, unit=EKDALEN, text="Nytt ärende hos {unit}."
        ).body
        == "Nytt ärende hos Vårdcentralen Ekdalen."
    )


def test_every_purpose_is_described_and_fits_its_column():
    for purpose in NotificationPurpose:
        assert purpose.audiences and purpose.channels <= {"sms", "email"} and purpose.description
        assert len(purpose.value) <= 40


# --- properties over every purpose ---------------------------------------------------------------

VOCABULARY = (
    "Hej ditt ärende har tagits emot och handläggningen har börjat du har fått ett nytt meddelande från "
    "logga in för att läsa det sök vård om behöver handläggs nästa vardag svarstiderna kan bli längre än "
    "vanligt fyll i formuläret ladda upp bilder ärendet är avslutat kan öppnas igen till och med samtycke "
    "byte av mötesform kostar kronor hälsningar påminnelse svara gärna när tid"
).split()
PLACEHOLDERS = ("{unit}", "{unit_phone}", "{unit_address}")
LETTERS = "abcdefghijklmnopqrstuvwxyzåäöéüABCDEFGHIJKLMNOPQRSTUVWXYZÅÄÖÉ"


def _fold(text: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


# Everything a neutral message may say: the phrase vocabulary and the neutral wording.
SAYABLE = _fold(
    " ".join(VOCABULARY) + " din vårdgivare 1177 direkt https://www.1177.se/ Nytt meddelande från"
)

words = st.text(alphabet=LETTERS, min_size=1, max_size=12)
phones = st.builds(
    lambda area, groups, seps: area + "".join(sep + group for sep, group in zip(seps, groups, strict=False)),
    st.from_regex(r"0[1-9][0-9]{0,2}", fullmatch=True),
    st.lists(st.from_regex(r"[0-9]{2,3}", fullmatch=True), min_size=2, max_size=3),
    st.lists(st.sampled_from(["-", " ", "", "."]), min_size=3, max_size=3),
)


@st.composite
def units(draw) -> SenderUnit:
    prefix = draw(st.sampled_from(["", "Vårdcentralen ", "Rehab ", "Hälsocentralen ", "Läkarhuset "]))
    name = prefix + " ".join(draw(st.lists(words, min_size=1, max_size=3)))
    slug = draw(
        st.one_of(st.just(slugify(name)), st.from_regex(r"[a-z]{2,8}(-[a-z0-9]{2,8}){0,2}", fullmatch=True))
    )
    address = draw(
        st.one_of(
            st.none(),
            st.builds(
                lambda street, number, code, city: f"{street}gatan {number}, {code} {city}",
                words,
                st.integers(1, 99),
                st.from_regex(r"[1-9][0-9]{2} [0-9]{2}", fullmatch=True),
                words,
            ),
        )
    )
    return SenderUnit(
        unit_id=1,
        name=name,
        slug=slug,
        phone=draw(phones),
        vtv_number=draw(phones),
        address=address,
        region_code="OG",
        region_name="Region Östergötland",
    )


phrases = st.lists(
    st.one_of(st.sampled_from(VOCABULARY), st.sampled_from(PLACEHOLDERS), st.sampled_from([",", ".", "\n"])),
    min_size=1,
    max_size=30,
).map(" ".join)
link_lists = st.lists(
    st.sampled_from(
        [
            "https://e-tjanster.1177.se/mvk/{unit_slug}",
            "https://www.1177.se/",
            "https://vardcentral.example/{unit_slug}/chatt?tel=013123456",
        ]
    ),
    max_size=3,
)


def _digits(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    return digits[1:] if digits.startswith("0") else digits


def _identifiers(unit: SenderUnit) -> list[str]:
    found = [unit.name, unit.slug] + ([unit.address] if unit.address else [])
    return found + [word for text in found for word in re.split(r"[\s,\-]+", text)]


def _draw_message(data, *, protected: bool = True):
    purpose = data.draw(st.sampled_from(list(NotificationPurpose)))
    kind = RecipientKind(sorted(purpose.audiences)[0])
    channel = Channel(data.draw(st.sampled_from(sorted(purpose.channels))))
    recipient = Recipient(
        kind=kind,
        name="Någon",
        phone="+46701234567",
        email="nagon@example.org",
        protected=protected,
        patient_id=1 if kind is RecipientKind.PATIENT else None,
        user_id=1 if kind is RecipientKind.STAFF else None,
    )
    return purpose, channel, recipient


@PROPERTY
@given(data=st.data(), unit=units(), text=phrases, subject=st.one_of(st.none(), phrases), links=link_lists)
def test_SEC_protected_sms_property_no_field_of_any_purpose_reveals_the_unit(
    data, unit, text, subject, links
):
    """SEC-protected-sms, every NotificationPurpose: no field holds the unit's name, slug, phone or vtv digits, or address."""
    # The vocabulary must not happen to spell the unit (a name like "Hej" or "ärende" cannot be hidden).
    assume(all(_fold(word) not in SAYABLE for word in _identifiers(unit) if _fold(word)))
    purpose, channel, recipient = _draw_message(data)
    message = compose(
        purpose, recipient=recipient, unit=unit, text=text, subject=subject, links=links, channel=channel
    )
    assert message.neutral and message.sender_id in ("1177", "1177 direkt")
    secrets = [_fold(s) for s in (unit.name, unit.slug, unit.address) if s and _fold(s)]
    numbers = [_digits(unit.phone), _digits(unit.vtv_number)]
    for field, value in _fields(message).items():
        folded, digits = _fold(value), re.sub(r"\D", "", value)
        assert not [s for s in secrets if s in folded], (field, value)
        assert not [n for n in numbers if n in digits], (field, value)
    assert all(link == NEUTRAL_LINK for link in message.links)


@PROPERTY
@given(data=st.data(), unit=units(), text=phrases, position=st.integers(0, 30))
def test_SEC_protected_sms_property_a_phrase_naming_the_unit_raises_for_every_purpose(
    data, unit, text, position
):
    """SEC-protected-sms: a phrase that literally names or locates the unit raises ProtectedIdentityLeak."""
    kind = data.draw(
        st.sampled_from(
            ["name", "slug", "phone", "vtv", "address"] if unit.address else ["name", "slug", "phone", "vtv"]
        )
    )
    if kind == "name":
        leak = data.draw(st.sampled_from([unit.name, unit.name.upper(), unit.name.lower()]))
    elif kind in ("phone", "vtv"):
        digits = _digits(unit.phone if kind == "phone" else unit.vtv_number)
        prefix = data.draw(st.sampled_from(["0", "+46 ", "+46", "0046 "]))
        separators = data.draw(
            st.lists(st.sampled_from(["", " ", "-", "."]), min_size=len(digits), max_size=len(digits))
        )
        leak = prefix + "".join(d + s for d, s in zip(digits, separators, strict=True))
    else:
        leak = unit.slug if kind == "slug" else unit.address
    tokens = text.split(" ")
    tokens.insert(min(position, len(tokens)), leak)
    purpose, channel, recipient = _draw_message(data)
    with pytest.raises(ProtectedIdentityLeak):
        compose(purpose, recipient=recipient, unit=unit, text=" ".join(tokens), channel=channel)


@PROPERTY
@given(data=st.data(), unit=units(), text=phrases, links=link_lists)
def test_unprotected_messages_of_every_purpose_name_the_unit(data, unit, text, links):
    purpose, channel, recipient = _draw_message(data, protected=False)
    message = compose(
        purpose, recipient=recipient, unit=unit, text=text + " {unit}", links=links, channel=channel
    )
    assert unit.name in message.body and message.signature == unit.name and not message.neutral
    assert message.links == tuple(link.replace("{unit_slug}", unit.slug) for link in links)


@PROPERTY
@given(name=st.text(min_size=1, max_size=60))
def test_sms_sender_ids_are_at_most_eleven_ascii_characters_with_a_letter(name):
    sender = sms_sender_id(SenderUnit(unit_id=1, name=name, slug="x"))
    assert 1 <= len(sender) <= 11 and re.fullmatch(r"[A-Za-z0-9 ]+", sender)
    # An all-digit ID would read as a phone number: a name without letters gets the neutral sender.
    assert re.search(r"[A-Za-z]", sender) or sender == "1177"
