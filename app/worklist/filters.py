"""The patient list's filters and sort as they live in the URL, so a reload or a refresh keeps them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.people.roles import CASE_ROLES

STOCKHOLM = ZoneInfo("Europe/Stockholm")

SCOPES = ("mine", "roles", "unit")  # my own cases; my roles' queues and my own; the whole unit
SORTS = ("prio", "waiting", "answered")
PAGE_SIZE = 100
ROLE_CHOICES = tuple(sorted(role.value for role in CASE_ROLES))


@dataclass(frozen=True)
class ListFilter:
    """What the user chose to see. Unknown values fall back to the defaults; a bad date is kept to show."""

    scope: str = "roles"
    role: str | None = None
    day: date | None = None
    answered: bool = False
    sort: str = "prio"
    page: int = 1
    day_text: str = ""  # what was typed, kept when it is not a date
    day_invalid: bool = False

    @classmethod
    def from_args(cls, args) -> ListFilter:
        day_text = (args.get("date") or "").strip()
        day, day_invalid = None, False
        if day_text:
            try:
                day = date.fromisoformat(day_text)
            except ValueError:
                day_invalid = True
        scope = args.get("scope")
        if scope not in SCOPES:
            # OG-10.1-c, OG-7-a: a date alone shows all of that day's cases of the unit, so none is missed.
            scope = "unit" if day is not None else "roles"
        role = args.get("role")
        sort = args.get("sort")
        try:
            page = max(1, int(args.get("page", 1)))
        except ValueError:
            page = 1
        return cls(
            scope=scope,
            role=role if role in ROLE_CHOICES else None,
            day=day,
            answered=args.get("answered") == "1",
            sort=sort if sort in SORTS else "prio",
            page=page,
            day_text=day_text,
            day_invalid=day_invalid,
        )

    def args(self, **changes) -> dict[str, str]:
        """Query arguments for a link to this view with `changes` (page resets unless given)."""
        changes.setdefault("page", 1)
        view = replace(self, **changes)
        out: dict[str, str] = {}
        day_given = view.day is not None
        if view.scope != "roles" or day_given:
            out["scope"] = view.scope
        if view.role:
            out["role"] = view.role
        if day_given:
            out["date"] = view.day.isoformat()
        if view.answered:
            out["answered"] = "1"
        if view.sort != "prio":
            out["sort"] = view.sort
        if view.page > 1:
            out["page"] = str(view.page)
        return out

    @property
    def is_default(self) -> bool:
        return self.args() == {}


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A Stockholm calendar day as [start, end) moments (23 or 25 hours on the daylight-saving days)."""
    start = datetime.combine(day, time(0), STOCKHOLM)
    end = datetime.combine(day + timedelta(days=1), time(0), STOCKHOLM)
    return start, end


def local_today(now: datetime) -> date:
    return now.astimezone(STOCKHOLM).date()
