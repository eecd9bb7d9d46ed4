"""Run deployed routines: start, restore, complete user tasks, deliver messages, fire timers.

`ProcessEngine` is built once per process (web or timer worker) and caches parsed specs by bundle
hash. `WorkflowHandle` wraps one BpmnWorkflow for one unit of work; nothing outside app.engine
sees a SpiffWorkflow object.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine import clock as engine_clock
from app.engine.bundle import Bundle
from app.engine.sandbox import SandboxEnvironment, SandboxViolation
from app.engine.serializer import InstanceSerializer
from app.engine.specs import LoadedSpec, UserTaskMeta, parse_bundle

OPEN_STATES = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


class EngineRefused(Exception):
    """The routine cannot take this action in its current state (e.g. the task is not ready)."""


class InstanceTooLarge(Exception):
    """The instance's task tree passed a guard rail; it is stopped before SpiffWorkflow's depth traps."""


class EngineFailure(Exception):
    """Advancing failed in a way that leaves no consistent state to keep; the action is rolled back."""

    def __init__(self, message: str, element_id: str | None = None, error_type: str | None = None):
        super().__init__(message)
        self.element_id = element_id
        self.error_type = error_type


@dataclass(frozen=True)
class StepIncident:
    """A task failed while advancing (script, expression or service error); the state before it is kept."""

    task_id: str
    element_id: str
    element_name: str
    error_type: str
    message: str


@dataclass(frozen=True)
class UserTaskView:
    task_id: str
    element_id: str
    name: str
    lane: str | None
    form_schema: str | None
    form_ui_schema: str | None
    rules: tuple[str, ...]
    data: dict
    guard: str | None = None
    duty: bool = False  # the overall responsible's task (see app.engine.specs.DUTY_PROPERTY)


@dataclass(frozen=True)
class TimerView:
    task_id: str
    element_id: str
    name: str
    due_at: datetime


@dataclass(frozen=True)
class TreeSize:
    tasks: int
    depth: int


class _ScriptEngine(PythonScriptEngine):
    """Spiff's script engine with our sandbox and a service-task registry behind `call_service`."""

    def __init__(
        self,
        environment: SandboxEnvironment,
        operators: Mapping[str, Any],
        caller_errors: tuple[type[BaseException], ...] = (),
    ):
        super().__init__(environment=environment)
        self.operators = operators
        self.caller_errors = caller_errors
        self.service_context: Any = None

    def call_service(self, task, operation_name=None, operation_params=None, **_kwargs):
        operator = self.operators.get(operation_name)
        if operator is None:
            raise WorkflowTaskException(f"unknown service operator '{operation_name}'", task=task)
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        try:
            result = operator.function(self.service_context, **params)
        except self.caller_errors:
            raise  # the action's, not the routine's: it rolls back whole (see ProcessEngine)
        except Exception as exc:
            raise WorkflowTaskException(
                f"service '{operation_name}' failed: {exc}", task=task, exception=exc
            ) from exc
        return json.dumps(result if result is not None else {}, default=str)


