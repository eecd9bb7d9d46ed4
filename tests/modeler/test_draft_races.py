"""PostgreSQL: process owners acting on one draft at the same moment. The draft's row (and, for a new
draft, the model's row) is locked where it is checked, so the second of two racing actions waits for
the first, then sees its result and is refused (409): a bundle nobody checked is never published."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.audit.models import AuditEvent
from app.errors import Conflict
from app.process_models import drafts, publishing
from app.process_models.models import ProcessVersion, VersionStatus
from tests.modeler.conftest import FORMS_DIR, SIMPLE
from tests.races import Meeting, race


@pytest.fixture
def meeting(app) -> Meeting:
    return Meeting(app.extensions["database"])


def _meet_after(monkeypatch, meeting: Meeting, module, name: str) -> None:
    real = getattr(module, name)

    def then_meet(*args, **kwargs):
        out = real(*args, **kwargs)
        meeting.wait()
        return out

    monkeypatch.setattr(module, name, then_meet)


@pytest.mark.postgres
@pytest.mark.parametrize("first", ["save", "publish"])
def test_a_save_and_a_publish_of_one_draft_at_once_the_second_is_a_conflict_and_only_the_checked_bundle_is_published(
    pg_url, app, session, engine, owners, draft, meeting, monkeypatch, first
):
    checked = draft.bundle_hash
    _meet_after(monkeypatch, meeting, drafts, "_require_draft")  # save_draft, past the hash check
    _meet_after(monkeypatch, meeting, publishing, "_require_draft")  # publish_draft, past the hash check

    def publish(s):
        publishing.publish_draft(
            s, engine, actor=owners.owner, process_id="simple_case", number=draft.number,
            expected_hash=checked, approver_user_id=owners.head_id, change_note="godkänd",
            effective_from=draft.deployed_at,
        )  # fmt: skip

    def save(s):
        drafts.save_draft(
            s, engine, actor=owners.owner, process_id="simple_case", number=draft.number,
            expected_hash=checked, forms_dir=FORMS_DIR, bpmn=SIMPLE.replace('name="Läkare"', 'name="Doktor"'),
        )  # fmt: skip

    actions = {"save": save, "publish": publish}
    second = "publish" if first == "save" else "save"
    results = race(app.extensions["database"], meeting, actions[first], actions[second])

    assert results == ["ok", "Conflict"]  # the first stands, the second is refused
    session.expire_all()
    version = session.get(ProcessVersion, draft.id)
    published = session.scalars(
        select(AuditEvent.details["bundle"].as_string()).where(AuditEvent.action == "process:published")
    ).all()
    if first == "publish":
        assert version.status == VersionStatus.PUBLISHED and version.bundle_hash == checked
        assert published == [checked]  # the bundle the approver checked is the one that runs
    else:
        assert version.status == VersionStatus.DRAFT and version.bundle_hash != checked
        assert published == []


@pytest.mark.postgres
def test_two_owners_opening_a_draft_at_once_get_one_draft_and_a_conflict_not_a_server_error(
    pg_url, app, session, owners, meeting, monkeypatch
):
    _meet_after(monkeypatch, meeting, drafts, "current_draft")  # past "no draft open yet"

    def open_draft(s):
        drafts.start_draft(s, actor=owners.owner, process_id="simple_case", from_number=1)

    results = race(app.extensions["database"], meeting, open_draft, open_draft)

    assert results == ["ok", "Conflict"]
    session.expire_all()
    assert (
        session.scalar(
            select(func.count())
            .select_from(ProcessVersion)
            .where(ProcessVersion.status == VersionStatus.DRAFT)
        )
        == 1
    )


def test_a_stale_publish_is_refused_before_anything_is_written(session, engine, owners, draft):
    """The check the lock protects, on its own: a publish from a bundle saved over since is a 409."""
    checked = draft.bundle_hash
    drafts.save_draft(
        session, engine, actor=owners.owner, process_id="simple_case", number=draft.number,
        expected_hash=checked, forms_dir=FORMS_DIR, bpmn=SIMPLE.replace('name="Läkare"', 'name="Doktor"'),
    )  # fmt: skip
    session.commit()
    with pytest.raises(Conflict):
        publishing.publish_draft(
            session, engine, actor=owners.owner, process_id="simple_case", number=draft.number,
            expected_hash=checked, approver_user_id=owners.head_id, change_note="godkänd",
            effective_from=draft.deployed_at,
        )  # fmt: skip
