"""Export back into processes/ (service and CLI) and what deploy makes of the exported files."""

from __future__ import annotations

import shutil

from sqlalchemy import func, select

from app.modeler.cli import process_models_cli
from app.process_models.drafts import save_draft
from app.process_models.models import ProcessVersion
from app.process_models.publishing import publish_draft
from app.process_models.service import deploy_file
from tests.modeler.conftest import FIXTURES, FORMS_DIR, SIMPLE


def _publish_changed(session, engine, owners, draft):
    saved, _ = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=FORMS_DIR,
        bpmn=SIMPLE.replace("Ta emot ärendet", "Ta emot i produkten"),
    )
    publish_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=saved.number,
        expected_hash=saved.bundle_hash,
        approver_user_id=owners.head_id,
        change_note="namn",
        effective_from=saved.deployed_at,
    )
    session.commit()


def test_a_version_published_in_the_product_exports_back_into_processes_and_deploying_it_changes_nothing(
    session, engine, owners, draft, tmp_path
):
    _publish_changed(session, engine, owners, draft)
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    shutil.copytree(FIXTURES / "bpmn", processes)
    shutil.copytree(FIXTURES / "forms", forms)
    from app.process_models.transfer import export_to_directories

    written = export_to_directories(
        session,
        actor=owners.owner,
        process_id="simple_case",
        number=None,
        processes_dir=processes,
        forms_dir=forms,
    )
    session.commit()
    assert {p.name for p in written} == {"simple_case.bpmn", "receive.schema.json", "receive.uischema.json"}
    assert "Ta emot i produkten" in (processes / "simple_case.bpmn").read_text(encoding="utf-8")
    again = deploy_file(
        session,
        engine,
        path=processes / "simple_case.bpmn",
        processes_dir=processes,
        forms_dir=forms,
        actor=owners.owner,
    )
    assert (again.status, again.version) == ("unchanged", 2)
    assert session.scalar(select(func.count()).select_from(ProcessVersion)) == 2


def test_the_export_command_writes_the_files(app, session, engine, owners, draft, tmp_path):
    _publish_changed(session, engine, owners, draft)
    result = app.test_cli_runner().invoke(
        process_models_cli,
        ["export", "simple_case", "--processes-dir", str(tmp_path), "--forms-dir", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "simple_case.bpmn" in result.output and "Ta emot i produkten" in (
        tmp_path / "simple_case.bpmn"
    ).read_text(encoding="utf-8")


def _import(browser, owners, data: bytes, name: str = "rutin.bpmn"):
    from io import BytesIO

    return browser.as_(owners.owner).post(
        "/process-models/simple_case/import",
        data={"file": (BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def _imported_text(session) -> str:
    from app.process_models.drafts import current_draft
    from tests.modeler.conftest import entry_text

    session.expire_all()
    return entry_text(session, current_draft(session, process_id="simple_case"))


def test_an_imported_latin_1_file_keeps_its_swedish_letters(browser, owners, session):
    latin = SIMPLE.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"').encode("latin-1")
    assert _import(browser, owners, latin).status_code == 302
    text = _imported_text(session)
    assert 'name="Ta emot ärendet"' in text and 'name="Sjuksköterska"' in text and "\ufffd" not in text
    assert "encoding='UTF-8'" in text.split("?>", 1)[0]  # the stored text says what it now is


def test_an_imported_utf_16_file_becomes_a_draft_with_its_swedish_letters(browser, owners, session):
    wide = SIMPLE.replace('encoding="UTF-8"', 'encoding="UTF-16"').encode("utf-16")
    assert _import(browser, owners, wide).status_code == 302
    assert 'name="Bedöm ärendet"' in _imported_text(session)


def test_an_imported_utf_8_file_is_stored_exactly_as_it_came(browser, owners, session):
    assert _import(browser, owners, SIMPLE.encode()).status_code == 302
    assert _imported_text(session) == SIMPLE


def test_an_import_that_is_not_xml_in_its_declared_encoding_is_refused_with_the_file_name(browser, owners):
    broken = "<?xml version='1.0' encoding='UTF-16'?><bpmn:definitions".encode("utf-16")
    page = _import(browser, owners, broken, name="från_visio.bpmn")
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "från_visio.bpmn" in text and "Importera en .bpmn-fil" in text


def test_hostile_a_utf_16_import_with_an_entity_declaration_is_refused(browser, owners):
    body = SIMPLE.split("?>", 1)[1]
    bomb = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY a "aaaa">]>' + body
    page = _import(browser, owners, bomb.encode("utf-16"))
    assert page.status_code == 422 and "DOCTYPE" in page.get_data(as_text=True)


def test_an_import_nested_deeper_than_256_levels_says_so_in_swedish(browser, owners):
    nested = '<bpmn:startEvent id="s_in"/>'
    for level in range(300):
        nested = f'<bpmn:subProcess id="sp{level}">{nested}</bpmn:subProcess>'
    deep = SIMPLE.replace('<bpmn:endEvent id="Event_done"', nested + '<bpmn:endEvent id="Event_done"')
    page = _import(browser, owners, deep.encode())
    text = page.get_data(as_text=True)
    assert page.status_code == 422 and "nästlat i fler än 256 nivåer" in text
    assert "XML_PARSE_HUGE" not in text
