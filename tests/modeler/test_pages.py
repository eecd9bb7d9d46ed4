"""The process owners' pages through the test client: lists, editor endpoints, publishing, refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.audit.models import AuditEvent
from app.process_models.models import ProcessVersion, VersionStatus
from tests.modeler.conftest import SIMPLE

BASE = "/process-models/simple_case"


def test_the_model_list_shows_each_version_with_approver_publisher_note_effective_date_and_running_count(
    browser, owners
):
    text = browser.as_(owners.owner).get("/process-models").get_data(as_text=True)
    for expected in (
        "Enkelt ärende",
        "Fastställd av",
        "Publicerad av",
        "Gäller från",
        "Pågående ärenden",
        "Första versionen, från processes/",
    ):
        assert expected in text


def test_a_nurse_is_refused_the_pages_with_403_and_the_attempt_is_audited(browser, owners, session):
    assert browser.as_(owners.nurse).get("/process-models").status_code == 403
    assert browser.post(f"{BASE}/versions/1/draft").status_code == 403
    refused = session.scalars(select(AuditEvent).where(AuditEvent.action == "process:refused")).all()
    assert len(refused) == 2 and refused[0].actor_user_id == owners.nurse.user_id


def test_opening_a_version_as_a_draft_leads_to_the_editor_with_the_vendored_modeler(browser, owners, session):
    response = browser.as_(owners.owner).post(f"{BASE}/versions/1/draft")
    assert response.status_code == 302 and response.headers["Location"].endswith("/versions/2/edit")
    page = browser.get(f"{BASE}/versions/2/edit")
    text = page.get_data(as_text=True)
    assert (
        page.status_code == 200
        and "/vendor/bpmn-js/dist/bpmn-modeler.production.min.js" in text
        and "editor.js" in text
    )
    # bpmn-js sets style attributes: only the editor pages relax style-src, never script-src.
    assert "style-src 'self' 'unsafe-inline'" in page.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in page.headers["Content-Security-Policy"]
        and "unsafe-inline" not in page.headers["Content-Security-Policy"].split("script-src")[1]
    )
    assert "unsafe-inline" not in browser.get(BASE).headers["Content-Security-Policy"]


def test_saving_answers_with_findings_tied_to_elements_and_a_stale_save_is_a_409(
    browser, owners, session, draft
):
    browser.as_(owners.owner)
    answer = browser.post(
        f"{BASE}/versions/{draft.number}/save",
        json={"bpmn": SIMPLE.replace('name="Bedöm ärendet"', ""), "expected_hash": draft.bundle_hash},
    )
    assert answer.status_code == 200
    body = answer.get_json()
    assert {"element_id": "Task_assess", "code": "label_missing"}.items() <= next(
        f for f in body["findings"] if f["code"] == "label_missing"
    ).items()
    stale = browser.post(
        f"{BASE}/versions/{draft.number}/save", json={"bpmn": SIMPLE, "expected_hash": draft.bundle_hash}
    )
    assert stale.status_code == 409 and "Anna Dahl" in stale.get_json()["detail"]


def test_hostile_a_50_mb_upload_is_refused_by_its_size_before_it_is_read(browser, owners, draft):
    browser.as_(owners.owner)
    huge = b"<x>" + b"a" * (50 * 1024 * 1024)
    answer = browser.post(
        f"{BASE}/versions/{draft.number}/save",
        data=huge,
        headers={"X-CSRF-Token": "test-token", "Content-Type": "application/json"},
    )
    assert answer.status_code == 413 and "MB" in answer.get_json()["detail"]


def test_hostile_an_imported_file_with_an_entity_declaration_is_refused_with_a_clear_message(browser, owners):
    from io import BytesIO

    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa">]><x>&a;</x>'
    page = browser.as_(owners.owner).post(
        f"{BASE}/import", data={"file": (BytesIO(bomb), "evil.bpmn")}, content_type="multipart/form-data"
    )
    assert page.status_code == 422 and "DOCTYPE" in page.get_data(as_text=True)


def test_import_makes_a_draft_and_export_downloads_the_bpmn(browser, owners, session):
    from io import BytesIO

    page = browser.as_(owners.owner).post(
        f"{BASE}/import",
        data={"file": (BytesIO(SIMPLE.replace("Ta emot ärendet", "Importerad").encode()), "x.bpmn")},
        content_type="multipart/form-data",
    )
    assert page.status_code == 302
    draft = session.scalar(select(ProcessVersion).where(ProcessVersion.status == VersionStatus.DRAFT))
    download = browser.get(f"{BASE}/versions/{draft.number}/export.bpmn")
    assert (
        download.status_code == 200
        and "attachment" in download.headers["Content-Disposition"]
        and "Importerad" in download.get_data(as_text=True)
    )


def test_the_form_editor_previews_through_the_clinicians_form_renderer(browser, owners, draft):
    browser.as_(owners.owner)
    page = browser.get(f"{BASE}/versions/{draft.number}/forms/receive.schema.json")
    assert page.status_code == 200 and 'hx-post="' in page.get_data(as_text=True)
    schema = '{"type": "object", "required": ["priority"], "properties": {"priority": {"type": "integer", "title": "Prioritet", "minimum": 1, "maximum": 5}}}'
    preview = browser.post(
        f"{BASE}/versions/{draft.number}/forms/receive.schema.json/preview", {"schema": schema, "ui": ""}
    ).get_data(as_text=True)
    assert (
        'id="preview-priority"' in preview
        and 'type="number"' in preview
        and "Prioritet" in preview
        and 'min="1"' in preview
    )
    broken = browser.post(
        f"{BASE}/versions/{draft.number}/forms/receive.schema.json/preview", {"schema": "{", "ui": ""}
    ).get_data(as_text=True)
    assert "JSON" in broken


def test_saving_a_form_keeps_the_typed_text_when_it_is_not_json(browser, owners, draft):
    page = browser.as_(owners.owner).post(
        f"{BASE}/versions/{draft.number}/forms/receive.schema.json",
        {"schema": '{"type": ', "ui": "", "expected_hash": draft.bundle_hash},
    )
    assert page.status_code == 422 and "{&#34;type&#34;: </textarea>" in page.get_data(as_text=True)


def test_publishing_through_the_page_with_an_approver_and_field_errors_beside_fields(
    browser, owners, session, draft, clock
):
    browser.as_(owners.owner)
    url = f"{BASE}/versions/{draft.number}/publish"
    assert "Hanna Wik" in browser.get(url).get_data(as_text=True)
    missing = browser.post(
        url,
        {"approver": "", "change_note": "Ny text", "effective_from": "", "expected_hash": draft.bundle_hash},
    )
    text = missing.get_data(as_text=True)
    assert (
        missing.status_code == 422
        and 'id="approver-error"' in text
        and 'id="effective_from-error"' in text
        and "Ny text</textarea>" in text
    )
    day = (clock.now() + timedelta(days=1)).strftime("%Y-%m-%d")
    done = browser.post(
        url,
        {
            "approver": str(owners.head_id),
            "change_note": "Ny text",
            "effective_from": day,
            "expected_hash": draft.bundle_hash,
        },
    )
    assert done.status_code == 302
    session.expire_all()
    published = session.get(ProcessVersion, draft.id)
    assert published.status == VersionStatus.PUBLISHED and published.approved_by == "Hanna Wik"


def test_a_decision_table_saved_from_the_editor_with_feel_gets_a_finding_on_its_cell(
    browser, owners, session, engine
):
    from app.audit.service import Actor
    from app.process_models.drafts import start_draft
    from app.process_models.service import deploy_file
    from tests.modeler.conftest import ROOT

    deploy_file(
        session,
        engine,
        path=ROOT / "processes" / "chat_case.bpmn",
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
        actor=Actor(label="test"),
    )
    draft = start_draft(session, actor=owners.owner, process_id="chat_case", from_number=1)
    browser.as_(owners.owner)
    page = browser.get(f"/process-models/chat_case/versions/{draft.number}/decisions/queue_role.dmn")
    assert page.status_code == 200 and "dmn-modeler.production.min.js" in page.get_data(as_text=True)
    dmn = (
        (ROOT / "processes" / "queue_role.dmn")
        .read_text(encoding="utf-8")
        .replace("<text>'rehab'</text>", "<text>[1..5]</text>")
    )
    answer = browser.post(
        f"/process-models/chat_case/versions/{draft.number}/save",
        json={"decisions": {"queue_role.dmn": dmn}, "expected_hash": draft.bundle_hash},
    )
    assert answer.status_code == 200
    assert {"element_id": "Entry_rehab_2", "code": "feel", "severity": "error"}.items() <= next(
        f for f in answer.get_json()["findings"] if f["code"] == "feel"
    ).items()


def test_a_head_of_unit_sees_a_published_version_read_only(browser, owners, session):
    from app.people.models import Unit, User
    from tests import factories as f

    head = f.signed_in(session, session.get(User, owners.head_id), session.get(Unit, owners.unit_id))
    page = browser.as_(head).get(f"{BASE}/versions/1/edit")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Spara utkast" not in text and "&#34;editable&#34;: false" in text
    assert browser.post(f"{BASE}/versions/1/draft").status_code == 403


def test_the_model_page_counts_the_running_instances_of_each_version_and_names_the_linked_ones(
    browser, owners, session, engine
):
    from app.instances import service as instances
    from app.people.models import Unit
    from tests import factories as f

    unit = session.get(Unit, owners.unit_id)
    patient = f.patient(session)
    started = [
        instances.start_instance(
            session, engine, process_id="simple_case", actor=owners.nurse, case=f.case(session, unit, patient)
        )
        for _ in range(2)
    ]
    text = browser.as_(owners.owner).get(BASE).get_data(as_text=True)
    listing = " ".join(text.split('class="instances"')[1].split("</ul>")[0].split())
    # A count, then each instance's link named as one (a bare "5" read as five running instances).
    assert "Version 1: 2 pågående instanser (" in listing
    for instance in started:
        assert f'/instances/{instance.id}">instans {instance.id}</a>' in listing


def test_a_save_whose_body_has_the_wrong_shape_is_a_422_with_a_message(browser, owners, session, draft):
    browser.as_(owners.owner)
    for body, words in (
        ([1, 2], "JSON-objekt"),
        ({"expected_hash": draft.bundle_hash, "bpmn": 5}, "(bpmn) ska vara text"),
        ({"expected_hash": draft.bundle_hash, "decisions": ["a"]}, "(decisions)"),
        ({"expected_hash": draft.bundle_hash, "decisions": {"queue_role.dmn": 5}}, "(decisions)"),
        ({"expected_hash": 5, "bpmn": SIMPLE}, "expected_hash"),
    ):
        answer = browser.post(f"{BASE}/versions/{draft.number}/save", json=body)
        assert answer.status_code == 422 and words in answer.get_json()["detail"], body
    session.expire_all()
    assert session.get(ProcessVersion, draft.id).bundle_hash == draft.bundle_hash


def test_a_save_without_the_hash_the_editor_loaded_is_refused_and_overwrites_nothing(
    browser, owners, session, draft
):
    loaded = draft.bundle_hash
    first = browser.as_(owners.owner).post(
        f"{BASE}/versions/{draft.number}/save",
        json={"bpmn": SIMPLE.replace("Ta emot ärendet", "Först"), "expected_hash": loaded},
    )
    assert first.status_code == 200
    blind = browser.post(
        f"{BASE}/versions/{draft.number}/save", json={"bpmn": SIMPLE.replace("Ta emot ärendet", "Blint")}
    )
    assert blind.status_code == 422 and "expected_hash" in blind.get_json()["detail"]
    session.expire_all()
    assert session.get(ProcessVersion, draft.id).bundle_hash == first.get_json()["hash"]


def test_a_50_mb_import_comes_back_to_the_model_page_with_the_5_mb_limit(browser, owners):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    huge = SIMPLE.encode() + b"<!--" + b"a" * (50 * 1024 * 1024) + b"-->"
    # Encoded in memory: the test client would spool it to a temporary file the refused request never closes.
    boundary, body = encode_multipart(
        {"csrf_token": "test-token", "file": FileStorage(BytesIO(huge), filename="stor.bpmn")}
    )
    page = browser.as_(owners.owner).post(
        f"{BASE}/import", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 413 and "gränsen är 5 MB" in text and "Importera en .bpmn-fil" in text
    assert "16 MB" not in text


def _head(session, owners):
    from app.people.models import Unit, User
    from tests import factories as f

    return f.signed_in(session, session.get(User, owners.head_id), session.get(Unit, owners.unit_id))


def test_the_compare_and_move_links_are_shown_only_to_those_the_pages_let_in(browser, owners, session):
    head = _head(session, owners)
    text = browser.as_(head).get(BASE).get_data(as_text=True)
    assert (
        "/process-models/simple_case/diff" not in text and "/process-models/simple_case/migration" not in text
    )
    assert "Jämför versioner" not in text and "Flytta pågående ärenden" not in text
    assert browser.get(f"{BASE}/diff").status_code == 403  # what the links would have led to
    text = browser.as_(owners.owner).get(BASE).get_data(as_text=True)
    assert f'href="{BASE}/diff"' in text and f'href="{BASE}/migration"' in text


MODELER_JS = "/vendor/bpmn-js/dist/bpmn-modeler.production.min.js"
VIEWER_JS = "/vendor/bpmn-js/dist/bpmn-navigated-viewer.production.min.js"


def test_a_published_version_loads_the_viewer_and_never_says_it_can_be_published(browser, owners, session):
    for actor in (_head(session, owners), owners.owner):
        text = browser.as_(actor).get(f"{BASE}/versions/1/edit").get_data(as_text=True)
        assert VIEWER_JS in text and MODELER_JS not in text, actor.label
        assert "kan publiceras" not in text and 'data-none="Inga fynd."' in text
        assert "Versionen är publicerad och visas utan redigering." in text
        assert '<fieldset class="plain" disabled>' in text  # the panel shows, it does not edit
    draft = browser.as_(owners.owner).post(f"{BASE}/versions/1/draft").headers["Location"]
    text = browser.get(draft).get_data(as_text=True)
    assert MODELER_JS in text and VIEWER_JS not in text and "Inga fynd: utkastet kan publiceras." in text


def test_the_decision_table_and_form_links_of_a_version_are_shown_only_to_those_they_let_in(
    browser, owners, session, engine
):
    from app.audit.service import Actor
    from app.process_models.service import deploy_file
    from tests.modeler.conftest import ROOT

    deploy_file(
        session,
        engine,
        path=ROOT / "processes" / "chat_case.bpmn",
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
        actor=Actor(label="test"),
    )
    path = "/process-models/chat_case/versions/1"
    text = browser.as_(_head(session, owners)).get(f"{path}/edit").get_data(as_text=True)
    assert "/decisions/" not in text and "/forms/" not in text
    assert browser.get(f"{path}/decisions/queue_role.dmn").status_code == 403  # where they led
    text = browser.as_(owners.owner).get(f"{path}/edit").get_data(as_text=True)
    assert f"{path}/decisions/queue_role.dmn" in text and f"{path}/forms/" in text


def test_a_head_of_unit_gets_links_only_to_the_instances_her_instance_page_shows(
    browser, owners, session, engine
):
    from app.instances import service as instances
    from app.people.models import Unit
    from tests import factories as f

    own, other = session.get(Unit, owners.unit_id), f.unit(session, name="Vårdcentralen Annanstans")
    patient = f.patient(session)
    mine, theirs = (
        instances.start_instance(
            session, engine, process_id="simple_case", actor=owners.nurse, case=f.case(session, unit, patient)
        )
        for unit in (own, other)
    )
    browser.as_(_head(session, owners))
    listing = browser.get(BASE).get_data(as_text=True).split('class="instances"')[1].split("</ul>")[0]
    assert f'/instances/{mine.id}">instans {mine.id}</a>' in listing
    assert f"/instances/{theirs.id}" not in listing and f"instans {theirs.id}" in listing  # named, not linked
    assert browser.get(f"/instances/{theirs.id}").status_code == 403  # where the link would have led
    listing = browser.as_(owners.owner).get(BASE).get_data(as_text=True)
    assert f'/instances/{theirs.id}">instans {theirs.id}</a>' in listing  # a process owner opens every one
