"""What the `holidays` package gives for Sweden: the calendar relies on exactly this, so it is pinned."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from app.calendar import (
    HolidayPolicy,
    de_facto_holidays,
    holiday_name,
    is_business_day,
    is_de_facto_holiday,
    is_public_holiday,
    public_holidays,
)


def test_public_holidays_2026_are_the_thirteen_allmanna_helgdagar_in_swedish():
    assert dict(public_holidays(2026)) == {
        date(2026, 1, 1): "Nyårsdagen",
        date(2026, 1, 6): "Trettondedag jul",
        date(2026, 4, 3): "Långfredagen",
        date(2026, 4, 5): "Påskdagen",
        date(2026, 4, 6): "Annandag påsk",
        date(2026, 5, 1): "Första maj",
        date(2026, 5, 14): "Kristi himmelsfärdsdag",
        date(2026, 5, 24): "Pingstdagen",
        date(2026, 6, 6): "Nationaldagen",
        date(2026, 6, 20): "Midsommardagen",
        date(2026, 10, 31): "Alla helgons dag",
        date(2026, 12, 25): "Juldagen",
        date(2026, 12, 26): "Annandag jul",
    }


def test_de_facto_holidays_2026_are_midsommarafton_julafton_nyarsafton():
    assert dict(de_facto_holidays(2026)) == {
        date(2026, 6, 19): "Midsommarafton",
        date(2026, 12, 24): "Julafton",
        date(2026, 12, 31): "Nyårsafton",
    }


@pytest.mark.parametrize("year", [2025, 2026, 2027])
def test_no_ordinary_sunday_is_listed_weekends_come_from_the_weekday(year):
    """The package can list every Sunday ("Söndag"); it must not, or weekends would be counted twice."""
    table = public_holidays(year)
    assert "Söndag" not in table.values()
    assert len(table) == 13
    sundays = {name for day, name in table.items() if day.weekday() == 6}
    assert {"Påskdagen", "Pingstdagen"} <= sundays


def test_pasafton_and_pingstafton_are_not_holidays_they_are_saturdays_anyway():
    assert holiday_name(date(2026, 4, 4)) is None  # påskafton
    assert holiday_name(date(2026, 5, 23)) is None  # pingstafton
    assert not is_business_day(HolidayPolicy(), date(2026, 4, 4))


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2025, 4, 18), "Långfredagen"),
        (date(2025, 4, 21), "Annandag påsk"),
        (date(2025, 5, 29), "Kristi himmelsfärdsdag"),
        (date(2025, 6, 21), "Midsommardagen"),
        (date(2027, 3, 26), "Långfredagen"),
        (date(2027, 3, 29), "Annandag påsk"),
        (date(2027, 5, 6), "Kristi himmelsfärdsdag"),
        (date(2027, 6, 26), "Midsommardagen"),
        (date(2027, 1, 6), "Trettondedag jul"),
    ],
)
def test_moving_public_holidays_2025_and_2027(day, name):
    assert is_public_holiday(day)
    assert holiday_name(day) == name


@pytest.mark.parametrize(
    "day", [date(2025, 6, 20), date(2025, 12, 24), date(2025, 12, 31), date(2027, 6, 25)]
)
def test_de_facto_holidays_are_non_working_by_default_and_working_when_the_region_says_so(day):
    assert is_de_facto_holiday(day) and not is_public_holiday(day)
    assert holiday_name(day) is not None
    assert not is_business_day(HolidayPolicy(), day)
    assert holiday_name(day, HolidayPolicy(de_facto_non_working=False)) is None
    assert is_business_day(HolidayPolicy(de_facto_non_working=False), day)


def test_business_days_of_2026_are_weekdays_minus_weekday_holidays():
    """261 weekdays; 7 public holidays (four more fall on Saturdays) and 3 de-facto holidays fall on weekdays."""
    days = [date(2026, 1, 1) + timedelta(n) for n in range(365)]
    assert sum(day.weekday() < 5 for day in days) == 261
    assert sum(is_business_day(HolidayPolicy(), day) for day in days) == 261 - 7 - 3
    assert sum(is_business_day(HolidayPolicy(de_facto_non_working=False), day) for day in days) == 261 - 7


def test_holiday_names_do_not_follow_the_process_locale(monkeypatch):
    public_holidays.cache_clear()
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    assert holiday_name(date(2026, 12, 25)) == "Juldagen"
    public_holidays.cache_clear()
