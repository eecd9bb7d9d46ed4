"""HA-forms: a returned form is documented once: a second documentation is refused, not a second note."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.cases import chat
from app.documentation.models import DraftReason, JournalDraft
from app.errors import Conflict
from tests.casework.conftest import read, started


def _returned_form(world):
    case = world.submit("adult")
    nurse = started(world, case)
    form = chat.send_form(world.session, actor=nurse, case_id=case.id, form_key="demo_mood")
    world.session.commit()
    chat.answer_form(
        world.session,
        actor=world.resident("adult"),
        form_id=form.id,
        answers={"q1": 1, "q2": 2, "q3": 0, "q4": 3},
    )
    world.session.commit()
    return case, nurse, form


def _form_drafts(world, case) -> int:
    return read(
        world,
        select(func.count(JournalDraft.id)).where(
            JournalDraft.case_id == case.id, JournalDraft.reason == DraftReason.FORM
        ),
    )


def test_HA_forms_documenting_a_form_twice_is_refused_and_makes_no_second_journal_note(world):
    case, nurse, form = _returned_form(world)
    chat.document_form(world.session, actor=nurse, form_id=form.id, how="copied")
    world.session.commit()
    with pytest.raises(Conflict) as refused:
        chat.document_form(world.session, actor=nurse, form_id=form.id, how="summarised")
    assert refused.value.details["rule"] == "HA-forms"
    world.session.rollback()
    world.session.expire_all()
    assert form.documentation == "copied"  # not silently overwritten
    assert _form_drafts(world, case) == 1


def test_HA_forms_the_second_post_of_the_documentation_form_gets_a_conflict_page(world, staff):
    case, _nurse, form = _returned_form(world)
    nurse = staff("nurse")
    url = f"/cases/{case.id}/forms/{form.id}/documented"
    assert nurse.post(url, {"how": "summarised"}).status_code == 302
    again = nurse.post(url, {"how": "copied"})
    assert again.status_code == 409
    html = again.get_data(as_text=True)
    assert "Ingenting skrevs över" in html and "Dokumenterat: sparat här" in html  # the first choice stands
    assert _form_drafts(world, case) == 1


def test_HA_forms_the_journal_note_records_what_the_patient_answered_and_the_score(world):
    """Copied, the note said "Känt dig nedstämd eller hopplös: 2" (the answer's code) without the total;
    summarised, a form without a score "showed" only its own name."""
    case, nurse, form = _returned_form(world)
    chat.document_form(world.session, actor=nurse, form_id=form.id, how="copied")
    world.session.commit()
    text = read(
        world,
        select(JournalDraft.text).where(
            JournalDraft.case_id == case.id, JournalDraft.reason == DraftReason.FORM
        ),
    )
    assert "Känt dig nedstämd eller hopplös: Mer än hälften av dagarna" in text
    assert "Poäng: 6" in text and ": 2\n" not in text

    other = world.submit("other")
    started(world, other)
    diary = chat.send_form(world.session, actor=nurse, case_id=other.id, form_key="symptom_diary")
    world.session.commit()
    chat.answer_form(
        world.session,
        actor=world.resident("other"),
        form_id=diary.id,
        answers={"since": "i fredags", "worst": 7},
    )
    world.session.commit()
    chat.document_form(world.session, actor=nurse, form_id=diary.id, how="summarised")
    world.session.commit()
    summary = read(
        world,
        select(JournalDraft.text).where(
            JournalDraft.case_id == other.id, JournalDraft.reason == DraftReason.FORM
        ),
    )
    assert "När började besvären?: i fredags" in summary and "(0–10)?: 7" in summary
