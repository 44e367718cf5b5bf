"""Free times for online booking (F6): which days of a window have a free time and which
times a day offers, for a set of services with one specialist or any.

Pure reads. The cost grows with the window shown, not with the salon's history: a fixed
number of statements (the specialists, their week, the window's exceptions and the
window's appointments, found through the ``(business, specialist, starts_at)`` index with
a lower bound no longer than the longest appointment), then arithmetic on whole minutes.

The rules a time must satisfy (``tests/booking/test_availability_properties.py`` states
them once more, independently):

- it starts on the slot step counted from the location's local midnight;
- the visit (the services' durations summed, in the order chosen) lies inside the
  specialist's hours that day (the weekly shift, or that day's exception) and inside the
  location's opening hours;
- it overlaps no appointment that occupies the specialist's time (a hold awaiting
  prepayment counts until ``hold_until``), keeping ``buffer`` minutes free after each
  appointment, the new one included;
- it starts no earlier than ``now`` plus the minimum notice, and on a local day no later
  than today plus the horizon.

"Any specialist" offers a time when one of the specialists who perform all the services
is free then, and books the one with the fewest appointments that day (ties: the salon's
order of specialists, then the oldest record).
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import zone
from navbat.salons.models import Location, ScheduleException, Service, Specialist, WorkingHours

from .models import Appointment, BookingSettings, Status

MAX_SERVICES = 5
MAX_DAYS = 62  # the longest window one question may ask about
# No appointment is longer (booking.services.MAX_APPOINTMENT_MINUTES): the lower bound of
# the window's appointment scan.
LONGEST_APPOINTMENT = timedelta(hours=12)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Rules:
    step: int  # minutes
    notice: int  # minutes
    horizon_days: int
    buffer: int  # minutes
    time_zone: str

    @classmethod
    def of(cls, *, location: Location, settings: BookingSettings) -> "Rules":
        return cls(
            step=settings.slot_step_minutes,
            notice=settings.min_notice_minutes,
            horizon_days=settings.horizon_days,
            buffer=settings.buffer_minutes,
            time_zone=location.timezone,
        )


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware, in the location's zone
    specialist_id: int


def settings_of(location: Location) -> BookingSettings:
    """The location's online booking settings (the defaults, unsaved, where none are)."""
    found = scoped(BookingSettings, location.business).filter(location=location).first()
    return found or BookingSettings(business_id=location.business_id, location=location)


def duration_of(services: list[Service]) -> int:
    return sum(service.duration_minutes for service in services)


def performers(*, location: Location, service_ids: list[int]) -> list[Specialist]:
    """Active specialists of the location, open to online booking, who perform every one of
    the services; in the salon's order."""
    wanted = set(service_ids)
    rows = scoped(Specialist, location.business).filter(
        location=location, is_active=True, bookable_online=True
    )
    if wanted:
        rows = rows.annotate(
            performed=Count("services", filter=Q(services__in=wanted), distinct=True)
        ).filter(performed=len(wanted))
    return list(rows.order_by("sort_order", "name", "id"))


