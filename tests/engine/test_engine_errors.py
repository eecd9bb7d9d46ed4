"""A bare exception from SpiffWorkflow while a step runs is an EngineFailure naming the element.

SpiffWorkflow raises plain exceptions in places (a timer value it cannot parse raises
`Exception('Invalid duration')`); they must reach the caller as an engine failure, which becomes an
incident, never as an uncaught error.
"""

from __future__ import annotations

from uuid import UUID

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from app.engine import EngineFailure, InstanceTooLarge, ProcessEngine, collect_bundle
from tasks.registry import registered_operators
from tests.factories import FIXTURES


def _start(engine: ProcessEngine):
    bundle = collect_bundle(FIXTURES / "bpmn" / "simple_case.bpmn", FIXTURES / "bpmn", FIXTURES / "forms")
    return engine.start(engine.loaded(bundle.content_hash, lambda: bundle), {"case_id": 1})


def _invalid_duration(expression):
    raise Exception("Invalid duration")  # what SpiffWorkflow 3.2 raises for an unparseable duration


def test_a_timer_spiffworkflow_cannot_parse_fails_the_step_as_an_engine_failure(monkeypatch):
    monkeypatch.setattr(TimerEventDefinition, "parse_iso_duration", staticmethod(_invalid_duration))
    handle = _start(ProcessEngine(operators=registered_operators()))
    with pytest.raises(EngineFailure) as failed:
        handle.advance()
    assert (failed.value.element_id, failed.value.error_type, str(failed.value)) == (
        "Timer_remind",
        "Exception",
        "Invalid duration",
    )


def test_a_bare_exception_while_completing_a_user_task_is_an_engine_failure(monkeypatch):
    handle = _start(ProcessEngine(operators=registered_operators()))
    handle.advance()
    [view] = handle.ready_user_tasks()
    task = handle._workflow.get_task_from_id(UUID(view.task_id))

    def broken(my_task):
        raise KeyError("lost")

    monkeypatch.setattr(task.task_spec, "_on_complete_hook", broken)
    with pytest.raises(EngineFailure) as failed:
        handle.complete_user_task(view.task_id, {"needs_doctor": False, "priority_checked": True})
    assert (failed.value.element_id, failed.value.error_type) == ("Task_receive", "KeyError")


def test_the_guard_rail_is_still_its_own_error():
    engine = ProcessEngine(operators=registered_operators(), max_depth=400, max_tasks=5_000)
    bundle = collect_bundle(FIXTURES / "bpmn" / "endless_loop.bpmn", FIXTURES / "bpmn", FIXTURES / "forms")
    handle = engine.start(engine.loaded(bundle.content_hash, lambda: bundle), {"counter": 0})
    with pytest.raises(InstanceTooLarge):
        handle.advance()


class _ColleagueWon(Exception):
    """Stands for the product's Conflict: the action's error, not the routine's."""


def test_an_error_of_the_action_raised_by_a_service_task_passes_through_and_leaves_no_incident():
    """A service task that meets a colleague's change (a Conflict in the product) raises it through
    `advance` unchanged, so the whole action rolls back as a 409; any other error of the task stays
    the routine's: an incident on the task."""
    from tasks.registry import ServiceOperator

    def flaky(context, fail):
        raise _ColleagueWon("someone else changed the case") if fail else RuntimeError("a real fault")

    bundle = collect_bundle(FIXTURES / "bpmn" / "service_step.bpmn", FIXTURES / "bpmn", FIXTURES / "forms")
    for fail, expected in ((True, "passes through"), (False, "incident")):
        engine = ProcessEngine(
            operators={"test_flaky": ServiceOperator("test_flaky", flaky, "test", ("fail",))},
            caller_errors=(_ColleagueWon,),
        )
        handle = engine.start(engine.loaded(bundle.content_hash, lambda: bundle), {"should_fail": fail})
        handle.advance()
        [view] = handle.ready_user_tasks()
        handle.complete_user_task(view.task_id, {})
        if expected == "passes through":
            with pytest.raises(_ColleagueWon):
                handle.advance()
        else:
            incident = handle.advance()
            assert (
                incident is not None
                and incident.element_id == "Service_call"
                and "a real fault" in incident.message
            )


@pytest.mark.timeout(120)
def test_a_duration_from_task_data_past_the_year_9999_fails_at_once_instead_of_being_counted_out():
    """SpiffWorkflow counts years out month by month: 'P2000000Y' held the step for seconds (more
    years, minutes), outside any script's budget."""
    import time

    from tests.engine.test_timer_expressions import _bundle, _with_timer

    engine = ProcessEngine(operators=registered_operators())
    bundle = _bundle(_with_timer("'P' + str(years) + 'Y'"))
    loaded = engine.loaded(bundle.content_hash, lambda: bundle)
    handle = engine.start(loaded, {"case_id": 1, "years": 2_000_000})
    started = time.monotonic()
    with pytest.raises(EngineFailure) as failed:
        handle.advance()
    assert time.monotonic() - started < 5
    assert (failed.value.element_id, str(failed.value)) == (
        "Timer_remind",
        "the timer's duration reaches past the year 9999",
    )
    ordinary = engine.start(loaded, {"case_id": 1, "years": 1})
    assert ordinary.advance() is None and [t.element_id for t in ordinary.timers()] == ["Timer_remind"]
