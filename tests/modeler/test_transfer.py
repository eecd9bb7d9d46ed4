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
