"""Swedish identity numbers (personnummer, samordningsnummer, reservnummer), birth dates and ages.

Pure Python: no Flask, no database. Everything that depends on "today" takes it as an argument, so
callers pass the date from `app.clock` and tests stay deterministic.

Formats accepted by `parse_identity_number`:

* personnummer ``YYYYMMDD-NNNC``, ``YYYYMMDDNNNC``, ``YYMMDD-NNNC``, ``YYMMDDNNNC`` and ``YYMMDD+NNNC``
  (the ``+`` separator is used from the calendar year in which the holder turns 100;
  Folkbokföringslagen (1991:481) 18 §), with or without spaces;
* samordningsnummer: the same forms with 60 added to the day of birth (day 61-91);
* reservnummer: region-local temporary numbers, only where the caller allows them and gives the
  region's pattern; their birth date cannot be read from the number.

Ages are completed years on the local date in Europe/Stockholm (see `age_on` for 29 February).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from stdnum import luhn

STOCKHOLM = ZoneInfo("Europe/Stockholm")

# Samordningsnummer carry the day of birth plus 60 (Skatteverket).
SAMORDNINGSNUMMER_DAY_OFFSET = 60

# Digits, an optional separator, four digits; whitespace is removed before matching.
_SHAPE = re.compile(r"(?P<date>\d{8}|\d{6})(?P<sep>[-+]?)(?P<tail>\d{4})")
# Dashes people paste from word processors and web pages are read as "-".
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212", "-"))
_FORMAT_HINT = "expected YYYYMMDD-NNNC, YYYYMMDDNNNC, YYMMDD-NNNC or YYMMDD+NNNC"


class IdentityKind(StrEnum):
    PERSONNUMMER = "personnummer"
    SAMORDNINGSNUMMER = "samordningsnummer"
    RESERVNUMMER = "reservnummer"


class InvalidReason(StrEnum):
    """Why a text was refused; the message says it in words, this lets code branch on it."""

    FORMAT = "format"
    DATE = "date"
    FUTURE_BIRTH_DATE = "future_birth_date"
    CHECKSUM = "checksum"
    CENTURY_NEEDED = "century_needed"
    RESERVNUMMER_NOT_ALLOWED = "reservnummer_not_allowed"


class InvalidIdentityNumber(ValueError):
    """The text is not an acceptable identity number; the message says what is wrong.

    Messages never repeat the whole number (it is personal data and messages end up in logs).
    """

    def __init__(self, message: str, reason: InvalidReason):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class IdentityNumber:
    """A parsed identity number: normalised value, kind and (where derivable) birth date."""

    value: str
    kind: IdentityKind
    birth_date: date | None = None

    def __post_init__(self) -> None:
        # Personnummer and samordningsnummer are always stored as 12 digits with their birth date.
        if self.kind is not IdentityKind.RESERVNUMMER and (
            len(self.value) != 12 or not self.value.isdigit() or self.birth_date is None
        ):
            raise ValueError(
                f"a {self.kind} needs a 12-digit value and a birth date; use parse_identity_number"
            )

    @property
    def formatted(self) -> str:
        """``YYYYMMDD-NNNC`` for personnummer and samordningsnummer; a reservnummer as given."""
        if self.kind is IdentityKind.RESERVNUMMER:
            return self.value
        return f"{self.value[:8]}-{self.value[8:]}"

    def with_birth_date(self, birth_date: date) -> IdentityNumber:
        """Attach a birth date known from elsewhere; only a reservnummer lacks one."""
        if self.kind is not IdentityKind.RESERVNUMMER:
            if birth_date != self.birth_date:
                raise ValueError(f"the birth date of a {self.kind} is given by the number itself")
            return self
        return replace(self, birth_date=birth_date)

    def __str__(self) -> str:
        return self.formatted


def parse_identity_number(
    text: str,
    *,
    allow_reservnummer: bool = False,
    reservnummer_pattern: str | None = None,
    today: date | None = None,
) -> IdentityNumber:
    """Parse and validate a personnummer, samordningsnummer or (if allowed) reservnummer."""
    if allow_reservnummer and not reservnummer_pattern:
        # A configuration mistake, not a bad input: a plain ValueError, never shown to patients.
        raise ValueError("allow_reservnummer=True needs the region's reservnummer_pattern")
    compact = "".join(text.translate(_DASHES).split())
    try:
        return _parse_swedish_number(compact, today)
    except InvalidIdentityNumber as error:
        # A valid personnummer/samordningsnummer always wins; only what fails here may be a
        # reservnummer, so a loose pattern cannot swallow a correct number.
        stripped = text.strip()
        if reservnummer_pattern and re.fullmatch(reservnummer_pattern, stripped):
            if allow_reservnummer:
                return IdentityNumber(value=stripped, kind=IdentityKind.RESERVNUMMER, birth_date=None)
            raise InvalidIdentityNumber(
                "Reservnummer are not accepted here: a personnummer or samordningsnummer is required",
                InvalidReason.RESERVNUMMER_NOT_ALLOWED,
            ) from None
        if error.reason is InvalidReason.FORMAT and allow_reservnummer:
            raise InvalidIdentityNumber(
                f"Invalid identity number format: {_FORMAT_HINT}, or a reservnummer in this region's format",
                InvalidReason.FORMAT,
            ) from None
        raise


def _parse_swedish_number(compact: str, today: date | None) -> IdentityNumber:
    match = _SHAPE.fullmatch(compact)
    if match is None:
        raise InvalidIdentityNumber(f"Invalid identity number format: {_FORMAT_HINT}", InvalidReason.FORMAT)
    date_digits, separator, tail = match["date"], match["sep"], match["tail"]

    if len(date_digits) == 8:
        if separator == "+":
            raise InvalidIdentityNumber(
                "Invalid identity number format: the '+' separator belongs to the 10-digit form (YYMMDD+NNNC) only",
                InvalidReason.FORMAT,
            )
        year = int(date_digits[:4])
    else:
        if today is None:
            raise InvalidIdentityNumber(
                "A 10-digit identity number needs the current date to resolve its century; give 12 digits (YYYYMMDD-NNNC)",
                InvalidReason.CENTURY_NEEDED,
            )
        year = _resolve_century(int(date_digits[:2]), plus=separator == "+", today=today)

    month, day_field = int(date_digits[-4:-2]), int(date_digits[-2:])
    kind = IdentityKind.PERSONNUMMER
    day = day_field
    if day_field > SAMORDNINGSNUMMER_DAY_OFFSET:
        kind, day = IdentityKind.SAMORDNINGSNUMMER, day_field - SAMORDNINGSNUMMER_DAY_OFFSET
    birth_date = _calendar_date(year, month, day, kind)

    if today is not None and birth_date > today:
        raise InvalidIdentityNumber(
            f"Invalid identity number: the birth date {birth_date.isoformat()} is after today ({today.isoformat()})",
            InvalidReason.FUTURE_BIRTH_DATE,
        )

    # The check digit covers the 10-digit form YYMMDDNNN (day + 60 for samordningsnummer).
    ten_digits = date_digits[-6:] + tail
    if not luhn.is_valid(ten_digits):
        raise InvalidIdentityNumber(
            "Invalid identity number: the check digit (last digit) does not match; check for a typing error",
            InvalidReason.CHECKSUM,
        )
    return IdentityNumber(value=f"{year:04d}{ten_digits[2:]}", kind=kind, birth_date=birth_date)


def _resolve_century(two_digit_year: int, *, plus: bool, today: date) -> int:
    """The birth year for YYMMDD-/+: '-' means under 100 this calendar year, '+' 100 or more."""
    # '-': the holder turns 0..99 this calendar year; '+': 100..199 (the sign changes on 1 January
    # of the year the holder turns 100, so the rule is by calendar year, not by birthday).
    youngest = today.year - (100 if plus else 0)
    return youngest - (youngest - two_digit_year) % 100


def _calendar_date(year: int, month: int, day: int, kind: IdentityKind) -> date:
    if not 1 <= month <= 12:
        raise InvalidIdentityNumber(
            f"Invalid date in identity number: there is no month {month:02d}", InvalidReason.DATE
        )
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        if month == 2 and day == 29:
            detail = f"29 February exists only in leap years and {year} is not one"
        else:
            detail = f"{year:04d}-{month:02d}-{day:02d} is not a calendar date"
        if kind is IdentityKind.SAMORDNINGSNUMMER:
            detail += " (samordningsnummer: day of birth + 60)"
        raise InvalidIdentityNumber(f"Invalid date in identity number: {detail}", InvalidReason.DATE)
    return date(year, month, day)


def _birthday_in(birth_date: date, year: int) -> date:
    """The day in `year` on which the holder completes another year of age."""
    if birth_date.month == 2 and birth_date.day == 29 and not calendar.isleap(year):
        # No Swedish rule found that fixes the birthday of someone born 29 February in a common
        # year for age limits, so we take 1 March: the year is complete only once 28 February ends.
        return date(year, 3, 1)
    return birth_date.replace(year=year)


def age_on(birth_date: date, on: date) -> int:
    """Completed years on the date `on`; the holder is N on the Nth birthday.

    Born 29 February: in common years the birthday counts as 1 March, so the holder has not
    turned N on 28 February. Lag (1930:173) om beräkning av lagstadgad tid 1 § makes the last day
    of February the end day of a period counted in years when the month lacks the matching day,
    but no source found applies it to when a person reaches an age, so we chose the later day
    (1 March). It is the cautious choice for the age limits here (a child becomes 1, and reaches
    13, one day later, never earlier).
    """
    if on < birth_date:
        raise ValueError("cannot compute an age before the date of birth")
    years = on.year - birth_date.year
    if on < _birthday_in(birth_date, on.year):
        years -= 1
    return years


def stockholm_date(moment: datetime) -> date:
    """The calendar date in Europe/Stockholm at an aware moment; naive datetimes are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("stockholm_date needs a timezone-aware datetime, not a naive one")
    return moment.astimezone(STOCKHOLM).date()


def age_at(birth_date: date, moment: datetime) -> int:
    """Completed years at an aware moment, counted on the Stockholm date of that moment."""
    return age_on(birth_date, stockholm_date(moment))