class ProcessEngine:
    """Parses and caches specs, and opens workflows on them. One per process; thread-safe."""

    def __init__(
        self,
        *,
        operators: Mapping[str, Any],
        script_globals: Mapping[str, Any] | None = None,
        time_budget_s: float = 0.5,
        size_budget: int = 1_000_000,
        max_tasks: int = 2_000,
        max_depth: int = 400,
        cache_size: int = 64,
        kept_workflows: int = 32,
        caller_errors: tuple[type[BaseException], ...] = (),
    ):
        engine_clock.install()
        self.operators = dict(operators)
        # Errors a service task may raise that belong to the action, not to the routine (a
        # colleague's change that won the race): they pass through unchanged and the whole action
        # rolls back, instead of leaving the task in ERROR as an incident.
        self.caller_errors = tuple(caller_errors)
        self.environment = SandboxEnvironment(
            dict(script_globals or {}), time_budget_s=time_budget_s, size_budget=size_budget
        )
        self.max_tasks = max_tasks
        self.max_depth = max_depth
        self._serializer = InstanceSerializer()
        self._cache: OrderedDict[str, LoadedSpec] = OrderedDict()
        self._cache_size = cache_size
        # Workflows whose committed state this process wrote last, by instance (see keep/restore).
        self._kept: OrderedDict[Any, tuple[str, LoadedSpec, BpmnWorkflow]] = OrderedDict()
        self._kept_size = kept_workflows
        self._lock = threading.Lock()

    def function_names(self) -> frozenset[str]:
        """The names process scripts and expressions can call (for the deploy checks)."""
        return self.environment.function_names()

    def loaded(self, content_hash: str, load_bundle: Callable[[], Bundle]) -> LoadedSpec:
        """The parsed spec for a bundle hash; `load_bundle` is only called on a cache miss."""
        with self._lock:
            hit = self._cache.get(content_hash)
            if hit is not None:
                self._cache.move_to_end(content_hash)
                return hit
        loaded = parse_bundle(load_bundle())
        with self._lock:
            self._cache[content_hash] = loaded
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return loaded

    def start(self, loaded: LoadedSpec, data: Mapping[str, Any] | None = None) -> WorkflowHandle:
        """A new workflow on `loaded`, with `data` as its start data; call advance() next."""
        workflow = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=self._script_engine())
        workflow.task_tree.data.update(dict(data or {}))
        for task in workflow.get_tasks(state=TaskState.READY):
            task.data.update(dict(data or {}))
        return WorkflowHandle(self, loaded, workflow)

    def restore(self, loaded: LoadedSpec, state: str, *, key: Any = None) -> WorkflowHandle:
        """The workflow saved as `state` (from WorkflowHandle.serialize) on its pinned spec.

        With `key`, a workflow `keep` holds under it is taken instead of deserializing, but only when
        it was serialized as exactly `state`: the state just read from the database decides, so a
        change by another process (or a rolled-back one) simply misses. Taken, it is no longer held."""
        workflow = None
        if key is not None:
            with self._lock:
                kept = self._kept.pop(key, None)
            if kept is not None and kept[1] is loaded and kept[0] == state:
                workflow = kept[2]
        if workflow is None:
            workflow = self._serializer.load(state, loaded.spec, loaded.subprocess_specs)
        workflow.script_engine = self._script_engine()
        return WorkflowHandle(self, loaded, workflow)

    def keep(self, key: Any, handle: WorkflowHandle) -> None:
        """Hold `handle`'s workflow for the next `restore(key=key)`. Call only once the state it was
        last serialized as is committed, and do not use the handle afterwards. Nothing is held if the
        workflow changed since, or if deserializing its state would not give an equal workflow."""
        state = handle._saved_state
        if state is None or not _round_trips(handle._workflow):
            return
        with self._lock:
            self._kept[key] = (state, handle.loaded, handle._workflow)
            self._kept.move_to_end(key)
            while len(self._kept) > self._kept_size:
                self._kept.popitem(last=False)

    def _script_engine(self) -> _ScriptEngine:
        return _ScriptEngine(self.environment, self.operators, self.caller_errors)


