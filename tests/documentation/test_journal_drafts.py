"""Journal-note drafts in each region's EHR template (OG-11-b, HA-doc-b), who documents what (HA-doc-a),
returned forms (HA-forms) and the lists of what is still undocumented (OG-11-e)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.documentation import service as documentation
from app.documentation.journal_templates import FormSummary
from app.documentation.models import DraftReason, FormHandling
from app.errors import Conflict, Forbidden, GuardRefused, ValidationFailed
from app.people.roles import Role
from tests import factories as f

ROUTINE = Actor.system("routine")


@pytest.fixture
def og(session, clock):
    f.region(session, "OG", "Region Östergötland", journal_template="og_rgs_webb")
    unit = f.unit(session, "Vårdcentralen Ekdalen", region_code="OG")
    nurse, doctor = f.user(session, unit, Role.NURSE), f.user(session, unit, Role.DOCTOR)
    case = f.case(session, unit, f.patient(session), reason="Halsont")
    session.commit()
    return unit, case, nurse, doctor


@pytest.fixture
def ha(session, clock):
    f.region(session, "HA", "Region Halland", journal_template="ha_besoksanteckning")
    unit = f.unit(session, "Vårdcentralen Havsbris", region_code="HA")
    nurse, doctor = f.user(session, unit, Role.NURSE), f.user(session, unit, Role.DOCTOR)
    case = f.case(session, unit, f.patient(session, "199001012384", given="Hanna"), reason="Hosta")
    session.commit()
    return unit, case, nurse, doctor


def _entries(draft) -> dict[str, str]:
    return {entry["keyword"]: entry["text"] for entry in draft.fields["entries"]}


def test_OG_11_b_and_HA_doc_b_each_region_gets_its_own_journal_template(session, og, ha):
    """Side by side: Östergötland's "Rådgivning RGS webb" note and Halland's "Besöksanteckning"."""
    _og_unit, og_case, og_nurse, _ = og
    _ha_unit, ha_case, ha_nurse, _ = ha
    og_draft = documentation.create_draft(
        session,
        case=og_case,
        reason=DraftReason.CLOSED,
        for_user_id=og_nurse.id,
        assessment="Virusinfektion.",
        actor=ROUTINE,
    )
    ha_draft = documentation.create_draft(
        session,
        case=ha_case,
        reason=DraftReason.CLOSED,
        for_user_id=ha_nurse.id,
        assessment="Förkylning.",
        actor=ROUTINE,
    )

    # OG-11-b: new care contact Internetkontakt; Kontaktorsak, Kontaktsätt, Aktuellt hälsoproblem.
    assert og_draft.template == "og_rgs_webb"
    assert (
        og_draft.fields["care_contact"] == "Internetkontakt"
        and og_draft.fields["template"] == "Rådgivning RGS webb"
    )
    assert "Rådgivning RGS webb (alternativt Rådgivning)" in og_draft.text
    entries = _entries(og_draft)
    assert entries["Kontaktorsak"] == "Halsont"
    assert entries["Kontaktsätt"] == "Ärende via e-tjänst"
    assert entries["Aktuellt hälsoproblem"] == og_case.anamnesis
    assert entries["Bedömning"] == "Virusinfektion."
    hints = {e["keyword"]: e["hint"] for e in og_draft.fields["entries"]}
    assert "Bedöm om all text" in hints["Aktuellt hälsoproblem"]
    assert "Anamnes - Aktuellt" not in entries

    # HA-doc-b: Besöksanteckning, Distansbesök - skriftlig; Anamnes - Aktuellt and Bedömning.
    assert ha_draft.template == "ha_besoksanteckning"
    assert (
        ha_draft.fields["care_contact"] == "Distansbesök - skriftlig"
        and ha_draft.fields["template"] == "Besöksanteckning"
    )
    entries = _entries(ha_draft)
    assert entries["Anamnes - Aktuellt"] == ha_case.anamnesis
    assert entries["Bedömning"] == "Förkylning."
    assert "Kontaktorsak" not in entries and "Aktuellt hälsoproblem" not in entries
    assert ha_draft.text.startswith("Vårdkontakt: Distansbesök - skriftlig")
    assert "Anamnes - Aktuellt\n" + ha_case.anamnesis in ha_draft.text


def test_HA_doc_b_a_video_visit_is_a_distansbesok_video(session, ha):
    _unit, case, nurse, _ = ha
    draft = documentation.create_draft(
        session, case=case, reason=DraftReason.ASSESSMENT, for_user_id=nurse.id, video=True, actor=ROUTINE
    )
    assert draft.fields["care_contact"] == "Distansbesök - video"


def test_OG_11_e_unanswered_closing_and_handover_drafts_say_what_happened(session, og):
    _unit, case, nurse, doctor = og
    closed = documentation.create_draft(
        session, case=case, reason=DraftReason.CLOSED_UNANSWERED, for_user_id=nurse.id, actor=ROUTINE
    )
    assert "inte svarat trots kontaktförsök" in _entries(closed)["Åtgärd"]
    handover = documentation.create_draft(
        session, case=case, reason=DraftReason.HANDOVER, for_user_id=doctor.id, actor=ROUTINE
    )
    assert "överlämnat" in _entries(handover)["Åtgärd"]


def test_HA_doc_a_first_assessor_documents_the_anamnesis_later_ones_their_own_assessment(session, ha):
    """The first assessor documents anamnesis and assessment; everyone documents their own assessment."""
    _unit, case, nurse, doctor = ha
    first = documentation.create_draft(
        session,
        case=case,
        reason=DraftReason.HANDOVER,
        for_user_id=nurse.id,
        assessment="Behöver läkarbedömning.",
        actor=ROUTINE,
    )
    second = documentation.create_draft(
        session,
        case=case,
        reason=DraftReason.ASSESSMENT,
        for_user_id=doctor.id,
        assessment="Bihåleinflammation.",
        actor=ROUTINE,
    )
    assert first.includes_anamnesis and "Anamnes - Aktuellt" in _entries(first)
    assert not second.includes_anamnesis and "Anamnes - Aktuellt" not in _entries(second)
    assert _entries(second)["Bedömning"] == "Bihåleinflammation."
    hint = next(e["hint"] for e in second.fields["entries"] if e["keyword"] == "Bedömning")
    assert "första bedömningen" in hint


def test_HA_doc_a_a_form_note_does_not_take_the_anamnesis_from_the_first_assessor(session, ha):
    _unit, case, nurse, _ = ha
    form = FormSummary("Hälsodeklaration", FormHandling.SUMMARISED, summary="Inga riskfaktorer.")
    form_draft = documentation.create_draft(
        session, case=case, reason=DraftReason.FORM, for_user_id=nurse.id, form_summary=form, actor=ROUTINE
    )
    assessment = documentation.create_draft(
        session, case=case, reason=DraftReason.ASSESSMENT, for_user_id=nurse.id, actor=ROUTINE
    )
    assert not form_draft.includes_anamnesis and assessment.includes_anamnesis


def test_HA_forms_a_copied_form_carries_its_questions_and_answers(session, ha):
    _unit, case, nurse, _ = ha
    form = FormSummary(
        "Hosta", FormHandling.COPIED, answers=[("Hur länge har du hostat?", "En vecka"), ("Feber?", "Nej")]
    )
    draft = documentation.create_draft(
        session, case=case, reason=DraftReason.FORM, for_user_id=nurse.id, form_summary=form, actor=ROUTINE
    )
    assert draft.form_handling is FormHandling.COPIED and draft.fields["form"] == {
        "name": "Hosta",
        "handling": "copied",
    }
    assert "Hur länge har du hostat?: En vecka\nFeber?: Nej" in draft.text


def test_HA_forms_a_summarised_form_stays_in_the_platform_with_a_note_of_what_it_showed(session, og):
    _unit, case, nurse, _ = og
    form = FormSummary("Hälsodeklaration", "summarised", summary="Inga riskfaktorer.")
    draft = documentation.create_draft(
        session, case=case, reason=DraftReason.FORM, for_user_id=nurse.id, form_summary=form, actor=ROUTINE
    )
    assert draft.form_handling is FormHandling.SUMMARISED
    assert (
        "har fyllt i formuläret Hälsodeklaration" in draft.text and "finns kvar i plattformen" in draft.text
    )
    assert "Det visade: Inga riskfaktorer." in draft.text


def test_HA_forms_each_choice_needs_its_content(session, og):
    _unit, case, nurse, _ = og
    with pytest.raises(ValidationFailed, match="anteckning om vad det visade"):
        documentation.create_draft(
            session,
            case=case,
            reason=DraftReason.FORM,
            for_user_id=nurse.id,
            form_summary=FormSummary("X", FormHandling.SUMMARISED),
            actor=ROUTINE,
        )
    with pytest.raises(ValidationFailed, match="frågor och svar"):
        documentation.create_draft(
            session,
            case=case,
            reason=DraftReason.FORM,
            for_user_id=nurse.id,
            form_summary=FormSummary("X", FormHandling.COPIED),
            actor=ROUTINE,
        )
    with pytest.raises(ValidationFailed, match="behöver formuläret"):
        documentation.create_draft(
            session, case=case, reason=DraftReason.FORM, for_user_id=nurse.id, actor=ROUTINE
        )


def test_HA_doc_a_undocumented_drafts_are_listed_until_their_clinician_marks_them(session, og):
    """OG-11-e / HA-doc-a: the unit's list of notes still owed, by person, until marked documented."""
    unit, case, nurse, doctor = og
    other_case = f.case(session, unit, case.patient, reason="Utslag")
    first = documentation.create_draft(
        session, case=case, reason=DraftReason.CLOSED_UNANSWERED, for_user_id=nurse.id, actor=ROUTINE
    )
    second = documentation.create_draft(
        session, case=other_case, reason=DraftReason.HANDOVER, for_user_id=doctor.id, actor=ROUTINE
    )
    assert [d.id for d in documentation.undocumented(session, unit_id=unit.id)] == [first.id, second.id]
    assert [d.id for d in documentation.undocumented(session, unit_id=unit.id, for_user_id=doctor.id)] == [
        second.id
    ]

    nurse_actor = f.signed_in(session, nurse, unit)
    documentation.mark_documented(session, draft_id=first.id, actor=nurse_actor)
    assert first.documented_by_user_id == nurse.id and first.documented_at is not None
    assert [d.id for d in documentation.undocumented(session, unit_id=unit.id)] == [second.id]
    with pytest.raises(Conflict):
        documentation.mark_documented(session, draft_id=first.id, actor=nurse_actor)


