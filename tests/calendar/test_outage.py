"""The outage contact by time of week (OG-12-a): boundary minutes, weekends and holidays."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.calendar import HolidayPolicy, OutageChannel, OutageConfig, OutagePeriod, outage_contact
from tests.calendar.support import local, utc


@pytest.mark.parametrize(
    ("hour", "minute", "channel", "period"),
    [
        (7, 59, OutageChannel.INERA_PHONE, OutagePeriod.WEEKDAY_NIGHT),
        (8, 0, OutageChannel.SERVICE_DESK, OutagePeriod.WEEKDAY_DAYTIME),
        (16, 59, OutageChannel.SERVICE_DESK, OutagePeriod.WEEKDAY_DAYTIME),
        (17, 0, OutageChannel.INERA_PHONE, OutagePeriod.WEEKDAY_EVENING),
        (21, 59, OutageChannel.INERA_PHONE, OutagePeriod.WEEKDAY_EVENING),
        (22, 0, OutageChannel.INERA_PHONE, OutagePeriod.WEEKDAY_NIGHT),
    ],
)
def test_OG_12_a_outage_contact_at_the_boundary_minutes_of_a_weekday(hour, minute, channel, period):
    """OG-12-a: weekdays 08–17 the service desk, 17–22 Inera; minutes are half-open (17:00 is evening)."""
    contact = outage_contact(local(2026, 11, 24, hour, minute))
    assert (contact.channel, contact.period) == (channel, period)


def test_OG_12_a_outage_contact_weekday_daytime_is_the_service_desk():
    """OG-12-a: Stöd och service, no phone number of its own here."""
    contact = outage_contact(local(2026, 11, 24, 10))
    assert contact.name == "Stöd och service"
    assert contact.phone is None and contact.within_guideline_hours


def test_OG_12_a_outage_contact_weekday_evening_is_inera():
    """OG-12-a: Inera by phone, with the number and menu choice of the regional guideline by default."""
    contact = outage_contact(local(2026, 11, 24, 19))
    assert (contact.name, contact.phone, contact.menu_choice) == ("Inera", "0771-25 10 10", "2")
    assert contact.within_guideline_hours


def test_OG_12_a_outage_contact_weekday_night_is_inera_flagged_outside_the_guidelines_hours():
    """OG-12-a names no contact for weekday nights 22–08: Inera, flagged as outside the stated hours."""
    for moment in (local(2026, 11, 24, 22), local(2026, 11, 25, 3), local(2026, 11, 27, 23, 30)):
        contact = outage_contact(moment)
        assert contact.channel is OutageChannel.INERA_PHONE
        assert not contact.within_guideline_hours


@pytest.mark.parametrize(
    "moment", [local(2026, 11, 28, 3), local(2026, 11, 28, 10), local(2026, 11, 29, 23, 59)]
)
def test_OG_12_a_outage_contact_on_weekends_is_inera_all_day(moment):
    """OG-12-a: "helger": Saturday and Sunday, nights included, within the guideline's hours."""
    contact = outage_contact(moment)
    assert (contact.channel, contact.period) == (OutageChannel.INERA_PHONE, OutagePeriod.WEEKEND)
    assert contact.within_guideline_hours


def test_OG_12_a_outage_contact_on_a_public_holiday_weekday_is_inera():
    """OG-12-a: "helgdagar": Kristi himmelsfärdsdag, a Thursday, at 10:00."""
    contact = outage_contact(local(2026, 5, 14, 10))
    assert (contact.channel, contact.period, contact.holiday) == (
        OutageChannel.INERA_PHONE,
        OutagePeriod.HOLIDAY,
        "Kristi himmelsfärdsdag",
    )


def test_OG_12_a_outage_contact_on_julafton_is_inera_by_default():
    """OG-12-a: julafton (de facto) counts as a holiday unless the region's policy says otherwise."""
    contact = outage_contact(local(2026, 12, 24, 10))
    assert (contact.channel, contact.holiday) == (OutageChannel.INERA_PHONE, "Julafton")
    working = OutageConfig(holiday_policy=HolidayPolicy(de_facto_non_working=False))
    assert outage_contact(local(2026, 12, 24, 10), working).channel is OutageChannel.SERVICE_DESK


def test_OG_12_a_outage_contact_number_and_menu_choice_are_configuration():
    """OG-12-a: "number and menu choice as configuration"."""
    config = OutageConfig(inera_phone="010-000 00 00", inera_menu_choice="3")
    contact = outage_contact(local(2026, 11, 24, 19), config)
    assert (contact.phone, contact.menu_choice) == ("010-000 00 00", "3")


def test_OG_12_a_outage_contact_uses_stockholm_time_for_utc_moments():
    """OG-12-a: 07:30 UTC is 08:30 in winter (service desk) but 09:30 in summer; 15:30 UTC is 17:30 in summer."""
    assert outage_contact(utc(2026, 11, 24, 7, 30)).channel is OutageChannel.SERVICE_DESK
    assert outage_contact(utc(2026, 6, 16, 15, 30)).period is OutagePeriod.WEEKDAY_EVENING
    assert outage_contact(utc(2026, 11, 24, 15, 30)).period is OutagePeriod.WEEKDAY_DAYTIME


def test_outage_contact_refuses_naive_datetimes():
    with pytest.raises(ValueError, match="timezone-aware"):
        outage_contact(datetime(2026, 11, 24, 10))
