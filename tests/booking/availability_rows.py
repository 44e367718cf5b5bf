"""Rows for the availability tests, written straight to the tables (no booking service in
the way): a location with its opening hours, services, specialists with their week and
exceptions, appointments in any state. Times are wall-clock "HH:MM" in the location's zone."""

from datetime import date, datetime, time, timedelta
from itertools import count
from zoneinfo import ZoneInfo

from navbat.booking.models import FREEING_STATUSES, Appointment, BookingSettings, Status
from navbat.finance.models import DocumentKind, SaleDocument
from navbat.salons.models import (
    Business,
    Client,
    Location,
    ScheduleException,
    Service,
    Specialist,
    WorkingHours,
)

_serial = count(1)


def clock(value: str | time) -> time:
    if isinstance(value, time):
        return value
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def business(tag: str = "") -> Business:
    serial = next(_serial)
    return Business.objects.create(name=f"Availability {tag}{serial}", slug=f"avail-{serial}")


def location(
    owner: Business, *, tz: str = "Asia/Tashkent", opening: dict | None = None, **settings
) -> Location:
    """A location; ``opening`` maps a weekday (Monday = 0) to ("HH:MM", "HH:MM") or None
    (closed); ``settings`` become its BookingSettings (saved only when given)."""
    hours = {str(day): (list(value) if value else None) for day, value in (opening or {}).items()}
    place = Location.objects.create(
        business=owner, name=f"Place {next(_serial)}", timezone=tz, opening_hours=hours
    )
    if settings:
        BookingSettings.objects.create(business=owner, location=place, **settings)
    return place


def service(owner: Business, minutes: int, **fields) -> Service:
    fields.setdefault("price", 10_000_000)
    fields.setdefault("name", f"Service {next(_serial)}")
    return Service.objects.create(business=owner, duration_minutes=minutes, **fields)


def specialist(place: Location, *, services=(), week=None, **fields) -> Specialist:
    """``week`` maps a weekday to ("HH:MM", "HH:MM") or None; every day 09:00-18:00 by
    default."""
    fields.setdefault("name", f"Specialist {next(_serial):04d}")
    person = Specialist.objects.create(business=place.business, location=place, **fields)
    person.services.set(services)
    if week is None:
        week = {day: ("09:00", "18:00") for day in range(7)}
    WorkingHours.objects.bulk_create(
        WorkingHours(
            business=place.business,
            specialist=person,
            weekday=day,
            starts=clock(hours[0]),
            ends=clock(hours[1]),
        )
        for day, hours in week.items()
        if hours
    )
    return person


def exception(person: Specialist, day: date, hours=None) -> ScheduleException:
    """A day off (``hours`` None) or other hours that day."""
    return ScheduleException.objects.create(
        business=person.business,
        specialist=person,
        day=day,
        is_day_off=hours is None,
        starts=clock(hours[0]) if hours else None,
        ends=clock(hours[1]) if hours else None,
    )


def local(day: date, at: str | time, tz: str) -> datetime:
    return datetime.combine(day, clock(at), tzinfo=ZoneInfo(tz))


def appointment(
    person: Specialist,
    starts_at: datetime,
    minutes: int,
    *,
    status: str = Status.BOOKED,
    hold_until: datetime | None = None,
) -> Appointment:
    """An appointment of ``minutes`` from ``starts_at``, in any state; one awaiting payment
    holds its time until ``hold_until``."""
    owner = person.business
    client, _created = Client.objects.get_or_create(
        business=owner, phone="+998901112233", defaults={"name": "Availability client"}
    )
    document = SaleDocument.objects.create(
        business=owner, kind=DocumentKind.VISIT, title="Visit", client=client
    )
    return Appointment.objects.create(
        business=owner,
        location=person.location,
        specialist=person,
        client=client,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
        occupies_time=status not in FREEING_STATUSES,
        hold_until=hold_until,
        document=document,
    )