def test_HA_doc_a_only_the_clinician_or_the_head_of_unit_with_a_reason_marks_a_draft_documented(session, og):
    unit, case, nurse, doctor = og
    head = f.user(session, unit, Role.HEAD_OF_UNIT)
    draft = documentation.create_draft(
        session, case=case, reason=DraftReason.HANDOVER, for_user_id=nurse.id, actor=ROUTINE
    )
    with pytest.raises(Forbidden):
        documentation.mark_documented(session, draft_id=draft.id, actor=f.signed_in(session, doctor, unit))
    head_actor = f.signed_in(session, head, unit)
    with pytest.raises(ValidationFailed):
        documentation.mark_documented(session, draft_id=draft.id, actor=head_actor)
    documentation.mark_documented(
        session,
        draft_id=draft.id,
        actor=head_actor,
        note="Dokumenterat i Cosmic av sjuksköterskan, kontrollerat.",
    )
    assert draft.documented_by_user_id == head.id and draft.documented_note.startswith("Dokumenterat")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "journal_draft:documented")).one()
    assert event.details["on_behalf_of"] == nurse.id


def test_HA_behalf_a_case_sought_for_someone_else_is_not_documented(session, ha):
    _unit, case, nurse, _ = ha
    case.anamnesis = f"{case.anamnesis}\nOBS FEL PATIENT"
    with pytest.raises(GuardRefused) as refused:
        documentation.create_draft(
            session, case=case, reason=DraftReason.CLOSED, for_user_id=nurse.id, actor=ROUTINE
        )
    assert refused.value.rule == "HA-behalf"


def test_a_region_without_a_journal_template_policy_is_refused_clearly(session, clock):
    unit = f.unit(session, region_code="XX")
    nurse = f.user(session, unit, Role.NURSE)
    case = f.case(session, unit, f.patient(session))
    with pytest.raises(GuardRefused, match="journal template"):
        documentation.create_draft(
            session, case=case, reason=DraftReason.CLOSED, for_user_id=nurse.id, actor=ROUTINE
        )


def test_drafts_are_prepared_while_acting_for_the_cases_unit_and_audited(session, og):
    unit, case, nurse, _ = og
    elsewhere = f.unit(session, "Rehab Linnea")
    stranger = f.user(session, elsewhere, Role.NURSE)
    with pytest.raises(Forbidden):
        documentation.create_draft(
            session,
            case=case,
            reason=DraftReason.CLOSED,
            for_user_id=stranger.id,
            actor=f.signed_in(session, stranger, elsewhere),
        )
    draft = documentation.create_draft(
        session,
        case=case,
        reason=DraftReason.CLOSED,
        for_user_id=nurse.id,
        actor=f.signed_in(session, nurse, unit),
    )
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "journal_draft:created")).one()
    assert event.subject_id == str(draft.id) and event.details["reason"] == "closed"
