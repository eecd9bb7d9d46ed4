"""Drafts: saved but never runnable, one per model, stale saves refused, hostile uploads refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.models import AuditEvent
from app.audit.service import Actor
from app.errors import Conflict, Forbidden, ValidationFailed
from app.process_models.drafts import current_draft, discard_draft, save_draft, start_draft
from app.process_models.service import deploy_file, load_bundle, runnable_version
from app.process_models.transfer import import_bpmn
from tests.modeler.conftest import FORMS_DIR, ROOT, SIMPLE, entry_text

BODY = SIMPLE.split("?>", 1)[1]
BOMB = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>' + BODY
)
XXE = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' + BODY.replace(
    "Enkelt ärende", "&xxe;"
)


def _save(session, engine, owners, draft, **kw):
    kw.setdefault("expected_hash", draft.bundle_hash)
    return save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        forms_dir=FORMS_DIR,
        **kw,
    )


def test_a_saved_draft_is_never_runnable(session, engine, owners, draft):
    _save(session, engine, owners, draft, bpmn=SIMPLE.replace("Ta emot ärendet", "Ta emot"))
    session.commit()
    assert draft.number == 2 and "Ta emot<" not in entry_text(
        session, runnable_version(session, "simple_case")
    )
    assert runnable_version(session, "simple_case").number == 1
    assert 'name="Ta emot"' in entry_text(session, draft)


def test_a_second_draft_of_the_same_model_is_refused_while_one_is_open(session, owners, draft):
    with pytest.raises(Conflict):
        start_draft(session, actor=owners.owner, process_id="simple_case", from_number=1)


def test_a_stale_save_is_a_conflict_and_overwrites_nothing(session, engine, owners, draft):
    loaded = draft.bundle_hash
    _save(
        session, engine, owners, draft, bpmn=SIMPLE.replace("Ta emot ärendet", "Först"), expected_hash=loaded
    )
    session.commit()
    with pytest.raises(Conflict) as refused:
        _save(
            session,
            engine,
            owners,
            draft,
            bpmn=SIMPLE.replace("Ta emot ärendet", "Sedan"),
            expected_hash=loaded,
        )
    session.rollback()
    assert "Anna Dahl" in refused.value.message
    assert 'name="Först"' in entry_text(session, draft)


def test_only_a_process_owner_may_edit_and_the_refusal_is_forbidden(session, owners):
    with pytest.raises(Forbidden):
        start_draft(session, actor=owners.nurse, process_id="simple_case", from_number=1)


def test_a_draft_can_be_discarded(session, owners, draft):
    discard_draft(
        session,
        actor=owners.owner,
        process_id="simple_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
    )
    session.commit()
    assert current_draft(session, process_id="simple_case") is None
    assert (
        session.scalar(select(AuditEvent).where(AuditEvent.action == "process:draft_discarded")) is not None
    )


def test_a_form_from_the_shared_library_is_brought_into_the_draft_when_a_task_names_it(
    session, engine, owners, draft, tmp_path
):
    (tmp_path / "extra.schema.json").write_text(
        '{"type": "object", "properties": {"ok": {"type": "boolean"}}}', encoding="utf-8"
    )
    saved, findings = save_draft(
        session, engine, actor=owners.owner, process_id="simple_case", number=draft.number, expected_hash=draft.bundle_hash, forms_dir=tmp_path,
        bpmn=SIMPLE.replace('value="receive.schema.json"', 'value="extra.schema.json"'),
    )  # fmt: skip
    assert "extra.schema.json" in load_bundle(session, saved.bundle_hash).forms
    assert not [f for f in findings if f.code == "missing_form"]


@pytest.mark.parametrize(("name", "text"), [("entity expansion", BOMB), ("external entity", XXE)])
def test_hostile_xml_is_refused_before_anything_is_stored(session, engine, owners, draft, name, text):
    before = draft.bundle_hash
    with pytest.raises(ValidationFailed) as refused:
        _save(session, engine, owners, draft, bpmn=text)
    assert "DOCTYPE" in refused.value.message and "ENTITY" in refused.value.message
    session.rollback()
    assert draft.bundle_hash == before


def test_hostile_a_50_mb_file_is_refused_by_its_size_before_parsing(
    session, engine, owners, draft, monkeypatch
):
    import app.process_models.drafts as drafts

    monkeypatch.setattr(drafts, "parse_xml", lambda *a, **k: pytest.fail("a 50 MB upload must not be parsed"))
    huge = SIMPLE.replace("</bpmn:definitions>", "<!--" + "x" * (50 * 1024 * 1024) + "--></bpmn:definitions>")
    with pytest.raises(ValidationFailed) as refused:
        _save(session, engine, owners, draft, bpmn=huge)
    assert "gränsen" in refused.value.message and "KB" in refused.value.message


def test_hostile_an_imported_file_with_entities_is_refused(session, engine, owners):
    with pytest.raises(ValidationFailed):
        import_bpmn(
            session,
            engine,
            actor=owners.owner,
            process_id="simple_case",
            data=BOMB.encode(),
            forms_dir=FORMS_DIR,
        )


def test_an_imported_bpmn_becomes_a_draft_and_the_findings_say_what_keeps_it_from_running(
    session, engine, owners
):
    foreign = SIMPLE.replace('name="Läkare"', 'name="Doktor"')
    imported, findings = import_bpmn(
        session,
        engine,
        actor=owners.owner,
        process_id="simple_case",
        data=foreign.encode(),
        forms_dir=FORMS_DIR,
    )
    session.commit()
    assert imported.status.value == "draft" and runnable_version(session, "simple_case").number == 1
    assert any(f.code == "lane_unknown_role" and "Doktor" in f.message for f in findings)


def test_feel_in_a_decision_table_is_refused(session, engine, owners):
    deploy_file(
        session,
        engine,
        path=ROOT / "processes" / "chat_case.bpmn",
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
        actor=Actor(label="test"),
    )
    draft = start_draft(session, actor=owners.owner, process_id="chat_case", from_number=1)
    dmn = (
        (ROOT / "processes" / "queue_role.dmn")
        .read_text(encoding="utf-8")
        .replace("<text>'rehab'</text>", '<text>not("rehab")</text>')
    )
    _, findings = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="chat_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=ROOT / "forms",
        decisions={"queue_role.dmn": dmn},
    )
    [feel] = [f for f in findings if f.code == "feel"]
    assert feel.severity == "error" and feel.element_id == "Entry_rehab_2" and "Python" in feel.message


def test_saving_a_draft_requires_the_hash_the_editor_loaded(session, engine, owners, draft):
    with pytest.raises(ValidationFailed) as refused:
        _save(session, engine, owners, draft, expected_hash=None, bpmn=SIMPLE.replace("Ta emot ärendet", "X"))
    assert "expected_hash" in refused.value.message


def test_OG_3_a_hit_policy_the_engine_does_not_carry_out_is_refused_on_saving(session, engine, owners):
    """A process owner who sets PRIORITY (or ANY, RULE ORDER, COLLECT with a sum …) in the table editor
    is told at once: the engine would otherwise run it as "first match" and could misroute a case."""
    deploy_file(
        session,
        engine,
        path=ROOT / "processes" / "chat_case.bpmn",
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
        actor=Actor(label="test"),
    )
    draft = start_draft(session, actor=owners.owner, process_id="chat_case", from_number=1)
    source = (ROOT / "processes" / "after_hours_referral.dmn").read_text(encoding="utf-8")
    assert 'hitPolicy="FIRST"' in source
    _, findings = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="chat_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=ROOT / "forms",
        decisions={"after_hours_referral.dmn": source.replace('hitPolicy="FIRST"', 'hitPolicy="PRIORITY"')},
    )
    [refused] = [f for f in findings if f.code == "hit_policy"]
    assert refused.severity == "error" and "PRIORITY" in refused.message and "FIRST" in refused.message


def test_OG_6_5_a_timer_calling_a_function_scripts_do_not_have_is_refused_on_saving(session, engine, owners):
    """A misspelt helper in a timer expression (iso(noww())) would pass as "depends on task data" and
    fail every case that reaches the timer; the findings name it while the owner still edits."""
    deploy_file(
        session,
        engine,
        path=ROOT / "processes" / "chat_case.bpmn",
        processes_dir=ROOT / "processes",
        forms_dir=ROOT / "forms",
        actor=Actor(label="test"),
    )
    draft = start_draft(session, actor=owners.owner, process_id="chat_case", from_number=1)
    source = (ROOT / "processes" / "chat_case.bpmn").read_text(encoding="utf-8")
    timer = "<bpmn:timeDate>closing['reopen_until'] or iso(now())</bpmn:timeDate>"
    assert timer in source
    _, findings = save_draft(
        session,
        engine,
        actor=owners.owner,
        process_id="chat_case",
        number=draft.number,
        expected_hash=draft.bundle_hash,
        forms_dir=ROOT / "forms",
        bpmn=source.replace(timer, timer.replace("now()", "noww()")),
    )
    [refused] = [f for f in findings if f.code == "timer_expression"]
    assert refused.severity == "error" and "noww()" in refused.message
