"""Times: UTC in the database, the location's wall clock on the page."""

from datetime import UTC, date, datetime, time, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings

from navbat.kit import timeutil
from navbat.kit.timeutil import (
    day_bounds,
    is_known_zone,
    local_datetime,
    local_today,
    to_local,
    zone,
)

TASHKENT = "Asia/Tashkent"


def test_day_bounds_in_tashkent_are_utc_plus_5():
    start, end = day_bounds(date(2026, 3, 1), TASHKENT)
    assert start.astimezone(UTC) == datetime(2026, 2, 28, 19, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 1, 19, 0, tzinfo=UTC)
    assert end - start == timedelta(hours=24)
    assert start.utcoffset() == timedelta(hours=5)


def test_day_bounds_across_a_year_end():
    start, end = day_bounds(date(2026, 12, 31), TASHKENT)
    assert start.astimezone(UTC) == datetime(2026, 12, 30, 19, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 12, 31, 19, 0, tzinfo=UTC)


def test_day_bounds_on_a_daylight_saving_day_are_23_hours():
    start, end = day_bounds(date(2026, 3, 29), "Europe/Berlin")
    assert start.astimezone(UTC) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 3, 29, 22, 0, tzinfo=UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=23)


def test_local_datetime_is_aware_and_local():
    moment = local_datetime(date(2026, 5, 10), time(9, 30), TASHKENT)
    assert moment.tzinfo == ZoneInfo(TASHKENT)
    assert moment.astimezone(UTC) == datetime(2026, 5, 10, 4, 30, tzinfo=UTC)
    assert (moment.year, moment.month, moment.day, moment.hour, moment.minute) == (
        2026,
        5,
        10,
        9,
        30,
    )


def test_local_datetime_without_a_zone_uses_the_default():
    moment = local_datetime(date(2026, 5, 10), time(0, 0), None)
    assert moment.astimezone(UTC) == datetime(2026, 5, 9, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "name",
    [
        None,
        "",
        "Mars/Olympus_Mons",
        "../../etc/passwd",
        "/etc/passwd",
        "Asia/",
        "Asia",
        "a" * 300,
        "Asia/Tashkent\x00",
        ".",
    ],
)
def test_unknown_zone_falls_back_to_tashkent(name):
    assert zone(name) == ZoneInfo(TASHKENT)


@override_settings(NAVBAT_DEFAULT_TIMEZONE="Europe/Moscow")
def test_the_default_zone_comes_from_settings():
    assert zone(None) == ZoneInfo("Europe/Moscow")


def test_is_known_zone():
    assert is_known_zone(TASHKENT) is True
    assert is_known_zone("Asia/Samarkand") is True
    assert is_known_zone("Mars/Olympus_Mons") is False
    assert is_known_zone("") is False


def test_to_local():
    moment = datetime(2026, 5, 9, 20, 15, tzinfo=UTC)
    local = to_local(moment, TASHKENT)
    assert (local.date(), local.time()) == (date(2026, 5, 10), time(1, 15))
    assert local == moment


def test_local_today_follows_the_zone_not_utc():
    late_utc = datetime(2026, 5, 9, 20, 0, tzinfo=UTC)  # already 10 May, 01:00 in Tashkent
    with mock.patch.object(timeutil.timezone, "now", return_value=late_utc):
        assert local_today(TASHKENT) == date(2026, 5, 10)
        assert local_today("UTC") == date(2026, 5, 9)
