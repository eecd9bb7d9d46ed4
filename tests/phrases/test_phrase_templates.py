"""Phrase templates at three levels (OG-8.2): who writes and publishes them, what is inserted and sent."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import Conflict, Forbidden, GuardRefused, ValidationFailed
from app.people.roles import Role
from app.phrases import service as phrases
from app.phrases.models import PhraseLevel, PhraseStatus
from tests import factories as f


@pytest.fixture
def world(session, clock):
    unit = f.unit(session, "Vårdcentralen Ekdalen")
    other = f.unit(session, "Vårdcentralen Tallbacken")
    people = {
        "nurse": f.user(session, unit, Role.NURSE),
        "colleague": f.user(session, unit, Role.NURSE),
        "sysadmin": f.user(session, unit, Role.LOCAL_SYSADMIN),
        "head": f.user(session, unit, Role.HEAD_OF_UNIT),
        "owner": f.user(session, unit, Role.PROCESS_OWNER),
        "other_sysadmin": f.user(session, other, Role.LOCAL_SYSADMIN),
    }
    actors = {
        name: f.signed_in(session, user, other if name == "other_sysadmin" else unit)
        for name, user in people.items()
    }
    session.commit()
    return unit, other, people, actors


def test_OG_8_2_nurse_cannot_publish_a_regional_template(session, world):
    """Regional templates are published by the Lokal systemadministratör, never by a clinician."""
    _unit, _other, _people, actors = world
    with pytest.raises(Forbidden):
        phrases.create_template(
            session,
            actor=actors["nurse"],
            level=PhraseLevel.REGIONAL,
            purpose="closing",
            title="Avslut",
            text="Tack för kontakten.",
        )
    draft = phrases.create_template(
        session,
        actor=actors["owner"],
        level=PhraseLevel.REGIONAL,
        purpose="closing",
        title="Avslut",
        text="Tack för kontakten.",
    )
    assert draft.status is PhraseStatus.DRAFT
    with pytest.raises(Forbidden, match="Lokal systemadministratör"):
        phrases.publish(session, actor=actors["nurse"], template_id=draft.id)
    with pytest.raises(Forbidden):
        phrases.publish(session, actor=actors["owner"], template_id=draft.id)
    phrases.publish(session, actor=actors["sysadmin"], template_id=draft.id)
    assert draft.status is PhraseStatus.PUBLISHED and draft.published_by_user_id == actors["sysadmin"].user_id


def test_OG_8_2_local_template_needs_the_deciding_head_of_unit(session, world):
    """A local template is decided by the head of unit (Verksamhetschef) and published by the sysadmin."""
    unit, _other, people, actors = world
    draft = phrases.create_template(
        session,
        actor=actors["sysadmin"],
        level=PhraseLevel.LOCAL,
        purpose="first_message",
        title="Hälsning",
        text="Hej {patient_first_name}.",
    )
    assert draft.unit_id == unit.id and draft.decided_by_user_id is None
    with pytest.raises(GuardRefused, match="decided by the head of unit"):
        phrases.publish(session, actor=actors["sysadmin"], template_id=draft.id)
    with pytest.raises(GuardRefused, match="not head of unit"):
        phrases.publish(
            session, actor=actors["sysadmin"], template_id=draft.id, decided_by_user_id=people["nurse"].id
        )
    phrases.publish(
        session, actor=actors["sysadmin"], template_id=draft.id, decided_by_user_id=people["head"].id
    )
    assert draft.status is PhraseStatus.PUBLISHED and draft.decided_by_user_id == people["head"].id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "phrase_template:published")).one()
    assert event.details["decided_by_user_id"] == people["head"].id and event.subject_id == str(draft.id)


def test_OG_8_2_head_of_unit_drafts_and_decides_but_only_the_sysadmin_publishes(session, world):
    _unit, _other, people, actors = world
    draft = phrases.create_template(
        session,
        actor=actors["head"],
        level=PhraseLevel.LOCAL,
        purpose="closing",
        title="Avslut",
        text="Tack.",
    )
    assert draft.decided_by_user_id == people["head"].id
    with pytest.raises(Forbidden):
        phrases.publish(session, actor=actors["head"], template_id=draft.id)
    phrases.publish(session, actor=actors["sysadmin"], template_id=draft.id)
    assert draft.status is PhraseStatus.PUBLISHED


def test_OG_8_2_sysadmin_of_another_unit_cannot_publish_a_local_template(session, world):
    _unit, _other, people, actors = world
    draft = phrases.create_template(
        session,
        actor=actors["head"],
        level=PhraseLevel.LOCAL,
        purpose="closing",
        title="Avslut",
        text="Tack.",
    )
    with pytest.raises(Forbidden, match="its own unit"):
        phrases.publish(session, actor=actors["other_sysadmin"], template_id=draft.id)


def test_OG_8_2_personal_templates_are_the_owners_own_and_not_recommended(session, world):
    """Personal templates are allowed but not recommended: usable at once, flagged, seen by the owner only."""
    _unit, _other, _people, actors = world
    regional = phrases.create_template(
        session,
        actor=actors["owner"],
        level=PhraseLevel.REGIONAL,
        purpose="closing",
        title="Regionens avslut",
        text="Tack.",
    )
    phrases.publish(session, actor=actors["sysadmin"], template_id=regional.id)
    local = phrases.create_template(
        session,
        actor=actors["head"],
        level=PhraseLevel.LOCAL,
        purpose="closing",
        title="Vårt avslut",
        text="Tack från oss.",
    )
    phrases.publish(session, actor=actors["sysadmin"], template_id=local.id)
    mine = phrases.create_template(
        session,
        actor=actors["nurse"],
        level=PhraseLevel.PERSONAL,
        purpose="closing",
        title="Mitt avslut",
        text="Tack, ha det bra.",
    )
    assert mine.status is PhraseStatus.PUBLISHED and mine.owner_user_id == actors["nurse"].user_id

    offered = phrases.templates_for(session, actor=actors["nurse"], purpose="closing")
    assert [(t.level, t.not_recommended) for t in offered] == [
        (PhraseLevel.LOCAL, False),
        (PhraseLevel.REGIONAL, False),
        (PhraseLevel.PERSONAL, True),
    ]
    assert mine.id not in {t.id for t in phrases.templates_for(session, actor=actors["colleague"])}
    with pytest.raises(Forbidden):
        phrases.retire(session, actor=actors["colleague"], template_id=mine.id)
    phrases.retire(session, actor=actors["nurse"], template_id=mine.id)
    assert mine.id not in {t.id for t in phrases.templates_for(session, actor=actors["nurse"])}


def test_OG_8_2_routine_sends_the_local_text_else_the_regional_one(session, world):
    unit, other, _people, actors = world
    with pytest.raises(phrases.MissingPhraseTemplate, match="a local system administrator publishes one"):
        phrases.text_for(session, unit_id=unit.id, purpose="closing")
    regional = phrases.create_template(
        session,
        actor=actors["owner"],
        level=PhraseLevel.REGIONAL,
        purpose="closing",
        title="Avslut",
        text="Regionens text.",
    )
    phrases.publish(session, actor=actors["sysadmin"], template_id=regional.id)
    local = phrases.create_template(
        session,
        actor=actors["head"],
        level=PhraseLevel.LOCAL,
        purpose="closing",
        title="Avslut",
        text="Enhetens text.",
    )
    phrases.publish(session, actor=actors["sysadmin"], template_id=local.id)
    assert phrases.text_for(session, unit_id=unit.id, purpose="closing") == "Enhetens text."
    assert phrases.text_for(session, unit_id=other.id, purpose="closing") == "Regionens text."
    phrases.retire(session, actor=actors["sysadmin"], template_id=local.id)
    assert phrases.text_for(session, unit_id=unit.id, purpose="closing") == "Regionens text."


def test_a_personal_text_is_sent_only_by_its_owner(session, world):
    unit, _other, _people, actors = world
    mine = phrases.create_template(
        session,
        actor=actors["nurse"],
        level=PhraseLevel.PERSONAL,
        purpose="closing",
        title="Mitt",
        text="Min text.",
    )
    assert (
        phrases.text_for(
            session, unit_id=unit.id, purpose="closing", personal_template_id=mine.id, actor=actors["nurse"]
        )
        == "Min text."
    )
    with pytest.raises(Forbidden):
        phrases.text_for(
            session,
            unit_id=unit.id,
            purpose="closing",
            personal_template_id=mine.id,
            actor=actors["colleague"],
        )
    with pytest.raises(Conflict):
        phrases.text_for(
            session,
            unit_id=unit.id,
            purpose="first_message",
            personal_template_id=mine.id,
            actor=actors["nurse"],
        )


def test_publishing_a_new_regional_text_supersedes_the_old_one(session, world):
    """One published text per purpose and region: the routine's choice is never arbitrary."""
    unit, _other, _people, actors = world
    first = phrases.create_template(
        session,
        actor=actors["owner"],
        level=PhraseLevel.REGIONAL,
        purpose="high_load",
        title="Hög belastning",
        text="Första.",
    )
    second = phrases.create_template(
        session,
        actor=actors["owner"],
        level=PhraseLevel.REGIONAL,
        purpose="high_load",
        title="Hög belastning",
        text="Andra.",
    )
    phrases.publish(session, actor=actors["sysadmin"], template_id=second.id)
    phrases.publish(session, actor=actors["sysadmin"], template_id=first.id)
    session.commit()
    assert (first.status, second.status) == (PhraseStatus.PUBLISHED, PhraseStatus.RETIRED)
    assert phrases.text_for(session, unit_id=unit.id, purpose="high_load") == "Första."
    with pytest.raises(Conflict):
        phrases.publish(session, actor=actors["sysadmin"], template_id=first.id)
    actions = session.scalars(
        select(AuditEvent.action).where(AuditEvent.action.like("phrase_template:%"))
    ).all()
    assert actions.count("phrase_template:superseded") == 1 and actions.count("phrase_template:created") == 2


def test_templates_with_unknown_placeholders_or_purposes_are_refused(session, world):
    _unit, _other, _people, actors = world
    with pytest.raises(ValidationFailed, match="unknown placeholder"):
        phrases.create_template(
            session,
            actor=actors["nurse"],
            level=PhraseLevel.PERSONAL,
            purpose="closing",
            title="Fel",
            text="Hej {patient_name}.",
        )
    with pytest.raises(ValidationFailed) as refused:
        phrases.create_template(
            session,
            actor=actors["nurse"],
            level=PhraseLevel.PERSONAL,
            purpose="goodbye",
            title="Fel",
            text="Hej.",
        )
    assert "purpose" in refused.value.field_errors
