"""Deploying process models: versions, the file-vs-published rule, and refusals of bad input."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.audit.service import Actor
from app.engine import BundleInvalid
from app.instances import service as instances
from app.people.roles import Role
from app.process_models.models import ProcessModel, ProcessVersion, VersionOrigin
from app.process_models.service import _add_version, deploy_file, load_bundle, runnable_version
from tests import factories as f
from tests.factories import FIXTURES

SIMPLE = (FIXTURES / "bpmn" / "simple_case.bpmn").read_text(encoding="utf-8")


@pytest.fixture
def workdir(tmp_path) -> tuple[Path, Path]:
    processes, forms = tmp_path / "processes", tmp_path / "forms"
    shutil.copytree(FIXTURES / "bpmn", processes)
    shutil.copytree(FIXTURES / "forms", forms)
    return processes, forms


def _deploy(session, engine, workdir, name="simple_case.bpmn", **kw):
    processes, forms = workdir
    return deploy_file(
        session,
        engine,
        path=processes / name,
        processes_dir=processes,
        forms_dir=forms,
        actor=Actor(label="test"),
        **kw,
    )


def _versions(session) -> int:
    return session.scalar(select(func.count()).select_from(ProcessVersion))


def test_first_deploy_creates_version_1_and_redeploying_an_unchanged_file_does_nothing(
    session, engine, workdir
):
    first = _deploy(session, engine, workdir)
    session.commit()
    assert (first.status, first.version) == ("deployed", 1)
    again = _deploy(session, engine, workdir)
    assert again.status == "unchanged" and _versions(session) == 1


def test_a_changed_file_or_form_becomes_a_new_version_and_running_instances_stay_on_theirs(
    session, engine, workdir
):
    processes, forms = workdir
    _deploy(session, engine, workdir)
    unit = f.unit(session)
    nurse = f.user(session, unit, Role.NURSE)
    case = f.case(session, unit, f.patient(session))
    actor = f.signed_in(session, nurse, unit)
    old = instances.start_instance(session, engine, process_id="simple_case", actor=actor, case=case)
    session.commit()

    (processes / "simple_case.bpmn").write_text(
        SIMPLE.replace("Ta emot ärendet", "Ta emot"), encoding="utf-8"
    )
    assert _deploy(session, engine, workdir).version == 2
    (forms / "receive.uischema.json").write_text(
        '{"ui:order": ["needs_doctor", "priority_checked", "note"]}', encoding="utf-8"
    )
    assert _deploy(session, engine, workdir).version == 3
    session.commit()

    new = instances.start_instance(
        session,
        engine,
        process_id="simple_case",
        actor=actor,
        case=f.case(session, unit, f.patient(session, "199205042386")),
    )
    session.commit()
    assert runnable_version(session, "simple_case").number == 3
    assert session.get(ProcessVersion, old.process_version_id).number == 1
    assert session.get(ProcessVersion, new.process_version_id).number == 3
    # The old instance still runs on its own bundle: its task keeps the old name.
    assert "Ta emot ärendet" in load_bundle(session, old.bundle_hash).entry_text


def test_a_file_never_silently_supersedes_a_version_published_in_the_product(session, engine, workdir):
    processes, _ = workdir
    _deploy(session, engine, workdir)
    model = session.scalar(select(ProcessModel))
    bundle = load_bundle(session, session.scalar(select(ProcessVersion)).bundle_hash)
    _add_version(
        session,
        bundle,
        model=model,
        origin=VersionOrigin.PRODUCT,
        source_file=None,
        source_file_hash=None,
        actor=Actor(label="Anna Processägare"),
        change_note="published in the product",
        approved_by="Verksamhetschef Berg",
    )
    session.commit()
    (processes / "simple_case.bpmn").write_text(SIMPLE.replace("Bedöm ärendet", "Bedöm"), encoding="utf-8")
    refused = _deploy(session, engine, workdir)
    assert (
        refused.status == "refused"
        and "--force" in refused.message
        and "Anna Processägare" in refused.message
    )
    assert _versions(session) == 2
    forced = _deploy(session, engine, workdir, force=True)
    assert (forced.status, forced.version) == ("deployed", 3)


def _refusal(session, engine, workdir, text: str, *, name="broken.bpmn") -> list:
    processes, _ = workdir
    (processes / name).write_text(text, encoding="utf-8")
    with pytest.raises(BundleInvalid) as refused:
        _deploy(session, engine, workdir, name=name)
    assert _versions(session) == 0  # nothing changed
    return refused.value.findings


def _as_broken(text: str) -> str:
    return text.replace('id="simple_case"', 'id="broken"')


def test_malformed_xml_is_refused_with_file_and_line(session, engine, workdir):
    [finding] = _refusal(session, engine, workdir, SIMPLE.replace("</bpmn:process>", "</bpmn:proces>"))
    assert finding.file == "broken.bpmn" and "malformed XML" in finding.message and "line" in finding.message


def test_entity_expansion_is_refused(session, engine, workdir):
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        + SIMPLE.split("?>", 1)[1]
    )
    [finding] = _refusal(session, engine, workdir, bomb)
    assert "DOCTYPE" in finding.message


def test_external_entities_are_refused(session, engine, workdir):
    xxe = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + SIMPLE.split(
        "?>", 1
    )[1].replace("Enkelt ärende", "&xxe;")
    [finding] = _refusal(session, engine, workdir, xxe)
    assert "ENTITY" in finding.message or "DOCTYPE" in finding.message


def test_an_oversized_file_is_refused(session, engine, workdir):
    huge = SIMPLE.replace("</bpmn:definitions>", "<!--" + "x" * (6 * 1024 * 1024) + "--></bpmn:definitions>")
    [finding] = _refusal(session, engine, workdir, huge)
    assert "limit" in finding.message


def test_a_missing_form_is_refused_naming_the_user_task(session, engine, workdir):
    [finding] = _refusal(
        session, engine, workdir, _as_broken(SIMPLE.replace("receive.schema.json", "nowhere.schema.json"))
    )
    assert finding.element_id == "Task_receive" and "nowhere.schema.json" in finding.message


def test_a_form_that_is_not_valid_json_schema_is_refused(session, engine, workdir):
    processes, forms = workdir
    (forms / "bad.schema.json").write_text(
        '{"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "objekt"}', encoding="utf-8"
    )
    findings = _refusal(
        session, engine, workdir, _as_broken(SIMPLE.replace("receive.schema.json", "bad.schema.json"))
    )
    assert any(x.file == "bad.schema.json" and "JSON Schema" in x.message for x in findings)


def test_an_unknown_service_operator_is_refused(session, engine, workdir):
    text = (
        (FIXTURES / "bpmn" / "service_step.bpmn")
        .read_text(encoding="utf-8")
        .replace('id="service_step"', 'id="broken"')
        .replace("test_flaky", "send_pigeon")
    )
    findings = _refusal(session, engine, workdir, text)
    assert any(x.element_id == "Service_call" and "send_pigeon" in x.message for x in findings)


def test_a_user_task_outside_a_lane_is_refused(session, engine, workdir):
    text = _as_broken(SIMPLE).replace("<bpmn:flowNodeRef>Task_assess</bpmn:flowNodeRef>", "")
    findings = _refusal(session, engine, workdir, text)
    assert any(x.element_id == "Task_assess" and "lane" in x.message for x in findings)


def test_a_lane_that_names_no_known_role_is_refused(session, engine, workdir):
    findings = _refusal(
        session, engine, workdir, _as_broken(SIMPLE).replace('name="Läkare"', 'name="Trollkarl"')
    )
    assert any(x.element_id == "Task_assess" and "Trollkarl" in x.message for x in findings)


def test_an_expression_that_fails_to_compile_in_the_sandbox_is_refused(session, engine, workdir):
    text = _as_broken(SIMPLE).replace("needs_doctor == True", "__import__('os').system('true')")
    findings = _refusal(session, engine, workdir, text)
    assert any(x.element_id == "Flow_yes" for x in findings)
    text = _as_broken(SIMPLE).replace("waited_too_long = True", "import os")
    assert any(
        x.element_id == "Script_flag" and "import" in x.message
        for x in _refusal(session, engine, workdir, text)
    )


def test_a_form_field_that_expressions_cannot_read_is_refused(session, engine, workdir):
    processes, forms = workdir
    (forms / "reserved.schema.json").write_text(
        '{"type": "object", "properties": {"type": {"type": "string"}, "my-field": {"type": "string"}}}',
        encoding="utf-8",
    )
    findings = _refusal(
        session, engine, workdir, _as_broken(SIMPLE.replace("receive.schema.json", "reserved.schema.json"))
    )
    messages = " ".join(x.message for x in findings if x.file == "reserved.schema.json")
    assert "'type'" in messages and "'my-field'" in messages


def test_an_event_based_gateway_waiting_for_two_timers_is_refused(session, engine, workdir):
    """SpiffWorkflow keeps one due time per gateway: a second timer would silently overwrite the first."""
    text = (
        (FIXTURES / "bpmn" / "reply_or_timeout.bpmn")
        .read_text(encoding="utf-8")
        .replace('id="reply_or_timeout"', 'id="broken"')
    )
    text = text.replace(
        '<bpmn:messageEventDefinition id="MED_rt" messageRef="Message_reply_rt" />',
        "<bpmn:timerEventDefinition id=\"TED_rt2\"><bpmn:timeDuration>'PT1H'</bpmn:timeDuration></bpmn:timerEventDefinition>",
    )
    findings = _refusal(session, engine, workdir, text)
    assert any(x.element_id == "Gateway_rt" and "at most one" in x.message for x in findings)


def test_a_form_property_outside_a_tasks_extension_elements_is_a_finding_on_its_process_not_a_crash(
    session, engine, workdir
):
    misplaced = '<spiffworkflow:property name="formJsonSchemaFilename" value="absent.schema.json"/>'
    findings = _refusal(
        session,
        engine,
        workdir,
        _as_broken(
            SIMPLE.replace('<bpmn:laneSet id="LaneSet_1">', misplaced + '<bpmn:laneSet id="LaneSet_1">')
        ),
    )
    assert ("broken", "missing_form") in {(f.element_id, f.code) for f in findings}
