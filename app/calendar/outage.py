"""Whom to contact on an outage of the service (OG-12-a, the reserve routine).

The guideline: weekdays 08–17 the service desk (Stöd och service); weekday evenings 17–22, weekends and
holidays ("helger och helgdagar") Inera by phone. Choices made here:

- Hours are half-open local wall times: 08:00–16:59 is the service desk, 17:00–21:59 the evening.
- Weekday nights (22:00–07:59) are not covered by the guideline. Inera by phone is returned then as
  well (the contact it names for every other time off weekday daytime), with
  `within_guideline_hours=False` so the product can say so.
- Holidays follow the configured HolidayPolicy: by default julafton, nyårsafton and midsommarafton
  count as "helgdagar" here too. That is the safe side: Inera's line is the contact the guideline gives
  for days off, while the service desk cannot be assumed staffed then. A region can turn that off.
- The Inera number and menu choice are configuration ("se lokal rutin"); the defaults are the ones
  section 12 of Region Östergötland's guideline gives (0771-25 10 10, knappval 2).
- Weekends and holidays count for the whole local day, nights included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from enum import StrEnum

from app.calendar.swedish_holidays import DEFAULT_POLICY, HolidayPolicy, holiday_name
from app.calendar.zone import STOCKHOLM, require_aware


class OutageChannel(StrEnum):
    SERVICE_DESK = "service_desk"
    INERA_PHONE = "inera_phone"


class OutagePeriod(StrEnum):
    WEEKDAY_DAYTIME = "weekday_daytime"
    WEEKDAY_EVENING = "weekday_evening"
    WEEKDAY_NIGHT = "weekday_night"  # outside the hours the guideline names
    WEEKEND = "weekend"
    HOLIDAY = "holiday"


@dataclass(frozen=True, slots=True)
class OutageConfig:
    """Contacts and hours of the reserve routine; the defaults are from Region Östergötland's guideline, section 12."""

    service_desk_name: str = "Stöd och service"
    inera_name: str = "Inera"
    inera_phone: str = "0771-25 10 10"
    inera_menu_choice: str = "2"
    daytime_starts: time = time(8)
    evening_starts: time = time(17)
    evening_ends: time = time(22)
    holiday_policy: HolidayPolicy = DEFAULT_POLICY


DEFAULT_OUTAGE_CONFIG = OutageConfig()


@dataclass(frozen=True, slots=True)
class OutageContact:
    """The contact to use on an outage at a given moment, and why."""

    channel: OutageChannel
    name: str
    phone: str | None
    menu_choice: str | None
    period: OutagePeriod
    within_guideline_hours: bool
    holiday: str | None = None  # the holiday's name when period is HOLIDAY


def outage_contact(at: datetime, config: OutageConfig | None = None) -> OutageContact:
    """Whom the unit contacts on an outage at `at`: the service desk on weekdays 08–17, otherwise Inera by phone (OG-12-a)."""
    config = config or DEFAULT_OUTAGE_CONFIG
    local = require_aware(at, "at").astimezone(STOCKHOLM)
    holiday = holiday_name(local.date(), config.holiday_policy)
    wall = local.time()
    if holiday is not None:
        period = OutagePeriod.HOLIDAY
    elif local.weekday() >= 5:
        period = OutagePeriod.WEEKEND
    elif config.daytime_starts <= wall < config.evening_starts:
        return OutageContact(
            channel=OutageChannel.SERVICE_DESK,
            name=config.service_desk_name,
            phone=None,
            menu_choice=None,
            period=OutagePeriod.WEEKDAY_DAYTIME,
            within_guideline_hours=True,
        )
    elif config.evening_starts <= wall < config.evening_ends:
        period = OutagePeriod.WEEKDAY_EVENING
    else:
        period = OutagePeriod.WEEKDAY_NIGHT
    return OutageContact(
        channel=OutageChannel.INERA_PHONE,
        name=config.inera_name,
        phone=config.inera_phone,
        menu_choice=config.inera_menu_choice,
        period=period,
        within_guideline_hours=period is not OutagePeriod.WEEKDAY_NIGHT,
        holiday=holiday,
    )