def _minutes(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds() // 60)


def _moment(minutes: int, time_zone: str) -> datetime:
    return (EPOCH + timedelta(minutes=minutes)).astimezone(zone(time_zone))


def _local_minutes(day: date, at: time, time_zone: str) -> int:
    """A wall-clock time of a local day as whole minutes since the epoch (UTC)."""
    return _minutes(datetime.combine(day, at).replace(tzinfo=zone(time_zone)))


def _parse_clock(value) -> time | None:
    try:
        hours, minutes = str(value).split(":")[:2]
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        return None


def _opening(location: Location, day: date) -> tuple[time, time | None] | None:
    """The location's hours that day; None when closed. A location with no opening hours
    set is not limited by them (its specialists' hours decide); ``(start, None)`` means
    open until midnight."""
    hours = location.opening_hours or {}
    if not hours:
        return time.min, None
    entry = hours.get(str(day.weekday()))
    if not entry or len(entry) != 2:
        return None
    opens, closes = _parse_clock(entry[0]), _parse_clock(entry[1])
    if opens is None or closes is None:
        return None
    return opens, (None if closes == time.min else closes)


class _Plan:
    """The window's schedule of the chosen specialists, loaded once."""

    def __init__(
        self,
        *,
        location: Location,
        rules: Rules,
        specialists: list[Specialist],
        first: date,
        last: date,
        now: datetime,
        exclude_appointment: int | None = None,
    ):
        self.location = location
        self.rules = rules
        self.specialists = specialists
        self.now = now
        ids = [specialist.pk for specialist in specialists]
        business = location.business
        self.week: dict[int, dict[int, tuple[time, time]]] = defaultdict(dict)
        self.exceptions: dict[tuple[int, date], tuple[time, time] | None] = {}
        self.busy: dict[int, list[tuple[int, int]]] = defaultdict(list)
        if not ids:
            return
        for specialist_id, weekday, starts, ends in (
            scoped(WorkingHours, business)
            .filter(specialist_id__in=ids)
            .values_list("specialist_id", "weekday", "starts", "ends")
        ):
            self.week[specialist_id][weekday] = (starts, ends)
        for specialist_id, day, day_off, starts, ends in (
            scoped(ScheduleException, business)
            .filter(specialist_id__in=ids, day__gte=first, day__lte=last)
            .values_list("specialist_id", "day", "is_day_off", "starts", "ends")
        ):
            hours = None if day_off or not (starts and ends) or ends <= starts else (starts, ends)
            self.exceptions[(specialist_id, day)] = hours
        tz = rules.time_zone
        window_start = datetime.combine(first, time.min).replace(tzinfo=zone(tz))
        window_end = datetime.combine(last + timedelta(days=1), time.min).replace(tzinfo=zone(tz))
        margin = timedelta(minutes=rules.buffer)
        appointments = (
            scoped(Appointment, business)
            .filter(
                specialist_id__in=ids,
                occupies_time=True,
                starts_at__gte=window_start - LONGEST_APPOINTMENT - margin,
                starts_at__lt=window_end + margin,
                ends_at__gt=window_start - margin,
            )
            # A hold whose time is up frees the time even before the hold job cancels it.
            .exclude(status=Status.AWAITING_PAYMENT, hold_until__lte=now)
        )
        if exclude_appointment is not None:
            appointments = appointments.exclude(pk=exclude_appointment)
        for specialist_id, starts_at, ends_at in appointments.values_list(
            "specialist_id", "starts_at", "ends_at"
        ):
            self.busy[specialist_id].append((_minutes(starts_at), _minutes(ends_at)))
        for intervals in self.busy.values():
            intervals.sort()

    def hours(self, specialist_id: int, day: date) -> tuple[time, time] | None:
        if (specialist_id, day) in self.exceptions:
            return self.exceptions[(specialist_id, day)]
        return self.week.get(specialist_id, {}).get(day.weekday())

    def booked_that_day(self, specialist_id: int, day: date) -> int:
        tz = self.rules.time_zone
        start = _local_minutes(day, time.min, tz)
        end = _local_minutes(day + timedelta(days=1), time.min, tz)
        return sum(1 for a, _b in self.busy.get(specialist_id, ()) if start <= a < end)

    def starts(self, specialist_id: int, day: date, duration: int, *, first_only: bool = False):
        """The free starts (minutes since the epoch) of one specialist on one local day."""
        rules, tz = self.rules, self.rules.time_zone
        shift = self.hours(specialist_id, day)
        opening = _opening(self.location, day)
        if shift is None or opening is None:
            return []
        midnight = _local_minutes(day, time.min, tz)
        opens = max(_local_minutes(day, shift[0], tz), _local_minutes(day, opening[0], tz))
        closes = _local_minutes(day, shift[1], tz)
        if opening[1] is not None:
            closes = min(closes, _local_minutes(day, opening[1], tz))
        earliest = max(opens, _minutes(self.now) + rules.notice)
        # Forbidden starts: (a - duration - buffer, b + buffer) for each busy [a, b).
        forbidden = []
        for a, b in self.busy.get(specialist_id, ()):
            low, high = a - duration - rules.buffer, b + rules.buffer
            if high <= earliest or low >= closes:
                continue
            if forbidden and low <= forbidden[-1][1]:
                forbidden[-1] = (forbidden[-1][0], max(forbidden[-1][1], high))
            else:
                forbidden.append((low, high))
        step = rules.step
        offset = (earliest - midnight) % step
        candidate = earliest if offset == 0 else earliest + step - offset
        found = []
        index = 0
        while candidate + duration <= closes:
            while index < len(forbidden) and forbidden[index][1] <= candidate:
                index += 1
            if index < len(forbidden) and forbidden[index][0] < candidate:
                # Inside a forbidden stretch: jump to its end, back on the step.
                end = forbidden[index][1]
                candidate += -(-(end - candidate) // step) * step
                continue
            found.append(candidate)
            if first_only:
                break
            candidate += step
        return found


def _bounds(rules: Rules, now: datetime, first: date, last: date) -> tuple[date, date]:
    today = now.astimezone(zone(rules.time_zone)).date()
    return max(first, today), min(last, today + timedelta(days=rules.horizon_days))


def free_days(
    *,
    location: Location,
    rules: Rules,
    specialists: list[Specialist],
    duration: int,
    first: date,
    last: date,
    now: datetime | None = None,
) -> list[date]:
    """The local days from ``first`` to ``last`` (inclusive) with at least one free time
    for a visit of ``duration`` minutes with one of ``specialists``."""
    now = now or timezone.now()
    first, last = _bounds(rules, now, first, last)
    if first > last or not specialists or duration <= 0:
        return []
    plan = _Plan(
        location=location, rules=rules, specialists=specialists, first=first, last=last, now=now
    )
    days = []
    day = first
    while day <= last:
        if any(plan.starts(s.pk, day, duration, first_only=True) for s in specialists):
            days.append(day)
        day += timedelta(days=1)
    return days


def free_times(
    *,
    location: Location,
    rules: Rules,
    specialists: list[Specialist],
    duration: int,
    day: date,
    now: datetime | None = None,
    exclude_appointment: int | None = None,
) -> list[Slot]:
    """The free times of one local day, each with the specialist it would be booked with
    (with several specialists, the one with the fewest appointments that day)."""
    now = now or timezone.now()
    first, last = _bounds(rules, now, day, day)
    if first > last or not specialists or duration <= 0:
        return []
    plan = _Plan(
        location=location,
        rules=rules,
        specialists=specialists,
        first=day,
        last=day,
        now=now,
        exclude_appointment=exclude_appointment,
    )
    ranked = sorted(
        enumerate(specialists),
        key=lambda pair: (plan.booked_that_day(pair[1].pk, day), pair[0]),
    )
    chosen: dict[int, int] = {}
    for _order, specialist in ranked:
        for start in plan.starts(specialist.pk, day, duration):
            chosen.setdefault(start, specialist.pk)
    return [
        Slot(start=_moment(start, rules.time_zone), specialist_id=specialist_id)
        for start, specialist_id in sorted(chosen.items())
    ]


def offered_specialists(
    *,
    location: Location,
    rules: Rules,
    specialists: list[Specialist],
    duration: int,
    start: datetime,
    now: datetime | None = None,
    exclude_appointment: int | None = None,
) -> list[Specialist]:
    """Of ``specialists``, those free at ``start``, best first (the order ``free_times``
    would pick them in)."""
    now = now or timezone.now()
    day = start.astimezone(zone(rules.time_zone)).date()
    first, last = _bounds(rules, now, day, day)
    if first > last or not specialists or duration <= 0:
        return []
    plan = _Plan(
        location=location,
        rules=rules,
        specialists=specialists,
        first=day,
        last=day,
        now=now,
        exclude_appointment=exclude_appointment,
    )
    wanted = _minutes(start)
    if start.second or start.microsecond:
        return []
    ranked = sorted(
        enumerate(specialists),
        key=lambda pair: (plan.booked_that_day(pair[1].pk, day), pair[0]),
    )
    return [
        specialist
        for _order, specialist in ranked
        if wanted in plan.starts(specialist.pk, day, duration)
    ]