class WorkflowHandle:
    """One workflow during one unit of work."""

    def __init__(self, engine: ProcessEngine, loaded: LoadedSpec, workflow: BpmnWorkflow):
        self._engine = engine
        self.engine = engine
        self.loaded = loaded
        self._workflow = workflow
        self._size: TreeSize | None = None  # measured by advance(); any later change forgets it
        self._saved_state: str | None = None  # what serialize() returned; any later change forgets it

    def _changing(self) -> None:
        self._size = None
        self._saved_state = None

    def _caller_errors(self) -> tuple[type[BaseException], ...]:
        return self._engine.caller_errors

    # --- reading -------------------------------------------------------------------------------

    def _all_tasks(self) -> Iterator:
        # Flat iteration over the task dictionaries: unlike the tree iterator it has no depth
        # limit, so it cannot hide a READY task in a deep tree.
        yield from self._workflow.tasks.values()
        for subprocess in self._workflow.subprocesses.values():
            yield from subprocess.tasks.values()

    @property
    def completed(self) -> bool:
        """True only when no task anywhere is still open (never trusts the depth-limited iterator)."""
        return not any(task.has_state(OPEN_STATES) for task in self._all_tasks())

    def size(self) -> TreeSize:
        return self._size if self._size is not None else self._measure()

    def _measure(self) -> TreeSize:
        depth_of: dict[UUID, int] = {}
        deepest = 0
        count = 0
        for task in self._all_tasks():
            count += 1
            parent = task._parent
            depth = depth_of.get(parent, 0) + 1 if parent is not None else 0
            depth_of[task.id] = depth
            deepest = max(deepest, depth)
        return TreeSize(count, deepest)

    def ready_user_tasks(self) -> list[UserTaskView]:
        views = []
        for task in self._all_tasks():
            if task.state == TaskState.READY and task.task_spec.manual:
                views.append(self._view(task))
        return views

    def user_task(self, task_id: str) -> UserTaskView:
        return self._view(self._task(task_id))

    def _view(self, task) -> UserTaskView:
        meta = self.loaded.user_tasks.get(task.task_spec.bpmn_id) or UserTaskMeta(
            task.task_spec.bpmn_id,
            task.task_spec.bpmn_name or task.task_spec.bpmn_id,
            task.task_spec.lane,
            None,
            None,
        )
        return UserTaskView(
            str(task.id),
            meta.element_id,
            meta.name,
            meta.lane,
            meta.form_schema,
            meta.form_ui_schema,
            meta.rules,
            dict(task.data),
            meta.guard,
            meta.duty,
        )

    def timers(self) -> list[TimerView]:
        """Pending timers with their due time (the index the timer worker claims from)."""
        views = []
        for task in list(self._workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            if isinstance(definition, MultipleEventDefinition):
                # An event-based gateway holds its branches' event definitions and waits for them
                # itself; a timer among them keeps its due time on the gateway's task.
                definition = next(
                    (d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)), None
                )
            if not isinstance(definition, TimerEventDefinition) or not task.has_state(TaskState.WAITING):
                continue
            value = task.internal_data.get("event_value")
            if isinstance(value, dict):  # cycle timers keep their next firing under 'next'
                value = value.get("next") if value.get("cycles") != 0 else None
            if not value:
                continue
            due = datetime.fromisoformat(value)
            due = due.replace(tzinfo=UTC) if due.tzinfo is None else due.astimezone(UTC)
            views.append(
                TimerView(
                    str(task.id),
                    task.task_spec.bpmn_id,
                    task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                    due,
                )
            )
        return views

    def open_work(self) -> tuple[dict[str, datetime | None], list[TimerView]]:
        """What people and time wait for, in one pass: each ready user task with its deadline (the
        earliest timer attached to it, or None), and the pending timers."""
        timers = self.timers()
        timers_by_id = {timer.task_id: timer.due_at for timer in timers}
        ready: dict[str, datetime | None] = {}
        for task in self._all_tasks():
            if task.state != TaskState.READY or not task.task_spec.manual:
                continue
            dues = (
                [
                    timers_by_id[str(sibling.id)]
                    for sibling in task.parent.children
                    if str(sibling.id) in timers_by_id
                ]
                if task.parent is not None and timers_by_id
                else []
            )
            ready[str(task.id)] = min(dues) if dues else None
        return ready, timers

    def boundary_deadlines(self) -> dict[str, datetime]:
        """For each ready user task, the earliest due time of a timer attached to it (its deadline)."""
        timers_by_id = {timer.task_id: timer.due_at for timer in self.timers()}
        deadlines: dict[str, datetime] = {}
        for task in self._all_tasks():
            if task.state != TaskState.READY or not task.task_spec.manual or task.parent is None:
                continue
            # SpiffWorkflow puts a task with boundary events under a split whose other children are
            # the boundary events themselves.
            dues = [
                timers_by_id[str(sibling.id)]
                for sibling in task.parent.children
                if str(sibling.id) in timers_by_id
            ]
            if dues:
                deadlines[str(task.id)] = min(dues)
        return deadlines

    def waiting_messages(self) -> list[str]:
        names = []
        for task in list(self._workflow.event_manager.tasks.values()):
            definition = task.task_spec.event_definition
            if isinstance(definition, MessageEventDefinition) and task.has_state(TaskState.WAITING):
                names.append(definition.name)
        return names

    def element_states(self) -> dict[str, str]:
        """The latest state of each BPMN element: 'completed', 'active', 'waiting' or 'error'."""
        rank = {"completed": 0, "waiting": 1, "active": 2, "error": 3}
        states: dict[str, str] = {}
        for task in self._all_tasks():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if bpmn_id is None:
                continue
            if task.state == TaskState.COMPLETED:
                state = "completed"
            elif task.state in (TaskState.READY, TaskState.STARTED):
                state = "active"
            elif task.state == TaskState.WAITING:
                state = "waiting"
            elif task.state == TaskState.ERROR:
                state = "error"
            else:
                continue
            if rank[state] >= rank.get(states.get(bpmn_id, "completed"), 0):
                states[bpmn_id] = state
        return states

    @property
    def data(self) -> dict:
        """The data of the most recently completed task (the instance's current variables)."""
        last = self._workflow.last_task
        return dict(last.data) if last is not None else dict(self._workflow.task_tree.data)

    # --- acting --------------------------------------------------------------------------------

    def complete_user_task(self, task_id: str, data: Mapping[str, Any]) -> None:
        self._changing()
        task = self._task(task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise EngineRefused(f"task '{task.task_spec.bpmn_name}' is not waiting for completion")
        task.data.update(dict(data))
        try:
            task.run()
        except (WorkflowTaskException, SandboxViolation) as exc:
            raise EngineFailure(_error_message(exc), task.task_spec.bpmn_id, type(exc).__name__) from exc
        except (EngineFailure, InstanceTooLarge, *self._caller_errors()):
            raise
        except Exception as exc:  # SpiffWorkflow raises bare exceptions too (e.g. 'Invalid duration')
            element_id = _failed_element(exc) or task.task_spec.bpmn_id
            raise EngineFailure(_error_message(exc), element_id, type(exc).__name__) from exc

    def send_message(
        self,
        name: str,
        payload: Mapping[str, Any] | None = None,
        correlations: Mapping[str, Any] | None = None,
    ) -> None:
        self._changing()
        event = BpmnEvent(MessageEventDefinition(name), dict(payload or {}), dict(correlations or {}))
        try:
            self._workflow.send_event(event)
        except WorkflowException as exc:
            raise EngineRefused(f"the routine is not waiting for the message '{name}'") from exc
        except (EngineFailure, InstanceTooLarge, *self._caller_errors()):
            raise
        except Exception as exc:  # a bare exception from SpiffWorkflow while the message is caught
            raise EngineFailure(_error_message(exc), _failed_element(exc), type(exc).__name__) from exc

    def cancel(self) -> None:
        self._changing()
        self._workflow.cancel()

    def retry_failed(self) -> list[str]:
        """Put every task in ERROR back to READY (after an incident was fixed); returns element ids."""
        self._changing()
        retried = []
        for task in list(self._all_tasks()):
            if task.state == TaskState.ERROR:
                self._workflow.reset_from_task_id(task.id)
                retried.append(task.task_spec.bpmn_id)
        return retried

    def advance(self, service_context: Any = None) -> StepIncident | None:
        """Run engine steps and refresh timers until only people or time can move the routine.

        A task that fails (script, expression, service) stays in ERROR and is returned as a
        StepIncident: the state up to it is consistent and may be saved. Anything else that goes
        wrong raises EngineFailure so the caller rolls the whole action back.
        """
        # No size check before: a saved state passed the one below when it was saved.
        self._changing()
        script_engine = self._workflow.script_engine
        script_engine.service_context = service_context
        incident = None
        try:
            # Timers that came due since the last save must fire first: do_engine_steps only
            # refreshes timers at its very end, after it has stopped running what follows them.
            self._workflow.refresh_timers()
            self._workflow.do_engine_steps(did_complete_task=self._guard_growth)
        except WorkflowTaskException as exc:
            task = exc.task
            incident = StepIncident(
                str(task.id),
                task.task_spec.bpmn_id,
                task.task_spec.bpmn_name or task.task_spec.bpmn_id,
                getattr(exc, "error_type", type(exc).__name__),
                _error_message(exc),
            )
        except SandboxViolation as exc:
            raise EngineFailure(_error_message(exc), None, type(exc).__name__) from exc
        except (SpiffWorkflowException, RecursionError) as exc:
            raise EngineFailure(_error_message(exc), None, type(exc).__name__) from exc
        except (EngineFailure, InstanceTooLarge, *self._caller_errors()):
            raise
        except Exception as exc:
            # SpiffWorkflow also raises bare exceptions (a timer value it cannot parse raises
            # Exception('Invalid duration')): they fail the step like any engine error, so the
            # caller records an incident instead of answering with a server error.
            raise EngineFailure(_error_message(exc), _failed_element(exc), type(exc).__name__) from exc
        finally:
            script_engine.service_context = None
        self._check_size()  # also when the step ended in an incident: that state is saved too
        return incident

    def _guard_growth(self, task) -> None:
        # Checked after every engine step, so a loop in the token flow is stopped well before
        # SpiffWorkflow's own traps (RecursionError near depth 990, hidden READY tasks at 1000).
        if len(self._workflow.tasks) > self._engine.max_tasks:
            self._check_size()
        depth, node = 0, task
        while node.parent is not None and depth <= self._engine.max_depth:
            node, depth = node.parent, depth + 1
        if depth > self._engine.max_depth:
            self._check_size()

    def _check_size(self) -> None:
        size = self._size = self._measure()  # kept for save(); the next change forgets it
        if size.tasks > self._engine.max_tasks or size.depth > self._engine.max_depth:
            raise InstanceTooLarge(
                f"the instance has {size.tasks} tasks at depth {size.depth} (limits {self._engine.max_tasks} / {self._engine.max_depth}); "
                "a routine that repeats without bound must keep the repetition in domain rows, not in the token flow"
            )

    def serialize(self) -> str:
        self._saved_state = self._engine._serializer.dump(self._workflow)
        return self._saved_state

    def _task(self, task_id: str):
        try:
            return self._workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, WorkflowException) as exc:
            raise EngineRefused(f"no task {task_id} in this instance") from exc


