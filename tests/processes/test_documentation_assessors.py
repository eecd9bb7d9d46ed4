"""HA-doc-a through the chat routine: on closing, every clinician who assessed in the chat owes their own
journal note, and the notes carry the records to document (symptom assessment, images)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.service import Actor
from app.cases import chat, handling
from app.documentation import service as documentation
from app.documentation.models import DraftReason, JournalDraft

PNG = b"\x89PNG\r\n\x1a\n fake png"


def _drafts(world, case) -> dict[int, list[JournalDraft]]:
    world.session.expire_all()
    rows = world.session.scalars(
        select(JournalDraft).where(JournalDraft.case_id == case.id).order_by(JournalDraft.id)
    ).all()
    by_user: dict[int, list[JournalDraft]] = {}
    for row in rows:
        by_user.setdefault(row.for_user_id, []).append(row)
    return by_user


def _entries(draft) -> dict[str, str]:
    return {entry["keyword"]: entry["text"] for entry in draft.fields["entries"]}


def _started_with_colleagues(world, unit: str = "og"):
    """A triaged rash case (the triage asks for images), started by the nurse, who invites the
    doctor and the medical secretary; both write in the chat; the patient uploads the two images asked
    for (OG-11-f: one by the triage, one by the nurse)."""
    prefix = "" if unit == "og" else "ha_"
    case = world.submit("adult", unit=unit, reason="utslag")
    nurse = world.actor(f"{prefix}nurse")
    handling.receive(world.session, world.engine, actor=nurse, case_id=case.id)
    handling.start(world.session, world.engine, actor=nurse, case_id=case.id, first_message="Hej!")
    chat.request_images(world.session, actor=nurse, case_id=case.id, instructions="En bild till, på armen.")
    for colleague in ("doctor", "medadmin"):
        chat.invite_colleague(
            world.session,
            actor=nurse,
            case_id=case.id,
            colleague_id=world.actor(f"{prefix}{colleague}").user_id,
        )
    world.session.commit()
    for name in ("utslag1.png", "utslag2.png"):
        chat.upload_image(
            world.session,
            actor=world.resident("adult"),
            case_id=case.id,
            filename=name,
            content_type="image/png",
            content=PNG,
        )
    chat.staff_write(
        world.session,
        actor=world.actor(f"{prefix}doctor"),
        case_id=case.id,
        body="Läkaren här: utslaget ser ut som eksem. Smörj med mjukgörande kräm.",
    )
    chat.staff_write(
        world.session, actor=world.actor(f"{prefix}medadmin"), case_id=case.id, body="Receptet är skickat."
    )
    chat.patient_write(
        world.session, world.engine, actor=world.resident("adult"), case_id=case.id, body="Tack!"
    )
    world.session.commit()
    return case, nurse


def test_HA_doc_a_OG_8_5_an_invited_colleague_who_assessed_in_the_chat_gets_a_note_of_their_own_on_closing(
    world,
):
    """Before: only the closing nurse got a draft. Now the invited doctor, who wrote an assessment in the
    chat, gets an assessment draft without the anamnesis (documented once); the medical secretary (no
    clinical role) gets none."""
    case, nurse = _started_with_colleagues(world)
    doctor, medadmin = world.actor("doctor"), world.actor("medadmin")
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()

    drafts = _drafts(world, case)
    assert set(drafts) == {nurse.user_id, doctor.user_id}
    assert medadmin.user_id not in drafts
    (own,) = drafts[nurse.user_id]
    (colleague,) = drafts[doctor.user_id]
    assert own.reason is DraftReason.CLOSED and own.includes_anamnesis
    assert colleague.reason is DraftReason.ASSESSMENT and not colleague.includes_anamnesis
    assert "Bedömning" in _entries(colleague)


def test_HA_doc_a_a_clinician_who_already_has_a_note_for_the_case_gets_no_second_one(world):
    case, nurse = _started_with_colleagues(world)
    doctor = world.actor("doctor")
    documentation.create_draft(
        world.session,
        case=case,
        reason=DraftReason.ASSESSMENT,
        for_user_id=doctor.user_id,
        actor=Actor.system("routine"),
        assessment="Eksem.",
    )
    world.session.commit()
    handling.close(
        world.session, world.engine, actor=nurse, case_id=case.id, concluded_in_dialogue=True, confirmed=True
    )
    world.session.commit()
    assert len(_drafts(world, case)[doctor.user_id]) == 1


def test_HA_doc_a_a_wrong_patient_case_documents_nobody(world):
    case, nurse = _started_with_colleagues(world)
    handling.wrong_patient(world.session, world.engine, actor=nurse, case_id=case.id)
    world.session.commit()
    assert _drafts(world, case) == {}


def test_HA_doc_a_OG_11_f_every_regions_notes_mention_the_images_and_the_first_the_triage_assessment(world):
    """The symptom assessment (the triage's priority) and the images are records to document: the
    first assessor's note gives the priority, and every note says how many images the case holds and
    that they are in the case until archived."""
    for unit, archive in (("og", "regionens bildarkiv"), ("ha", "Vidiview")):
        prefix = "" if unit == "og" else "ha_"
        case, nurse = _started_with_colleagues(world, unit)
        handling.close(
            world.session,
            world.engine,
            actor=nurse,
            case_id=case.id,
            concluded_in_dialogue=True,
            confirmed=True,
        )
        world.session.commit()
        drafts = _drafts(world, case)
        (own,) = drafts[nurse.user_id]
        (colleague,) = drafts[world.actor(f"{prefix}doctor").user_id]
        first = _entries(own)
        assert f"prioritet {case.triage_priority}" in first["Symtombedömning"]
        assert "Symtombedömning" not in _entries(colleague)  # documented once, with the anamnesis
        for draft in (own, colleague):
            images = _entries(draft)["Bilder"]
            assert "2 bilder i ärendet" in images and archive in images
            assert "2 bilder i ärendet" in draft.text
