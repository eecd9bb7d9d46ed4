"""Read-only worklist queries over the human-task projection (Patientliggaren).

The list's cases come only from `human_task` (the projection carries every case field it sorts,
filters and shows); besides it, only small staff-side facts are read: the owners' names, who is
present and who holds the duty (people), the unit's closing time (its cached calendar) and the
inbox count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, distinct, false, func, or_, select, true
from sqlalchemy.orm import Session

from app import calendar, clock
from app.audit.service import Actor
from app.cases.ack import inbox
from app.cases.permissions import require_case_reader
from app.instances.models import HumanTask
from app.people.calendars import served_unit_ids, unit_calendar
from app.people.models import Unit, User
from app.people.service import duty_holder, present_users
from app.worklist.filters import PAGE_SIZE, SCOPES, ListFilter, day_bounds, local_today

# Case states in which handling has begun: the resident has been told (OG-6.1-c), so the case is
# ongoing and comes before new cases of the same priority (OG-10.1-g).
ONGOING_STATES = ("received", "started", "handed_over")
# HA-day-end: this long before the unit becomes unstaffed, the list reminds everyone to review today's cases.
DAY_END_NOTICE = timedelta(hours=1)


def _case_roles(actor: Actor) -> list[str]:
    return [r for r in actor.roles if not r.startswith("duty:")]


def _scope(actor: Actor, scope: str):
    if scope == "mine":
        return HumanTask.owner_user_id == actor.user_id
    if scope == "roles":
        return or_(HumanTask.role.in_(_case_roles(actor)), HumanTask.owner_user_id == actor.user_id)
    return true()


def _conditions(view: ListFilter, *, role: bool = True, day: bool = True, answered: bool = True) -> list:
    """The filters other than scope; each may be left out (to count what choosing it would show)."""
    conditions = []
    if role and view.role:
        conditions.append(HumanTask.role == view.role)
    if day and view.day is not None:
        start, end = day_bounds(view.day)
        conditions.append(HumanTask.waiting_since >= start)
        conditions.append(HumanTask.waiting_since < end)
    elif day and view.day_invalid:
        conditions.append(false())  # a date that is no date shows nothing rather than everything
    if answered and view.answered:
        conditions.append(HumanTask.patient_answered.is_(True))
    return conditions


def handling_order(sort: str = "prio") -> list:
    """ORDER BY for the list.

    prio (default, HA-prio-a, OG-6.1-a, OG-9): priority 1 first; within a priority, ongoing cases
    before new ones (OG-10.1-g); then the longest waiting. Administrative cases and tasks without a
    case carry no priority (OG-7-d) and come after. "answered" puts cases whose patient has answered
    first, then the same order; "waiting" is the longest waiting first, whatever the priority.
    """
    ongoing_first = case((HumanTask.case_state.in_(ONGOING_STATES), 0), else_=1)
    by_priority = [
        case((HumanTask.priority.is_(None), 1), else_=0),
        HumanTask.priority,
        ongoing_first,
        HumanTask.waiting_since,
        HumanTask.id,
    ]
    if sort == "waiting":
        return [HumanTask.waiting_since, HumanTask.id]
    if sort == "answered":
        return [case((HumanTask.patient_answered.is_(True), 0), else_=1), *by_priority]
    return by_priority


@dataclass(frozen=True)
class Counts:
    """How many cases each choice would show, given the other filters in force (the choices name
    cases: a case past its same-day deadline has two open tasks, and counts once)."""

    scopes: dict[str, int]  # cases
    tasks: int  # the open tasks the chosen view lists (its rows, paged)
    answered: int  # cases in the chosen scope, with the answered filter on
    today: int  # cases in the chosen scope, on today's date
    earlier: int  # in the chosen scope, from before the chosen date (0 without a date)
    my_answered: int  # the owner's own cases whose patient has answered (the in-app notice)
    unit_today: int = 0  # the whole unit's open tasks of cases that came in today (HA-day-end)
    roles: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class DutyNotice:
    """Who holds the overall-responsible duty (OG-10.1-a) and, for the holder, cases on absent owners (OG-6.1-j)."""

    holder_name: str | None  # None: nobody holds it, a gap the page warns about
    i_hold: bool
    absent_owned: int  # cases of the unit owned by someone not present (counted for the holder only)


@dataclass(frozen=True)
class PatientList:
    rows: list[HumanTask]
    owners: dict[int, str]
    counts: Counts
    inbox_count: int
    view: ListFilter
    today: date
    duty: DutyNotice
    absent_owner_ids: frozenset[int] = frozenset()  # owners of shown rows who are not present
    closes_at: datetime | None = None  # the unit becomes unstaffed within DAY_END_NOTICE (HA-day-end)
    # OG-9.2: the units this one keeps the service open for today, by id → name; their rows are labelled.
    covered_units: dict[int, str] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.counts.tasks

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def first_shown(self) -> int:
        return (self.view.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.view.page - 1) * PAGE_SIZE + len(self.rows)

    @property
    def patient_ids(self) -> list[int]:
        return [row.patient_id for row in self.rows if row.patient_id is not None]


def _served(session: Session, actor: Actor) -> list[int]:
    """The acting unit and the units it keeps the service open for today (OG-9.2)."""
    return served_unit_ids(session, actor.unit_id, local_today(clock.now()))


def _counts(session: Session, actor: Actor, view: ListFilter, today, served: list[int]) -> Counts:
    unit = HumanTask.unit_id.in_(served)
    scope = _scope(actor, view.scope)
    everything = _conditions(view)
    today_start, today_end = day_bounds(today)
    # A task of no case (a routine's own task) counts as one of its own.
    cases = func.count(distinct(func.coalesce(HumanTask.case_id, -HumanTask.id)))
    columns = [cases.filter(and_(_scope(actor, s), *everything)).label(s) for s in SCOPES]
    columns.append(func.count().filter(and_(scope, *everything)).label("tasks"))
    columns.append(
        cases.filter(
            and_(scope, *_conditions(view, answered=False), HumanTask.patient_answered.is_(True))
        ).label("answered")
    )
    columns.append(
        cases.filter(
            and_(
                scope,
                *_conditions(view, day=False),
                HumanTask.waiting_since >= today_start,
                HumanTask.waiting_since < today_end,
            )
        ).label("today")
    )
    if view.day is not None:
        start, _end = day_bounds(view.day)
        columns.append(
            func.count()
            .filter(and_(scope, *_conditions(view, day=False), HumanTask.waiting_since < start))
            .label("earlier")
        )
    else:
        columns.append(func.count().filter(false()).label("earlier"))
    columns.append(
        cases.filter(
            and_(HumanTask.owner_user_id == actor.user_id, HumanTask.patient_answered.is_(True))
        ).label("my_answered")
    )
    columns.append(
        func.count()
        .filter(and_(HumanTask.waiting_since >= today_start, HumanTask.waiting_since < today_end))
        .label("unit_today")
    )
    row = session.execute(select(*columns).where(unit)).one()
    roles = dict(
        session.execute(
            select(HumanTask.role, func.count())
            .where(unit, scope, *_conditions(view, role=False))
            .group_by(HumanTask.role)
        ).all()
    )
    return Counts(
        scopes={s: getattr(row, s) for s in SCOPES},
        tasks=row.tasks,
        answered=row.answered,
        today=row.today,
        earlier=row.earlier,
        my_answered=row.my_answered,
        unit_today=row.unit_today,
        roles={(r.value if r is not None else ""): n for r, n in roles.items()},
    )


def patient_list(session: Session, *, actor: Actor, view: ListFilter) -> PatientList:
    """One page of the acting unit's open tasks as the user filtered and sorted them, with the counts.

    Only for roles that read the unit's cases: every scope counts the whole unit, and "unit" lists it.
    On a day the unit keeps the service open for another (OG-9.2), that unit's tasks are listed too.
    """
    require_case_reader(actor)
    today = local_today(clock.now())
    served = _served(session, actor)
    counts = _counts(session, actor, view, today, served)
    pages = max(1, -(-counts.tasks // PAGE_SIZE))
    if view.page > pages:
        view = replace(view, page=pages)
    query = (
        select(HumanTask)
        .where(HumanTask.unit_id.in_(served), _scope(actor, view.scope), *_conditions(view))
        .order_by(*handling_order(view.sort))
        .limit(PAGE_SIZE)
        .offset((view.page - 1) * PAGE_SIZE)
    )
    rows = list(session.scalars(query))
    owner_ids = {row.owner_user_id for row in rows if row.owner_user_id is not None}
    owners = {}
    if owner_ids:
        owners = {
            uid: f"{given} {family}"
            for uid, given, family in session.execute(
                select(User.id, User.given_name, User.family_name).where(User.id.in_(owner_ids))
            )
        }
    present = {user.id for user in present_users(session, actor.unit_id)}
    duty = _duty_notice(session, actor=actor, present=present)
    return PatientList(
        rows,
        owners,
        counts,
        len(inbox(session, actor=actor)),
        view,
        today,
        duty,
        frozenset(owner_ids - present),
        _closing_soon(session, unit_id=actor.unit_id),
        _unit_names(session, served[1:]),
    )


def _unit_names(session: Session, unit_ids: list[int]) -> dict[int, str]:
    if not unit_ids:
        return {}
    return dict(session.execute(select(Unit.id, Unit.name).where(Unit.id.in_(unit_ids))).all())


def _closing_soon(session: Session, *, unit_id: int) -> datetime | None:
    """Today's closing moment when it is less than DAY_END_NOTICE away and nobody works on after it."""
    now = clock.now()
    cal = unit_calendar(session, unit_id)
    closes = calendar.closing_time(cal, calendar.local_date(now))
    if closes is None or not now < closes <= now + DAY_END_NOTICE:
        return None
    if calendar.is_open(cal, closes):  # open round the clock: the next day's hours start at midnight
        return None
    return closes


def _duty_notice(session: Session, *, actor: Actor, present: set[int]) -> DutyNotice:
    holder = duty_holder(session, actor.unit_id)
    i_hold = holder is not None and holder.user_id == actor.user_id
    absent_owned = 0
    if i_hold:
        # From the projection: an open task owned by someone absent is a case nobody else can act on.
        absent_owned = session.scalar(
            select(func.count(func.distinct(HumanTask.case_id))).where(
                HumanTask.unit_id == actor.unit_id,
                HumanTask.owner_user_id.is_not(None),
                HumanTask.owner_user_id.not_in(present) if present else true(),
            )
        )
    return DutyNotice(holder.name if holder else None, i_hold, absent_owned or 0)


def open_tasks_for(session: Session, actor: Actor, *, limit: int = 500) -> list[HumanTask]:
    """The acting unit's open tasks for the actor's roles (or owned by the actor), in handling order,
    with those of the units it keeps the service open for today (OG-9.2)."""
    query = (
        select(HumanTask)
        .where(HumanTask.unit_id.in_(_served(session, actor)), _scope(actor, "roles"))
        .order_by(*handling_order())
        .limit(limit)
    )
    return list(session.scalars(query))
