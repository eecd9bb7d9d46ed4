"""Read-only aggregates for the control tower: open cases by priority and state, the checks' counts,
the region's units side by side, and where cases stand on each diagram (the heatmap).

Counts name no patient; the case lists of a check (`check_rows`) do, and their caller logs the read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from app import calendar, clock
from app.calendar.zone import start_of_day
from app.cases.models import OPEN_CASE_STATES, Case, CaseState
from app.control_tower import checks
from app.instances.models import HumanTask, PendingTimer, ProcessInstance, TimerKind
from app.people.calendars import served_unit_ids, unit_calendar
from app.people.models import Unit
from app.people.staffing import WARNING_HORIZON_DAYS, Gap, OnShift, on_shift
from app.process_models.models import ProcessModel, ProcessVersion
from app.process_models.service import load_bundle


@dataclass(frozen=True)
class Check:
    key: str
    rules: tuple[str, ...]
    run: Callable[..., list[checks.CaseRow]]


# The checks whose case lists the tower shows, in the order the overall responsible works them.
CHECKS: dict[str, Check] = {
    c.key: c
    for c in (
        Check("urgent", ("OG-10.1-h",), checks.og_10_1_h_urgent_without_action),
        Check("absent-owner", ("OG-10.1-b", "OG-6.1-j"), checks.og_10_1_b_absent_owner_cases),
        Check("unheld-role", ("OG-10.1-e",), checks.og_10_1_e_unheld_role_queue),
        Check("handed-over", ("OG-10.1-f",), checks.og_10_1_f_handed_over_not_taken),
        Check("past-deadline", ("OG-10.1-b",), checks.past_deadline),
        Check("closable", ("OG-10.1-b",), checks.closable_now),
    )
}


def check_rows(session: Session, *, key: str, unit_id: int, day: date | None) -> list[checks.CaseRow]:
    """The cases one check finds at the unit (identifying: log the read)."""
    return CHECKS[key].run(session, unit_id=unit_id, day=day)


@dataclass(frozen=True)
class Cell:
    count: int
    oldest: datetime | None


@dataclass
class UnitOverview:
    unit_id: int
    unit_name: str
    now: datetime
    day: date | None
    by_priority: dict[int | None, dict[str, Cell]]  # priority → state → count and oldest submission
    states: tuple[str, ...]
    duty: checks.DutyNow
    gaps: list[Gap]
    staff: list[OnShift]
    counts: dict[str, int]
    untreated_today: int
    load: checks.Load
    total_open: int = 0
    diagrams: list[DiagramLoad] = field(default_factory=list)


STATES = tuple(
    state.value for state in (CaseState.NEW, CaseState.RECEIVED, CaseState.STARTED, CaseState.HANDED_OVER)
)


def open_by_priority(
    session: Session, *, unit_id: int, day: date | None = None, with_covered: bool = False
) -> dict[int | None, dict[str, Cell]]:
    """Open cases of the unit by priority and state, with the longest wait (from submission); with
    the cases of the units it keeps the service open for today when `with_covered` (OG-9.2)."""
    units = served_unit_ids(session, unit_id) if with_covered else [unit_id]
    query = select(Case.priority, Case.state, func.count(Case.id), func.min(Case.submitted_at)).where(
        Case.unit_id.in_(units), Case.state.in_(list(OPEN_CASE_STATES))
    )
    if day is not None:
        query = query.where(
            Case.submitted_at >= start_of_day(day), Case.submitted_at < start_of_day(day + timedelta(days=1))
        )
    table: dict[int | None, dict[str, Cell]] = {}
    for priority, state, count, oldest in session.execute(query.group_by(Case.priority, Case.state)):
        table.setdefault(priority, {})[CaseState(state).value] = Cell(count, oldest)
    return dict(sorted(table.items(), key=lambda item: (item[0] is None, item[0] or 0)))


def unit_overview(session: Session, *, unit_id: int, day: date | None = None) -> UnitOverview:
    """Everything the unit's tower shows at a glance (no patient named)."""
    now = clock.now()
    unit = session.get(Unit, unit_id)
    table = open_by_priority(session, unit_id=unit_id, day=day, with_covered=True)
    counts = {key: len(check.run(session, unit_id=unit_id, day=day)) for key, check in CHECKS.items()}
    today = calendar.local_date(now)
    overview = UnitOverview(
        unit_id=unit.id,
        unit_name=unit.name,
        now=now,
        day=day,
        by_priority=table,
        states=STATES,
        duty=checks.og_10_1_a_duty_now(session, unit_id=unit_id, at=now),
        gaps=_gaps_ahead(session, unit_id=unit_id, first=day or today),
        staff=on_shift(session, unit_id=unit_id, at=now),
        counts=counts,
        untreated_today=len(checks.ha_day_end_untreated(session, unit_id=unit_id, day=day or today)),
        load=checks.og_9_1_load(session, unit_id=unit_id, at=now),
    )
    overview.total_open = sum(cell.count for row in table.values() for cell in row.values())
    overview.diagrams = diagram_loads(session, unit_id=unit_id)
    return overview


