"""The diff, migration and traceability pages through the test client."""

from __future__ import annotations

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.instances import migration
from app.instances.models import ProcessInstance

RENAME_FUTURE = ('name="Bedöm ärendet"', 'name="Bedöm ärendet noga"')
RENAME_ACTIVE = ('name="Ta emot ärendet"', 'name="Ta emot och läs ärendet"')


def test_diff_page_lists_changes_marks_them_for_the_diagram_and_serves_the_version_xml(setup, pages):
    setup.deploy_variant(RENAME_FUTURE)
    pages.sign_in("owner")
    response = pages.get("/process-models/simple_case/diff")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'data-element="Task_assess" data-change="changed"' in html and "Bedöm ärendet noga" in html
    # simple_case has no diagram layout: the lists only, no viewer (the browser test draws a real one).
    assert (
        "bpmn-navigated-viewer.production.min.js" not in html
        and "diagram-canvas" not in html
        and "<script>" not in html
    )
    assert "style-src 'self' 'unsafe-inline'" in response.headers["Content-Security-Policy"]
    xml = pages.get("/process-models/simple_case/versions/2/diagram.bpmn")
    assert xml.status_code == 200 and b"Bed\xc3\xb6m \xc3\xa4rendet noga" in xml.data


def test_pages_refuse_everyone_but_process_owners_with_403_and_an_audit_record(setup, pages, session):
    setup.deploy_variant(RENAME_FUTURE)
    pages.sign_in("nurse")
    for path in (
        "/process-models/simple_case/diff",
        "/process-models/simple_case/migration",
        "/process-models/simple_case/versions/1/diagram.bpmn",
        "/traceability",
    ):
        assert pages.get(path).status_code == 403, path
    assert "Spårbarheten visas för processägare och verksamhetschefer." in pages.get(
        "/traceability"
    ).get_data(as_text=True)
    assert pages.post("/process-models/simple_case/migration", {"from": 1, "to": 2}).status_code == 403
    session.expire_all()
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "process_changes:refused")).all()
    assert len(refused) == 6  # five looks and one action


def test_migration_page_dry_run_then_migrate_one_then_all(setup, pages, session):
    first, second, third = setup.start(3)
    setup.deploy_variant(RENAME_FUTURE)
    pages.sign_in("owner")
    html = pages.get("/process-models/simple_case/migration?from=1&to=2&dry_run=1").get_data(as_text=True)
    assert "3 av 3 pågående instanser kan flyttas." in html
    response = pages.post(
        f"/process-models/simple_case/migration/{first.id}",
        {"from": 1, "to": 2, "expected_version": first.version},
    )
    assert response.status_code == 302
    session.expire_all()
    v2 = migration.version_by_number(session, process_id="simple_case", number=2)
    assert session.get(ProcessInstance, first.id).process_version_id == v2.id
    # A stale expected version (the instance changed since the dry run): 409, with the reason, nothing moved.
    response = pages.post(
        f"/process-models/simple_case/migration/{second.id}",
        {"from": 1, "to": 2, "expected_version": second.version + 5},
    )
    assert response.status_code == 409
    assert "instansen har ändrats sedan provkörningen" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(ProcessInstance, second.id).process_version_id != v2.id
    assert pages.post("/process-models/simple_case/migration", {"from": 1, "to": 2}).status_code == 302
    session.expire_all()
    assert {session.get(ProcessInstance, i.id).process_version_id for i in (second, third)} == {v2.id}


def test_migration_page_says_why_an_instance_cannot_move(setup, pages):
    setup.start(1)
    setup.deploy_variant(RENAME_ACTIVE)
    pages.sign_in("owner")
    html = pages.get("/process-models/simple_case/migration?from=1&to=2&dry_run=1").get_data(as_text=True)
    assert "0 av 1 pågående instanser kan flyttas." in html
    assert "ett pågående steg har ändrats (Task_receive)" in html
    assert "Flytta alla" not in html
