"""The engine alone: parse a bundle, run, serialize and restore mid-way, guard rails."""

from __future__ import annotations

import json

import pytest

from app.engine import Bundle, InstanceTooLarge, ProcessEngine, collect_bundle
from tasks.registry import registered_operators
from tests.factories import FIXTURES


def _engine(**kw) -> ProcessEngine:
    return ProcessEngine(operators=registered_operators(), **kw)


def _loaded(engine: ProcessEngine, name: str):
    bundle = collect_bundle(FIXTURES / "bpmn" / name, FIXTURES / "bpmn", FIXTURES / "forms")
    return engine.loaded(bundle.content_hash, lambda: bundle)


def test_bundle_holds_forms_and_is_content_addressed():
    bundle = collect_bundle(FIXTURES / "bpmn" / "simple_case.bpmn", FIXTURES / "bpmn", FIXTURES / "forms")
    assert bundle.process_id == "simple_case"
    assert set(bundle.forms) == {"receive.schema.json", "receive.uischema.json"}
    again = Bundle.from_json(bundle.to_json())
    assert again.content_hash == bundle.content_hash
    changed = Bundle(
        bundle.process_id,
        bundle.entry_file,
        dict(bundle.documents),
        {**bundle.forms, "receive.schema.json": "{}"},
    )
    assert changed.content_hash != bundle.content_hash


def test_serialize_and_restore_mid_way_keeps_state_without_the_spec():
    engine = _engine()
    loaded = _loaded(engine, "simple_case.bpmn")
    handle = engine.start(loaded, {"case_id": 7})
    handle.advance()
    [task] = handle.ready_user_tasks()
    assert (task.name, task.lane, task.rules) == ("Ta emot ärendet", "Sjuksköterska", ("OG-6.1-b",))
    state = handle.serialize()
    assert "spec" not in json.loads(state)

    restored = engine.restore(loaded, state)
    [same] = restored.ready_user_tasks()
    assert same.task_id == task.task_id and same.data["case_id"] == 7
    restored.complete_user_task(same.task_id, {"priority_checked": True, "needs_doctor": True})
    restored.advance()
    [doctor_task] = engine.restore(loaded, restored.serialize()).ready_user_tasks()
    assert doctor_task.lane == "Läkare" and doctor_task.data["needs_doctor"] is True
    assert not restored.completed


def test_a_kept_workflow_is_used_only_for_exactly_the_state_it_was_saved_as():
    engine = _engine()
    loaded = _loaded(engine, "simple_case.bpmn")
    handle = engine.start(loaded, {"case_id": 7})
    handle.advance()
    state = handle.serialize()
    engine.keep(7, handle)
    # Another state for the instance (written by another process, or this one rolled back): not used.
    other = engine.restore(loaded, state.replace('"case_id": 7', '"case_id": 8'), key=7)
    assert other._workflow is not handle._workflow and other.data["case_id"] == 8
    assert engine.restore(loaded, state, key=7)._workflow is not handle._workflow  # taken once: gone

    engine.keep(7, handle)
    kept = engine.restore(loaded, state, key=7)
    assert kept._workflow is handle._workflow
    [task] = kept.ready_user_tasks()
    kept.complete_user_task(task.task_id, {"priority_checked": True, "needs_doctor": True})
    kept.advance()
    assert json.loads(kept.serialize()) == json.loads(engine.restore(loaded, kept.serialize()).serialize())


def test_a_workflow_changed_since_its_save_or_not_equal_once_deserialized_is_not_kept():
    engine = _engine()
    loaded = _loaded(engine, "simple_case.bpmn")
    changed = engine.start(loaded, {"case_id": 7})
    state = changed.serialize()
    changed.advance()  # after the save: the saved state no longer describes it
    engine.keep(7, changed)
    assert engine.restore(loaded, state, key=7)._workflow is not changed._workflow

    for value in [(1, 2), {1: "a"}, {"deep": [1]}, [[1]]]:  # a tuple, an int key, nesting: not plain JSON
        odd = engine.start(loaded, {"case_id": 7, "value": value})
        odd.advance()
        state = odd.serialize()
        engine.keep(7, odd)
        assert engine.restore(loaded, state, key=7)._workflow is not odd._workflow, value


def test_the_spec_is_parsed_once_per_bundle_hash():
    engine = _engine()
    bundle = collect_bundle(FIXTURES / "bpmn" / "simple_case.bpmn", FIXTURES / "bpmn", FIXTURES / "forms")
    calls = []

    def load():
        calls.append(1)
        return bundle

    first = engine.loaded(bundle.content_hash, load)
    second = engine.loaded(bundle.content_hash, load)
    assert first is second and len(calls) == 1


def test_a_loop_in_the_token_flow_is_stopped_before_spiffworkflows_depth_traps():
    """SpiffWorkflow dies near depth 990 (RecursionError) and hides READY tasks at 1000; we stop at 400."""
    engine = _engine(max_depth=400, max_tasks=5_000)
    loaded = _loaded(engine, "endless_loop.bpmn")
    handle = engine.start(loaded, {"counter": 0})
    with pytest.raises(InstanceTooLarge, match="depth"):
        handle.advance()


def test_completion_is_judged_on_all_tasks_not_the_depth_limited_iterator():
    engine = _engine()
    loaded = _loaded(engine, "simple_case.bpmn")
    handle = engine.start(loaded, {})
    handle.advance()
    assert handle.completed is False
    [task] = handle.ready_user_tasks()
    handle.complete_user_task(task.task_id, {"needs_doctor": False, "priority_checked": True})
    handle.advance()
    # The non-interrupting timer still waits until the task it is attached to is done: done now.
    assert handle.completed is True