def _gaps_ahead(session: Session, *, unit_id: int, first: date) -> list[Gap]:
    """HA-chat-staff: opening hours without a named chat responsible, the day shown and the days after
    it that the schedule warnings cover (a gap tomorrow is the one still to be filled)."""
    return [
        gap
        for offset in range(WARNING_HORIZON_DAYS)
        for gap in checks.ha_chat_staff_gaps(session, unit_id=unit_id, day=first + timedelta(days=offset))
    ]


@dataclass(frozen=True)
class UnitSummary:
    unit_id: int
    name: str
    open_cases: int
    urgent: int
    oldest: datetime | None
    duty_holder: str | None
    gap_now: bool
    absent_owner: int
    unheld_role: int
    high_load: bool
    covered_by: str | None = None  # today another unit keeps its service open: counted in that unit's row


def region_overview(session: Session, *, region_id: int) -> list[UnitSummary]:
    """The region's activated units side by side (counts only: the region view names no patient).

    Each case is counted once, in the row of the unit whose staff handle it today: on a day another
    unit keeps a unit's service open (OG-9.2) the covering unit's row counts the covered unit's cases
    too, as its own tower does, and the covered unit's row only says who covers it."""
    today = calendar.local_date(clock.now())
    summaries = []
    for unit in session.scalars(
        select(Unit).where(Unit.region_id == region_id, Unit.activated.is_(True)).order_by(Unit.name)
    ):
        covering_id = unit_calendar(session, unit.id).covering_unit_on(today)
        if covering_id is not None and covering_id != unit.id:
            summaries.append(_covered_summary(session, unit, covering_id))
            continue
        table = open_by_priority(session, unit_id=unit.id, with_covered=True)
        cells = [cell for row in table.values() for cell in row.values()]
        urgent = sum(
            cell.count
            for priority, row in table.items()
            if priority in checks.URGENT_PRIORITIES
            for cell in row.values()
        )
        oldest = min((c.oldest for c in cells if c.oldest), default=None)
        duty = checks.og_10_1_a_duty_now(session, unit_id=unit.id)
        summaries.append(
            UnitSummary(
                unit.id, unit.name, sum(c.count for c in cells), urgent, oldest,
                duty.holder.name if duty.holder else None, duty.gap_now,
                len(checks.og_10_1_b_absent_owner_cases(session, unit_id=unit.id)),
                len(checks.og_10_1_e_unheld_role_queue(session, unit_id=unit.id)),
                checks.og_9_1_load(session, unit_id=unit.id).high,
            )
        )  # fmt: skip
    return summaries


def _covered_summary(session: Session, unit: Unit, covering_id: int) -> UnitSummary:
    """A unit whose service another unit keeps open today: its cases are in the covering unit's row."""
    covering = session.get(Unit, covering_id)
    return UnitSummary(
        unit.id,
        unit.name,
        0,
        0,
        None,
        None,
        False,
        0,
        0,
        False,
        covered_by=covering.name if covering else "?",
    )


