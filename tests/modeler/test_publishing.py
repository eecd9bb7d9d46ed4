"""Publishing: approved by a named manager, with a change note and an effective date; audited; new
instances start on the new version from its effective date while running ones stay on theirs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.errors import Conflict, Forbidden, ValidationFailed
from app.instances import service as instances
from app.people.models import Unit
from app.process_models.drafts import save_draft, start_draft
from app.process_models.models import ProcessVersion, VersionStatus
from app.process_models.overview import model_rows
from app.process_models.publishing import approvers, publish_draft
from app.process_models.service import load_bundle, runnable_version
from tests import factories as f
from tests.modeler.conftest import FORMS_DIR, SIMPLE


def _publish(session, engine, owners, draft, **kw):
    args = {
        "expected_hash": draft.bundle_hash, "approver_user_id": owners.head_id, "change_note": "Kortare namn på mottagningen",
        "effective_from": draft.deployed_at,
    }  # fmt: skip
    args.update(kw)
    return publish_draft(
        session, engine, actor=owners.owner, process_id="simple_case", number=draft.number, **args
    )


def test_the_approvers_are_the_heads_of_unit(session, owners):
    assert [u.id for u in approvers(session)] == [owners.head_id]


def test_publishing_records_approver_publisher_note_and_effective_date_in_the_audit_trail(
    session, engine, owners, draft, clock
):
    version = _publish(session, engine, owners, draft)
    session.commit()
    assert (version.status, version.approved_by, version.deployed_by, version.change_note) == (
        VersionStatus.PUBLISHED,
        owners.head_name,
        "Anna Dahl",
        "Kortare namn på mottagningen",
    )
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "process:published"))
    assert (
        event.details["approved_by"] == owners.head_name
        and event.details["note"] == "Kortare namn på mottagningen"
        and event.actor_label == "Anna Dahl"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"approver_user_id": None}, "approver"),
        ({"change_note": "  "}, "change_note"),
        ({"effective_from": None}, "effective_from"),
    ],
)
def test_publishing_without_approver_note_or_date_is_refused_field_by_field(
    session, engine, owners, draft, change, field
):
    with pytest.raises(ValidationFailed) as refused:
        _publish(session, engine, owners, draft, **change)
    assert field in refused.value.field_errors


def test_an_approver_must_be_a_head_of_unit(session, engine, owners, draft):
    with pytest.raises(ValidationFailed) as refused:
        _publish(session, engine, owners, draft, approver_user_id=owners.nurse.user_id)
    assert "approver" in refused.value.field_errors


def test_an_effective_date_in_the_past_is_refused(session, engine, owners, draft, clock):
    with pytest.raises(ValidationFailed) as refused:
        _publish(session, engine, owners, draft, effective_from=clock.now() - timedelta(days=2))
    assert "effective_from" in refused.value.field_errors


def test_a_draft_with_errors_cannot_be_published(session, engine, owners, draft):
    saved, _ = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=FORMS_DIR,
        bpmn=SIMPLE.replace('name="Bedöm ärendet"', ""),
    )
    with pytest.raises(ValidationFailed) as refused:
        _publish(session, engine, owners, saved)
    assert any("label" in m for m in refused.value.field_errors["findings"])
    assert session.get(ProcessVersion, draft.id).status == VersionStatus.DRAFT


def test_publishing_without_naming_the_bundle_looked_at_is_refused(session, engine, owners, draft):
    """Like a save: without the hash the owner saw, a colleague's newer save would be published unseen."""
    for missing in (None, ""):
        with pytest.raises(ValidationFailed) as refused:
            _publish(session, engine, owners, draft, expected_hash=missing)
        assert refused.value.field_errors == {"expected_hash": ["required"]}
    assert session.get(ProcessVersion, draft.id).status == VersionStatus.DRAFT


def test_only_a_process_owner_may_publish(session, engine, owners, draft):
    with pytest.raises(Forbidden):
        publish_draft(
            session,
            engine,
            actor=owners.nurse,
            process_id="simple_case",
            number=draft.number,
            expected_hash=None,
            approver_user_id=owners.head_id,
            change_note="x",
            effective_from=draft.deployed_at,
        )


def test_a_draft_older_than_a_newer_published_version_is_a_conflict(session, engine, owners, draft):
    f.deploy_fixture(session, engine, "simple_case.bpmn", processes_dir=_changed_dir(draft), force=True)
    with pytest.raises(Conflict):
        _publish(session, engine, owners, draft)


def _changed_dir(draft):
    import tempfile
    from pathlib import Path

    folder = Path(tempfile.mkdtemp())
    (folder / "simple_case.bpmn").write_text(
        SIMPLE.replace("Ta emot ärendet", "Ändrad i filen"), encoding="utf-8"
    )
    return folder


def test_a_new_version_runs_for_new_instances_from_its_effective_date_while_old_instances_stay_on_theirs(
    session, engine, owners, draft, clock
):
    unit = session.get(Unit, owners.unit_id)
    old = instances.start_instance(
        session,
        engine,
        process_id="simple_case",
        actor=owners.nurse,
        case=f.case(session, unit, f.patient(session)),
    )
    saved, _ = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=FORMS_DIR,
        bpmn=SIMPLE.replace("Ta emot ärendet", "Ta emot chatten"),
    )
    _publish(session, engine, owners, saved, effective_from=clock.now() + timedelta(days=3))
    session.commit()

    before = instances.start_instance(
        session,
        engine,
        process_id="simple_case",
        actor=owners.nurse,
        case=f.case(session, unit, f.patient(session, "199205042386")),
    )
    assert session.get(ProcessVersion, before.process_version_id).number == 1  # not yet in effect
    [row] = model_rows(session, process_id="simple_case")
    assert [(v.number, v.in_effect, v.upcoming, v.running) for v in row.versions] == [
        (2, False, True, 0),
        (1, True, False, 2),
    ]

    clock.advance(timedelta(days=3))
    new = instances.start_instance(
        session,
        engine,
        process_id="simple_case",
        actor=owners.nurse,
        case=f.case(session, unit, f.patient(session, "198001012383")),
    )
    session.commit()
    assert (
        session.get(ProcessVersion, new.process_version_id).number == 2
        and runnable_version(session, "simple_case").number == 2
    )
    assert session.get(ProcessVersion, old.process_version_id).number == 1
    assert "Ta emot ärendet" in load_bundle(session, old.bundle_hash).entry_text
    assert "Ta emot chatten" in load_bundle(session, new.bundle_hash).entry_text


def test_a_process_owner_can_open_any_published_version_as_a_draft(session, engine, owners, draft):
    _publish(session, engine, owners, draft)
    again = start_draft(session, actor=owners.owner, process_id="simple_case", from_number=1)
    assert (
        again.number == 3
        and again.bundle_hash
        == session.scalar(select(ProcessVersion).where(ProcessVersion.number == 1)).bundle_hash
    )
