"""Running instances move only onto published versions: a draft was never validated or released."""

from __future__ import annotations

import pytest

from app.errors import Conflict
from app.instances import migration
from app.instances.models import ProcessInstance
from app.process_models import drafts
from app.process_models.models import VersionStatus


@pytest.fixture
def draft(setup):
    """simple_case v1 published with one running instance, and v2 an open draft copied from it."""
    [instance] = setup.start(1)
    version = drafts.start_draft(
        setup.session, actor=setup.actors["owner"], process_id="simple_case", from_number=1
    )
    setup.session.commit()
    assert (version.number, version.status) == (2, VersionStatus.DRAFT)
    return instance


def test_migrating_an_instance_onto_a_draft_is_refused(setup, draft, session):
    with pytest.raises(Conflict) as refused:
        migration.migrate_instance(
            session,
            setup.engine,
            actor=setup.actors["owner"],
            instance_id=draft.id,
            from_number=1,
            to_number=2,
        )
    assert refused.value.details["reasons"] == [("not_published", None)]
    session.rollback()
    with pytest.raises(Conflict):
        migration.dry_run(
            session,
            setup.engine,
            actor=setup.actors["owner"],
            process_id="simple_case",
            from_number=1,
            to_number=2,
        )
    session.rollback()
    v1 = migration.version_by_number(session, process_id="simple_case", number=1)
    assert session.get(ProcessInstance, draft.id).process_version_id == v1.id
    # Nothing refers to the draft: discarding it still works.
    current = drafts.current_draft(session, process_id="simple_case")
    drafts.discard_draft(
        session,
        actor=setup.actors["owner"],
        process_id="simple_case",
        number=2,
        expected_hash=current.bundle_hash,
    )
    session.commit()


def test_the_migration_page_offers_only_published_versions(setup, draft, pages, session):
    pages.sign_in("owner")
    html = pages.get("/process-models/simple_case/migration?from=1&to=2&dry_run=1").get_data(as_text=True)
    assert '<option value="2"' not in html
    response = pages.post(
        f"/process-models/simple_case/migration/{draft.id}",
        {"from": 1, "to": 2, "expected_version": draft.version},
    )
    assert response.status_code == 409
    assert "versionen är inte publicerad" in response.get_data(as_text=True)
    session.expire_all()
    v1 = migration.version_by_number(session, process_id="simple_case", number=1)
    assert session.get(ProcessInstance, draft.id).process_version_id == v1.id