# --- the heatmap -------------------------------------------------------------------------------


@dataclass
class DiagramLoad:
    version_id: int
    process_id: str
    name: str
    number: int
    total: int
    elements: dict[str, int]  # element id → cases standing there now (open tasks and waiting timers)
    titles: dict[str, str]


def diagram_loads(
    session: Session,
    *,
    unit_id: int | None = None,
    region_id: int | None = None,
    version_id: int | None = None,
) -> list[DiagramLoad]:
    """How many cases stand at each element of each process version now, from the task projection
    (open user tasks) and the timer index (waiting timer events), for one unit or one region's units."""
    if unit_id is None and region_id is None:
        raise ValueError("diagram loads are counted for a unit or a region, never for every region")
    if unit_id is not None:
        on_tasks = [HumanTask.unit_id == unit_id]
        on_timers = [ProcessInstance.unit_id == unit_id]
    else:
        region_units = select(Unit.id).where(Unit.region_id == region_id)
        on_tasks = [HumanTask.unit_id.in_(region_units)]
        on_timers = [ProcessInstance.unit_id.in_(region_units)]
    if version_id is not None:
        on_tasks.append(HumanTask.process_version_id == version_id)
        on_timers.append(ProcessInstance.process_version_id == version_id)
    on_timers.append(PendingTimer.kind == TimerKind.BPMN)
    tasks = (
        select(
            HumanTask.process_version_id,
            HumanTask.element_id,
            HumanTask.title,
            func.count(func.distinct(HumanTask.instance_id)),
        )
        .where(*on_tasks)
        .group_by(HumanTask.process_version_id, HumanTask.element_id, HumanTask.title)
    )
    timers = (
        select(
            ProcessInstance.process_version_id,
            PendingTimer.element_id,
            func.count(func.distinct(PendingTimer.instance_id)),
        )
        .join(ProcessInstance, ProcessInstance.id == PendingTimer.instance_id)
        .where(*on_timers)
        .group_by(ProcessInstance.process_version_id, PendingTimer.element_id)
    )
    # A case may stand at two elements at once (a deadline's task beside the handling, a parallel
    # branch): each element counts it, the version's total counts it once.
    standing = union(
        select(HumanTask.process_version_id.label("version_id"), HumanTask.instance_id).where(*on_tasks),
        select(ProcessInstance.process_version_id, PendingTimer.instance_id)
        .join(ProcessInstance, ProcessInstance.id == PendingTimer.instance_id)
        .where(*on_timers),
    ).subquery()
    totals = dict(
        session.execute(
            select(standing.c.version_id, func.count(func.distinct(standing.c.instance_id))).group_by(
                standing.c.version_id
            )
        ).all()
    )
    per_version: dict[int, tuple[dict[str, int], dict[str, str]]] = {}
    for vid, element, title, count in session.execute(tasks):
        elements, titles = per_version.setdefault(vid, ({}, {}))
        elements[element] = elements.get(element, 0) + count
        titles[element] = title
    for vid, element, count in session.execute(timers):
        elements, _titles = per_version.setdefault(vid, ({}, {}))
        elements[element] = elements.get(element, 0) + count
    if not per_version:
        return []
    versions = session.execute(
        select(ProcessVersion, ProcessModel)
        .join(ProcessModel, ProcessModel.id == ProcessVersion.process_model_id)
        .where(ProcessVersion.id.in_(per_version))
    )
    result = []
    for version, model in versions:
        elements, titles = per_version[version.id]
        result.append(
            DiagramLoad(
                version.id,
                model.process_id,
                model.name,
                version.number,
                totals.get(version.id, 0),
                dict(sorted(elements.items())),
                titles,
            )
        )
    return sorted(result, key=lambda d: (d.name, d.number))


def diagram_xml(session: Session, *, version_id: int) -> str:
    """The BPMN XML of a deployed version, for the heatmap's viewer."""
    from app.errors import NotFound

    version = session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound("Processversionen finns inte.")
    return load_bundle(session, version.bundle_hash).entry_text
