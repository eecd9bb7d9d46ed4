"""Documentation support: the journal-note draft in the region's template, copied and ticked off, and
the list of closed or handed-over cases whose note is still owed (OG-11-e, HA-doc-a)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.cases import chat, handling
from app.cases.models import Consent
from app.documentation.models import JournalDraft
from app.people.roles import Role
from tests.casework.conftest import access_log, read, started
from tests.worklist.conftest import join_unit


def _closed_in_dialogue(world, patient="adult", unit="og", who="nurse"):
    case = world.submit(patient, unit=unit)
    started(world, case, who=who)
    chat.patient_write(
        world.session,
        world.engine,
        actor=world.resident(patient),
        case_id=case.id,
        body="Tack, nu vet jag vad jag ska göra.",
    )
    handling.close(
        world.session,
        world.engine,
        actor=world.actor(who),
        case_id=case.id,
        concluded_in_dialogue=True,
        confirmed=True,
    )
    world.session.commit()
    return case


def test_OG_11_b_the_draft_is_in_the_regions_template_selectable_with_a_copy_button_for_javascript(
    world, staff
):
    case = _closed_in_dialogue(world)
    html = staff("nurse").page(case.id)
    assert "Rådgivning RGS webb" in html  # Östergötland's template
    assert '<pre class="draft-text" id="draft-' in html  # plain text: selectable without JavaScript
    assert re.search(
        r'<button type="button" class="secondary" data-copy-target="draft-\d+-text"[^>]*hidden>Kopiera texten</button>',
        html,
    )
    halland = _closed_in_dialogue(world, patient="other", unit="ha", who="ha_nurse")
    assert "Besöksanteckning" in staff("ha_nurse").page(halland.id)


def test_OG_11_e_HA_doc_a_a_closed_case_is_listed_until_its_clinician_marks_it_documented(world, staff):
    case = _closed_in_dialogue(world)
    nurse = staff("nurse")
    listing = nurse.get("/cases/undocumented").get_data(as_text=True)
    assert (
        "1 anteckning att dokumentera" in listing
        and "Anna Andersson" in listing
        and f'href="/cases/{case.id}#docs"' in listing
    )
    assert access_log(world, "journal:undocumented_list") == [(nurse.user.id, None, [case.patient_id])]
    assert "Anna Andersson" not in staff("nurse2").get("/cases/undocumented").get_data(
        as_text=True
    )  # not hers
    assert "Anna Andersson" in staff("nurse2").get("/cases/undocumented?scope=unit").get_data(as_text=True)
    draft_id = read(world, select(JournalDraft.id).where(JournalDraft.case_id == case.id))
    # HA-doc-a: one's own assessment is one's own to tick off; a colleague is refused, beside the row.
    refused = staff("nurse2").post(f"/cases/undocumented/{draft_id}", {"scope": "unit"})
    assert refused.status_code == 403 and "Bara den som anteckningen gäller" in refused.get_data(as_text=True)
    assert nurse.post(f"/cases/{case.id}/drafts/{draft_id}/documented").status_code == 302
    assert "Journalanteckningen är markerad som dokumenterad" in nurse.page(case.id)
    assert "Inget att dokumentera." in nurse.get("/cases/undocumented").get_data(as_text=True)


def test_OG_11_e_marking_from_the_list_and_the_head_of_unit_settles_it_with_a_note(world, staff):
    case = _closed_in_dialogue(world)
    draft_id = read(world, select(JournalDraft.id).where(JournalDraft.case_id == case.id))
    head = staff("head")
    listing = head.get("/cases/undocumented?scope=unit").get_data(as_text=True)
    assert "Hur dokumentationen har ordnats" in listing
    refused = head.post(f"/cases/undocumented/{draft_id}", {"scope": "unit", "note": ""})
    assert refused.status_code == 422 and "Skriv hur dokumentationen har ordnats." in refused.get_data(
        as_text=True
    )
    done = head.post(
        f"/cases/undocumented/{draft_id}",
        {"scope": "unit", "note": "Sjuksköterskan är sjukskriven; dokumenterat av mig."},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith("/cases/undocumented?scope=unit")
    assert read(world, select(JournalDraft.documented_note).where(JournalDraft.id == draft_id)).startswith(
        "Sjuksköterskan"
    )


def test_HA_handover_consent_a_handover_owes_a_note_too(world, staff):
    case = world.submit("adult")
    started(world, case)
    handling.hand_over(
        world.session, world.engine, actor=world.actor("nurse"), case_id=case.id, role="Läkare"
    )
    world.session.commit()
    assert "Anna Andersson" not in staff("nurse").get("/cases/undocumented").get_data(
        as_text=True
    )  # consent first
    consent_id = read(world, select(Consent.id).where(Consent.case_id == case.id))
    chat.answer_consent(
        world.session, world.engine, actor=world.resident("adult"), consent_id=consent_id, given=True
    )
    world.session.commit()
    listing = staff("nurse").get("/cases/undocumented").get_data(as_text=True)
    assert "Överlämning" in listing and "Anna Andersson" in listing


@pytest.mark.parametrize("role", [Role.LOCAL_SYSADMIN, Role.PROCESS_OWNER], ids=["sysadmin", "process_owner"])
def test_the_notes_still_owed_are_refused_to_a_role_that_may_not_read_the_units_cases(world, staff, role):
    """Each owed note names its patient and carries the anamnesis: a local system administrator or a
    process owner acting for the unit gets 403 (audited), as on the case page, whatever the scope."""
    case = _closed_in_dialogue(world)
    draft_id = read(world, select(JournalDraft.id).where(JournalDraft.case_id == case.id))
    user = join_unit(world, "outsider", role)
    outsider = staff("outsider")
    for path in ("/cases/undocumented?scope=unit", "/cases/undocumented"):
        response = outsider.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 403, path
        assert "Anna Andersson" not in body and "Ont i halsen" not in body, path
    marked = outsider.post(f"/cases/undocumented/{draft_id}", {"scope": "unit", "note": "Klart."})
    assert marked.status_code == 403 and "Anna Andersson" not in marked.get_data(as_text=True)
    assert read(world, select(JournalDraft.documented_at).where(JournalDraft.id == draft_id)) is None
    assert access_log(world, "journal:undocumented_list") == []
    world.session.expire_all()
    refused = world.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "worklist:refused").order_by(AuditEvent.id)
    ).all()
    assert [(e.actor_user_id, e.details["path"]) for e in refused] == [
        (user.id, "/cases/undocumented"),
        (user.id, "/cases/undocumented"),
        (user.id, f"/cases/undocumented/{draft_id}"),
    ]
    world.session.commit()


@pytest.mark.parametrize("key", ["nurse2", "doctor", "head"])
def test_care_staff_and_the_head_of_unit_still_see_the_units_notes_still_owed(world, staff, key):
    case = _closed_in_dialogue(world)
    listing = staff(key).get("/cases/undocumented?scope=unit")
    assert listing.status_code == 200 and "Anna Andersson" in listing.get_data(as_text=True)
    mine = staff(key).get("/cases/undocumented?scope=mine")
    assert mine.status_code == 200 and "Anna Andersson" not in mine.get_data(as_text=True)  # the nurse's note
    user, _unit = world.staff[key]
    assert (user.id, None, [case.patient_id]) in access_log(world, "journal:undocumented_list")


def test_OG_11_e_the_head_of_unit_reaches_the_units_owed_notes_from_the_header(world, staff):
    """The head of unit settles notes for colleagues who are away: "Att dokumentera" is in her header and
    opens on the unit's list (she owes none of her own); a clinician's opens on their own."""
    _closed_in_dialogue(world)
    head = staff("head").get("/").get_data(as_text=True)
    assert '<a href="/cases/undocumented"' in head
    listing = staff("head").get("/cases/undocumented").get_data(as_text=True)
    assert "Anna Andersson" in listing and "<strong>Hela enheten</strong>" in listing
    assert '<a href="/cases/undocumented" aria-current="page">Att dokumentera</a>' in listing
    assert "<strong>Mina</strong>" in staff("nurse2").get("/cases/undocumented").get_data(as_text=True)
