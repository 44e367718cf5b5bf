"""Times are UTC in the database and local (the location's zone) on the page."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.utils import timezone


def zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or settings.NAVBAT_DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long, a folder
        return ZoneInfo(settings.NAVBAT_DEFAULT_TIMEZONE)


def is_known_zone(name: str) -> bool:
    return name in available_timezones()


def local_datetime(day: date, at: time, tz_name: str | None) -> datetime:
    """An aware datetime for a wall-clock time in the given zone."""
    return datetime.combine(day, at).replace(tzinfo=zone(tz_name))


def to_local(moment: datetime, tz_name: str | None) -> datetime:
    return timezone.localtime(moment, zone(tz_name))


def local_today(tz_name: str | None) -> date:
    return timezone.now().astimezone(zone(tz_name)).date()


def day_bounds(day: date, tz_name: str | None) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of a local day, as aware datetimes."""
    start = local_datetime(day, time.min, tz_name)
    return start, local_datetime(day + timedelta(days=1), time.min, tz_name)