_JSON_SCALARS = frozenset((str, int, float, bool, type(None)))
_STR = frozenset((str,))


def _round_trips(workflow: BpmnWorkflow) -> bool:
    """Would deserializing this workflow's state give an equal workflow? Only when every task's data
    holds plain JSON values no deeper than one list or dict, none of them shared: a tuple comes back
    a list, a datetime loses its zone, a dropped callable is gone, and objects two names share (or
    nested ones SpiffWorkflow's data merge shares) come back apart. Anything else: not kept."""
    if workflow.bpmn_events or workflow.correlations:
        return False
    seen: set[int] = set()

    def plain(data: Any) -> bool:
        if type(data) is not dict or id(data) in seen or not _STR.issuperset(map(type, data)):
            return False
        seen.add(id(data))
        if _JSON_SCALARS.issuperset(map(type, data.values())):  # the usual case, checked in one pass
            return True
        for value in data.values():
            kind = type(value)
            if kind in _JSON_SCALARS:
                continue
            if kind is dict:
                if not _STR.issuperset(map(type, value)):
                    return False
                items = value.values()
            elif kind is list:
                items = value
            else:
                return False
            if id(value) in seen or not _JSON_SCALARS.issuperset(map(type, items)):
                return False
            seen.add(id(value))
        return True

    for flow in (workflow, *workflow.subprocesses.values()):
        if flow.correlations or not plain(flow.data):
            return False
        for task in flow.tasks.values():
            if not (plain(task.data) and plain(task.internal_data)):
                return False
    return True


def _failed_element(exc: BaseException) -> str | None:
    """The BPMN id of the task SpiffWorkflow was working on when `exc` was raised, if any."""
    element_id = None
    traceback = exc.__traceback__
    while traceback is not None:  # outermost frame first: the innermost task wins
        for name in ("my_task", "task"):
            candidate = traceback.tb_frame.f_locals.get(name)
            if isinstance(candidate, Task):
                element_id = getattr(candidate.task_spec, "bpmn_id", None) or element_id
                break
        traceback = traceback.tb_next
    return element_id


def _error_message(exc: BaseException) -> str:
    text = str(exc)
    original = getattr(exc, "__cause__", None) or getattr(exc, "exception", None)
    if original is not None and str(original) and str(original) not in text:
        text = f"{text}: {original}"
    return text[:2000]
