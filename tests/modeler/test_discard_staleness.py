"""Discarding a draft names the bundle the owner saw: a colleague's save a moment earlier is not lost."""

from __future__ import annotations

import re

import pytest

from app.errors import Conflict, ValidationFailed
from app.process_models.drafts import current_draft, discard_draft, save_draft
from tests.modeler.conftest import FORMS_DIR, SIMPLE, entry_text

BASE = "/process-models/simple_case"


def _colleague_saves(session, engine, owners, draft, text: str) -> str:
    saved, _ = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        forms_dir=FORMS_DIR,
        bpmn=SIMPLE.replace("Ta emot ärendet", text),
        expected_hash=draft.bundle_hash,
    )
    session.commit()
    return saved.bundle_hash


def test_discarding_a_draft_saved_since_it_was_shown_is_a_conflict(session, engine, owners, draft):
    shown = draft.bundle_hash
    _colleague_saves(session, engine, owners, draft, "Kollegans ändring")
    with pytest.raises(Conflict):
        discard_draft(
            session, actor=owners.owner, process_id="simple_case", number=draft.number, expected_hash=shown
        )
    session.rollback()
    kept = current_draft(session, process_id="simple_case")
    assert kept is not None and 'name="Kollegans ändring"' in entry_text(session, kept)


def test_discarding_without_the_shown_bundle_is_refused(session, owners, draft):
    with pytest.raises(ValidationFailed):
        discard_draft(
            session, actor=owners.owner, process_id="simple_case", number=draft.number, expected_hash=None
        )
    session.rollback()
    assert current_draft(session, process_id="simple_case") is not None


def test_the_model_page_sends_the_shown_bundle_and_a_stale_discard_is_a_409(
    browser, session, engine, owners, draft
):
    page = browser.as_(owners.owner).get(BASE).get_data(as_text=True)
    form = page[page.index(f'action="{BASE}/versions/{draft.number}/discard"') :]
    shown = re.search(r'name="expected_hash" value="([^"]+)"', form[: form.index("</form>")]).group(1)
    assert shown == draft.bundle_hash
    _colleague_saves(session, engine, owners, draft, "Kollegans ändring")

    response = browser.post(f"{BASE}/versions/{draft.number}/discard", {"expected_hash": shown})
    assert response.status_code == 409
    assert "sedan du öppnade det" in response.get_data(as_text=True)
    session.expire_all()
    assert current_draft(session, process_id="simple_case") is not None

    current = browser.get(BASE).get_data(as_text=True)
    fresh = re.search(r'name="expected_hash" value="([^"]+)"', current).group(1)
    response = browser.post(f"{BASE}/versions/{draft.number}/discard", {"expected_hash": fresh})
    assert response.status_code == 302
    session.expire_all()
    assert current_draft(session, process_id="simple_case") is None
