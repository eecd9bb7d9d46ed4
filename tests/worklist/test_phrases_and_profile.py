"""Personal phrase templates (OG-8.2, HA-tone) and the profile's title (OG-4-b)."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.people.models import User
from app.phrases.models import PhraseLevel, PhraseStatus, PhraseTemplate
from tests.worklist.conftest import refusals

GOOD_TEXT = "Hej {patient_first_name}. Jag har läst ditt meddelande och återkommer under dagen."


def _personal(world, user_key: str = "nurse") -> list[PhraseTemplate]:
    world.session.expire_all()
    user, _unit = world.staff[user_key]
    templates = world.session.scalars(
        select(PhraseTemplate)
        .where(PhraseTemplate.owner_user_id == user.id, PhraseTemplate.level == PhraseLevel.PERSONAL)
        .order_by(PhraseTemplate.id)
    ).all()
    world.session.commit()
    return templates


def test_OG_8_2_personal_templates_are_marked_not_recommended_and_shared_ones_are_read_only(world, pages):
    html = pages.sign_in("nurse").text("/phrases")
    assert "Inte rekommenderat:" in html and "Du har inga personliga frasmallar." in html
    assert (
        "Enhetens och regionens frasmallar" in html and "Ärendet är mottaget" in html
    )  # the region's seeded ones
    shared = html.split('id="shared-heading"', 1)[1]
    assert (
        "Ändra" not in shared and "Ta bort" not in shared
    )  # published by the Lokal systemadministratör, not here
    response = pages.post(
        "/phrases/new", {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT}
    )
    assert response.status_code == 302
    [template] = _personal(world)
    assert template.status is PhraseStatus.PUBLISHED and template.text == GOOD_TEXT
    page = pages.text("/phrases")
    assert (
        "Frasmallen Min hälsning är sparad." in page
        and "Min hälsning" in page.split('id="shared-heading"')[0]
    )


def test_OG_8_2_a_personal_template_is_revised_as_a_new_version_and_retired_by_its_owner_only(world, pages):
    pages.sign_in("nurse").post(
        "/phrases/new", {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT}
    )
    [first] = _personal(world)
    form = pages.text(f"/phrases/{first.id}/edit")
    assert "Min hälsning" in form and "{patient_first_name}. Jag har läst" in form
    assert pages.sign_in("nurse2").get(f"/phrases/{first.id}/edit").status_code == 403  # a colleague's own
    assert pages.post(f"/phrases/{first.id}/retire").status_code == 403
    pages.sign_in("nurse").post(
        f"/phrases/{first.id}/edit",
        {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT + " Vänliga hälsningar."},
    )
    old, new = _personal(world)
    assert (
        old.status is PhraseStatus.RETIRED
        and new.status is PhraseStatus.PUBLISHED
        and new.text.endswith("Vänliga hälsningar.")
    )
    assert pages.post(f"/phrases/{new.id}/retire").status_code == 302
    assert [t.status for t in _personal(world)] == [PhraseStatus.RETIRED, PhraseStatus.RETIRED]
    assert "Du har inga personliga frasmallar." in pages.text("/phrases")


def test_HA_tone_capitals_exclamation_marks_and_abbreviations_are_pointed_out_before_saving(world, pages):
    """HA-tone: the hints come first with the text kept; "Spara ändå" saves it as written, and the list keeps the hints."""
    text = "Hej! Ring OBS t.ex. vårdcentralen i morgon."
    pages.sign_in("nurse")
    hinted = pages.post("/phrases/new", {"purpose": "first_message", "title": "Snabbt", "text": text})
    page = hinted.get_data(as_text=True)
    assert hinted.status_code == 200 and "Tänk på tonen" in page and text in page
    assert "Utropstecken" in page and "Ord med bara versaler: OBS" in page and "Förkortning: t.ex." in page
    assert _personal(world) == []
    saved = pages.post(
        "/phrases/new", {"purpose": "first_message", "title": "Snabbt", "text": text, "accept_tone": "1"}
    )
    assert saved.status_code == 302 and [t.text for t in _personal(world)] == [text]
    assert "Utropstecken" in pages.text("/phrases")


def test_a_refused_template_keeps_what_was_typed_and_ties_each_error_to_its_field(world, pages):
    pages.sign_in("nurse")
    response = pages.post("/phrases/new", {"purpose": "", "title": "", "text": "Hej {okand}"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'role="alert"' in page
    assert 'href="#ph-purpose"' in page and 'href="#ph-title"' in page and 'aria-invalid="true"' in page
    assert "Hej {okand}" in page
    placeholder = pages.post("/phrases/new", {"purpose": "closing", "title": "Avslut", "text": "Hej {okand}"})
    assert placeholder.status_code == 422 and "Platshållaren {okand} finns inte." in placeholder.get_data(
        as_text=True
    )


def test_OG_4_b_the_title_can_be_changed_but_not_the_name(world, pages):
    """OG-4-b: the name comes from the HR/identity system; the user edits the displayed title only (audited)."""
    user, _unit = world.staff["nurse"]
    page = pages.sign_in("nurse").text("/profile")
    assert "Nurse OG" in page and "kan inte ändras här" in page and 'name="given_name"' not in page
    response = pages.post(
        "/profile", {"title": "Distriktssköterska", "given_name": "Hacker", "family_name": "Someone"}
    )
    assert response.status_code == 302
    world.session.expire_all()
    changed = world.session.get(User, user.id)
    assert (changed.title, changed.given_name, changed.family_name) == ("Distriktssköterska", "Nurse", "OG")
    event = world.session.scalar(select(AuditEvent).where(AuditEvent.action == "user:title_changed"))
    assert event.details == {"previous": "Sjuksköterska", "title": "Distriktssköterska"}
    world.session.commit()
    assert "Titeln är sparad." in pages.text("/profile")


def test_a_too_long_title_is_refused_and_kept_in_the_field(world, pages):
    long = "x" * 130
    response = pages.sign_in("nurse").post("/profile", {"title": long})
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 422
        and f'value="{long}"' in page
        and "högst 120 tecken" in page
        and 'aria-invalid="true"' in page
    )


def test_OG_8_2_a_colleagues_personal_template_is_refused_with_403_and_the_attempt_is_audited(world, pages):
    """A personal template is its owner's alone: opening or retiring a colleague's is 403, each attempt audited."""
    pages.sign_in("nurse").post(
        "/phrases/new", {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT}
    )
    [template] = _personal(world)
    assert refusals(world.session) == []
    pages.sign_in("nurse2")
    assert pages.get(f"/phrases/{template.id}/edit").status_code == 403
    assert pages.post(f"/phrases/{template.id}/retire").status_code == 403
    colleague, _unit = world.staff["nurse2"]
    assert refusals(world.session) == [
        (colleague.id, "phrase_template", str(template.id), f"/phrases/{template.id}/edit"),
        (colleague.id, "phrase_template", str(template.id), f"/phrases/{template.id}/retire"),
    ]
    [still] = _personal(world)
    assert still.status is PhraseStatus.PUBLISHED


def test_a_personal_template_changed_in_another_tab_answers_409_keeps_the_typed_text_and_makes_no_copy(
    world, pages
):
    """Concurrent change: a revision or removal from a stale form is a 409 conflict that says so, keeps what
    was typed, and never publishes a second version beside the first tab's."""
    pages.sign_in("nurse").post(
        "/phrases/new", {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT}
    )
    [first] = _personal(world)
    first_tab = {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT + " Hälsningar."}
    assert pages.post(f"/phrases/{first.id}/edit", first_tab).status_code == 302
    stale = {"purpose": "first_message", "title": "Min hälsning", "text": GOOD_TEXT + " Med vänlig hälsning"}
    response = pages.post(f"/phrases/{first.id}/edit", stale)
    page = response.get_data(as_text=True)
    assert (
        response.status_code == 409
        and "sedan du öppnade den" in page
        and "Med vänlig hälsning</textarea>" in page
    )
    assert [t.status for t in _personal(world)] == [PhraseStatus.RETIRED, PhraseStatus.PUBLISHED]
    removed_again = pages.post(f"/phrases/{first.id}/retire")
    assert removed_again.status_code == 409 and 'role="alert"' in removed_again.get_data(as_text=True)
    assert [t.status for t in _personal(world)] == [PhraseStatus.RETIRED, PhraseStatus.PUBLISHED]
