"""Swedish public and de-facto holidays, from the `holidays` package, cached per year.

Public holidays ("allmänna helgdagar", category PUBLIC): nyårsdagen, trettondedag jul, långfredagen,
påskdagen, annandag påsk, första maj, Kristi himmelsfärdsdag, nationaldagen, pingstdagen,
midsommardagen, alla helgons dag, juldagen, annandag jul. De-facto holidays (category DE_FACTO,
treated like Sundays by the Annual Leave Act): midsommarafton, julafton, nyårsafton. Påskafton and
pingstafton are not in either category (they always fall on a Saturday). Sundays are left out
(`include_sundays=False`): weekends are decided by the weekday, never by this table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from types import MappingProxyType

import holidays

from app.calendar.zone import require_date


@dataclass(frozen=True, slots=True)
class HolidayPolicy:
    """A region's view of holidays; by default midsommarafton, julafton and nyårsafton are non-working."""

    de_facto_non_working: bool = True


DEFAULT_POLICY = HolidayPolicy()


@lru_cache(maxsize=64)
def public_holidays(year: int) -> Mapping[date, str]:
    """Swedish public holidays of a year, date → Swedish name."""
    return _load(year, holidays.PUBLIC)


@lru_cache(maxsize=64)
def de_facto_holidays(year: int) -> Mapping[date, str]:
    """Midsommarafton, julafton and nyårsafton of a year, date → Swedish name."""
    return _load(year, holidays.DE_FACTO)


def _load(year: int, category: str) -> Mapping[date, str]:
    # language pinned: otherwise the names follow the process locale (English under LANG=C).
    table = holidays.country_holidays(
        "SE", years=year, categories=(category,), language="sv", include_sundays=False
    )
    return MappingProxyType(dict(table.items()))


def holiday_name(day: date, policy: HolidayPolicy = DEFAULT_POLICY) -> str | None:
    """The name of the holiday that makes `day` non-working under `policy`, or None."""
    require_date(day)
    name = public_holidays(day.year).get(day)
    if name is None and policy.de_facto_non_working:
        name = de_facto_holidays(day.year).get(day)
    return name


def is_public_holiday(day: date) -> bool:
    """True on a Swedish public holiday (allmän helgdag), whatever the weekday."""
    return require_date(day) in public_holidays(day.year)


def is_de_facto_holiday(day: date) -> bool:
    """True on midsommarafton, julafton and nyårsafton."""
    return require_date(day) in de_facto_holidays(day.year)
