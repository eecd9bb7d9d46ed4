"""Identity numbers for demo and test data: Skatteverket's published test personnummer only.

Demo data must never use random numbers that merely pass the checksum: such a number may belong
to a real person. Skatteverket publishes a list of test personal identity numbers set aside for
testing; the numbers below come from that list (as mirrored in the ActiveLogin.Identity project's
test data, src/ActiveLogin.Identity.Swedish.TestData/AllPins.fs) and are treated as data.

The published list ends with births in 2019, so no published number belongs to a child under one
year old in 2026 or later. The demo infant therefore carries a reservnummer (the region-local
temporary number, see `app.people.identity`), with its birth date from `demo_infant_birth_date`.
"""

from __future__ import annotations

import calendar
from datetime import date

from app.people.identity import age_on, parse_identity_number

PUBLISHED_TEST_NUMBERS: tuple[str, ...] = (
    # Adults born 1992.
    "199203012381",
    "199204012380",
    "199205042386",
    "199206152382",
    "199207232381",
    "199208312380",
    "199209302380",
    "199210312386",
    "199211222386",
    "199212092382",
    "199202292380",  # 29 February 1992
    "199203022380",
    "199205102388",
    "199206092380",
    "199210152386",
    # Born 2008.
    "200802292383",  # 29 February 2008
    "200805012382",
    "200808152391",
    # Born 2012.
    "201203092398",
    "201204052383",
    "201202282388",
    # Born 2013.
    "201301012397",
    "201302152382",
    "201303152381",
    # Born 2016.
    "201601012394",
    "201602292383",  # 29 February 2016
    "201605102399",
    "201609142383",
    "201612312387",
    # Born 2017.
    "201701012393",
    "201706152392",
    # Born 2019: the last year the published list covers.
    "201912312392",
    "201909012385",
)

# Roughly five months: old enough to be a plausible patient, well under the one-year limit.
_INFANT_AGE_MONTHS = 5


def demo_infant_birth_date(today: date) -> date:
    """A birth date about five months before `today`, for the demo infant (who has a reservnummer)."""
    months = today.year * 12 + (today.month - 1) - _INFANT_AGE_MONTHS
    year, month = divmod(months, 12)
    month += 1
    # Clamp the day: five months before 31 July is 28 (or 29) February.
    return date(year, month, min(today.day, calendar.monthrange(year, month)[1]))


def pick_published_number(target_age: int, today: date, exclude: set[str]) -> str:
    """A published test number (12 digits) whose holder is exactly `target_age` on `today`.

    Numbers are tried in the order of PUBLISHED_TEST_NUMBERS, so the choice is stable for a given
    date and moves with the clock. `exclude` may hold numbers with or without the '-' separator.
    Raises LookupError when no published number fits (the list ends with births in 2019).
    """
    excluded = {number.replace("-", "").strip() for number in exclude}
    for number in PUBLISHED_TEST_NUMBERS:
        if number in excluded:
            continue
        birth_date = parse_identity_number(number).birth_date
        assert birth_date is not None  # personnummer always carry their birth date
        if birth_date <= today and age_on(birth_date, today) == target_age:
            return number
    raise LookupError(f"no published test personnummer for a holder aged {target_age} on {today.isoformat()}")
