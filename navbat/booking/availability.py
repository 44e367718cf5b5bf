"""Free times for online booking (F6): which days of a window have a free time and which
times a day offers, for a set of services with one specialist or any.

Pure reads. The cost grows with the window shown, not with the salon's history: three
statements (the specialists' week, the window's exceptions, the window's appointments:
those of the business and the specialists starting within the window or at most the
longest appointment before it, which the ``(business, specialist, starts_at)`` index
finds), the appointments' times arriving as whole minutes since the epoch computed by the
database; then arithmetic on those minutes (no datetime per candidate time; a specialist's
appointments near a day are found by bisection). ``bench/availability.py`` measures it.

The rules a time must satisfy (``tests/booking/test_availability_properties.py`` states
them once more, independently, minute by minute):

- it starts on the slot step counted from the location's local midnight;
- the visit (the services' durations summed, in the order chosen) lies inside the
  specialist's hours that day (the weekly shift, or that day's exception) and inside the
  location's opening hours that day;
- it overlaps no appointment that occupies the specialist's time (a hold awaiting
  prepayment counts until ``hold_until``), keeping ``buffer`` minutes free after each
  appointment, the new one included;
- it starts no earlier than ``now`` plus the minimum notice, and on a local day no later
  than today plus the horizon.

Clock times are read to the minute: a shift or opening that starts at 09:00:30 starts at
09:01, one that ends at 17:59:30 ends at 17:59; an appointment occupies every minute it
touches.

"Any specialist" offers a time when one of the specialists who perform all the services
is free then, and books the one with the fewest appointments that day (appointments that
occupy time and start that local day, unexpired holds included); ties go to the salon's
order of specialists (the order of the list given, as ``performers`` returns it).
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connections
from django.db.models import BigIntegerField, Func
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
MINUTE = timedelta(minutes=1)
DAY = 24 * 60
ONE_DAY = timedelta(days=1)


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
    """The location's online booking settings (the defaults, unsaved, where none are).
    Read through the location's own one-to-one relation, so a request asks once however
    many steps want them (the widget's entry, its choice, the refund policy)."""
    try:
        return location.booking_settings
    except BookingSettings.DoesNotExist:
        return BookingSettings(business_id=location.business_id, location=location)


def duration_of(services: list[Service]) -> int:
    return sum(service.duration_minutes for service in services)


def performers(*, location: Location, service_ids: list[int]) -> list[Specialist]:
    """Active specialists of the location, open to online booking, who perform every one of
    the services; in the salon's order. Their photos are not loaded (``photo`` is
    deferred: the widget serves them by a view of their own)."""
    rows = scoped(Specialist, location.business).filter(
        location=location, is_active=True, bookable_online=True
    )
    # One join per service: a specialist is kept only if each of them finds a row.
    for service_id in sorted(set(service_ids)):
        rows = rows.filter(services=service_id)
    return list(rows.defer("photo").order_by("sort_order", "name", "id"))


def _floor(moment: datetime) -> int:
    """Whole minutes since the epoch, rounded down."""
    return (moment - EPOCH) // MINUTE


def _ceil(moment: datetime) -> int:
    """Whole minutes since the epoch, rounded up."""
    return -((EPOCH - moment) // MINUTE)


def _moment(minutes: int, tz: ZoneInfo) -> datetime:
    return (EPOCH + timedelta(minutes=minutes)).astimezone(tz)


def _clock(at: time, *, up: bool) -> int:
    """A clock time as minutes after midnight (seconds round up for a start)."""
    minutes = at.hour * 60 + at.minute
    return minutes + 1 if up and (at.second or at.microsecond) else minutes


def _parse_clock(value) -> time | None:
    try:
        hours, minutes = str(value).split(":")[:2]
        return time(int(hours), int(minutes))
    except (ValueError, TypeError):
        return None


def _opening(location: Location, weekday: int) -> tuple[time, time | None] | None:
    """The location's hours on a weekday; None when closed. A location with no opening
    hours set is not limited by them (its specialists' hours decide); ``(start, None)``
    means open until midnight."""
    hours = location.opening_hours or {}
    if not hours:
        return time.min, None
    entry = hours.get(str(weekday))
    if not entry or len(entry) != 2:
        return None
    opens, closes = _parse_clock(entry[0]), _parse_clock(entry[1])
    if opens is None or closes is None:
        return None
    return opens, (None if closes == time.min else closes)


class EpochMinutes(Func):
    """A datetime column as whole minutes since the epoch, rounded down (or up), computed
    by the database: the window's appointments arrive as integers, not as datetimes to
    parse (which cost more than everything else availability does)."""

    output_field = BigIntegerField()

    def __init__(self, expression, *, up: bool = False):
        super().__init__(expression)
        self.up = up

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        rounding = "CEIL" if self.up else "FLOOR"
        # date_part's double precision holds the seconds of these centuries exactly to the
        # microsecond, and is cheaper than EXTRACT's numeric.
        return f"{rounding}(date_part('epoch', {sql}) / 60)::bigint", params

    def as_sqlite(self, compiler, connection, **extra):
        # Django keeps datetimes as UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]"; a time on the
        # minute is exactly its own text truncated to the minute.
        sql, params = compiler.compile(self.source_expressions[0])
        floor = f"(CAST(strftime('%%s', {sql}) AS INTEGER) / 60)"
        if not self.up:
            return floor, params
        whole = f"(strftime('%%Y-%%m-%%d %%H:%%M:00', {sql}) <> {sql})"
        return f"({floor} + {whole})", [*params, *params, *params]


def _minutes_of(appointments) -> Iterable[tuple[int, int, int]]:
    """(specialist, start, end) of each appointment, in whole minutes since the epoch."""
    database = connections[appointments.db]
    if database.vendor not in ("postgresql", "sqlite"):
        return [
            (specialist_id, _floor(starts_at), _ceil(ends_at))
            for specialist_id, starts_at, ends_at in appointments.values_list(
                "specialist_id", "starts_at", "ends_at"
            ).order_by()
        ]
    rows = (
        appointments.annotate(
            starts_minute=EpochMinutes("starts_at"), ends_minute=EpochMinutes("ends_at", up=True)
        )
        .values_list("specialist_id", "starts_minute", "ends_minute")
        .order_by()
    )
    # The statement the ORM built, run as it is: the rows are integers already, and the
    # ORM's converters would cost a call per value.
    sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


class _Busy:
    """One specialist's occupied stretches in the window, as whole minutes, by start."""

    __slots__ = ("ends", "longest", "starts")

    def __init__(self, intervals: list[tuple[int, int]]):
        intervals.sort()
        self.starts = [a for a, _b in intervals]
        self.ends = [b for _a, b in intervals]
        self.longest = max(b - a for a, b in intervals)


class _Plan:
    """The window's schedule of the chosen specialists, loaded once (three statements)."""

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
        self.zone = zone(rules.time_zone)
        self.earliest = _ceil(now) + rules.notice
        self.week: dict[tuple[int, int], tuple[int, int]] = {}
        self.exceptions: dict[tuple[int, date], tuple[int, int] | None] = {}
        self.busy: dict[int, _Busy] = {}
        self._frames: dict[date, tuple] = {}
        self._openings: dict[int, tuple[time, time | None] | None] = {}
        ids = [specialist.pk for specialist in specialists]
        if not ids:
            return
        business = location.business
        for specialist_id, weekday, starts, ends in (
            scoped(WorkingHours, business)
            .filter(specialist_id__in=ids)
            .values_list("specialist_id", "weekday", "starts", "ends")
            .order_by()
        ):
            self.week[(specialist_id, weekday)] = (
                _clock(starts, up=True),
                _clock(ends, up=False),
            )
        for specialist_id, day, day_off, starts, ends in (
            scoped(ScheduleException, business)
            .filter(specialist_id__in=ids, day__gte=first, day__lte=last)
            .values_list("specialist_id", "day", "is_day_off", "starts", "ends")
            .order_by()
        ):
            hours = None
            if not day_off and starts is not None and ends is not None and ends > starts:
                hours = (_clock(starts, up=True), _clock(ends, up=False))
            self.exceptions[(specialist_id, day)] = hours
        window_start = datetime.combine(first, time.min, tzinfo=self.zone)
        window_end = datetime.combine(last + ONE_DAY, time.min, tzinfo=self.zone)
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
        found: dict[int, list[tuple[int, int]]] = {}
        for specialist_id, starts, ends in _minutes_of(appointments):
            found.setdefault(specialist_id, []).append((starts, ends))
        self.busy = {specialist_id: _Busy(rows) for specialist_id, rows in found.items()}

    def _at(self, day: date, midnight: int, regular: bool, at: time, *, up: bool) -> int:
        """A wall-clock time of a local day as whole minutes since the epoch."""
        if regular:
            return midnight + _clock(at, up=up)
        moment = datetime.combine(day, at, tzinfo=self.zone)
        return _ceil(moment) if up else _floor(moment)

    def _wall(self, day: date, minutes: int) -> int:
        """Minutes after local midnight on a day whose offset changes, since the epoch."""
        if minutes >= DAY:
            return _floor(datetime.combine(day + ONE_DAY, time.min, tzinfo=self.zone))
        return _floor(datetime.combine(day, time(*divmod(minutes, 60)), tzinfo=self.zone))

    def frame(self, day: date) -> tuple[int, int, bool, int, int] | None:
        """The day's local midnight and the next one, whether the day has no change of
        offset, and the location's opening and closing that day (None when closed)."""
        if day in self._frames:
            return self._frames[day]
        midnight = _floor(datetime.combine(day, time.min, tzinfo=self.zone))
        next_midnight = _floor(datetime.combine(day + ONE_DAY, time.min, tzinfo=self.zone))
        regular = next_midnight - midnight == DAY
        weekday = day.weekday()
        if weekday not in self._openings:
            self._openings[weekday] = _opening(self.location, weekday)
        opening = self._openings[weekday]
        frame = None
        if opening is not None:
            opens = self._at(day, midnight, regular, opening[0], up=True)
            closes = (
                next_midnight
                if opening[1] is None
                else self._at(day, midnight, regular, opening[1], up=False)
            )
            frame = (midnight, next_midnight, regular, opens, closes)
        self._frames[day] = frame
        return frame

    def hours(self, specialist_id: int, day: date) -> tuple[int, int] | None:
        """The specialist's hours that day, as minutes after local midnight."""
        key = (specialist_id, day)
        if key in self.exceptions:
            return self.exceptions[key]
        return self.week.get((specialist_id, day.weekday()))

    def booked_that_day(self, specialist_id: int, day: date) -> int:
        busy = self.busy.get(specialist_id)
        if busy is None:
            return 0
        midnight = _floor(datetime.combine(day, time.min, tzinfo=self.zone))
        next_midnight = _floor(datetime.combine(day + ONE_DAY, time.min, tzinfo=self.zone))
        return bisect_left(busy.starts, next_midnight) - bisect_left(busy.starts, midnight)

    def starts(
        self, specialist_id: int, day: date, duration: int, *, first_only: bool = False
    ) -> list[int]:
        """The free starts (minutes since the epoch) of one specialist on one local day."""
        frame = self.frame(day)
        shift = self.hours(specialist_id, day)
        if frame is None or shift is None:
            return []
        midnight, _next, regular, location_opens, location_closes = frame
        if regular:
            opens, closes = midnight + shift[0], midnight + shift[1]
        else:
            opens, closes = self._wall(day, shift[0]), self._wall(day, shift[1])
        earliest = max(opens, location_opens, self.earliest)
        latest = min(closes, location_closes) - duration  # the last start that fits
        if earliest > latest:
            return []
        step = self.rules.step
        candidate = earliest + (midnight - earliest) % step  # the first start on the step
        found: list[int] = []
        busy = self.busy.get(specialist_id)
        if busy is not None:
            buffer = self.rules.buffer
            starts, ends = busy.starts, busy.ends
            # A start s is forbidden by a stretch [a, b) when a - duration - buffer < s <
            # b + buffer. Only stretches ending after ``earliest`` (b <= a + longest) and
            # starting before the last start (plus the margins) can forbid one.
            low_index = bisect_right(starts, earliest - buffer - busy.longest)
            high_index = bisect_left(starts, latest + duration + buffer)
            for index in range(low_index, high_index):
                low = starts[index] - duration - buffer
                while candidate <= low and candidate <= latest:
                    found.append(candidate)
                    if first_only:
                        return found
                    candidate += step
                if candidate > latest:
                    return found
                high = ends[index] + buffer
                if candidate < high:
                    candidate += -((candidate - high) // step) * step
        while candidate <= latest:
            found.append(candidate)
            if first_only:
                return found
            candidate += step
        return found


def _bounds(rules: Rules, now: datetime, first: date, last: date) -> tuple[date, date]:
    today = now.astimezone(zone(rules.time_zone)).date()
    return max(first, today), min(last, today + timedelta(days=rules.horizon_days))


def _ranked(plan: _Plan, specialists: list[Specialist], day: date) -> list[Specialist]:
    """The specialists in the order "any specialist" picks them that day."""
    order = sorted(
        range(len(specialists)),
        key=lambda index: (plan.booked_that_day(specialists[index].pk, day), index),
    )
    return [specialists[index] for index in order]


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
    ids = [specialist.pk for specialist in specialists]
    days = []
    day = first
    while day <= last:
        if any(plan.starts(pk, day, duration, first_only=True) for pk in ids):
            days.append(day)
        day += ONE_DAY
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
    chosen: dict[int, int] = {}
    for specialist in _ranked(plan, specialists, day):
        for start in plan.starts(specialist.pk, day, duration):
            chosen.setdefault(start, specialist.pk)
    return [
        Slot(start=_moment(start, plan.zone), specialist_id=specialist_id)
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
    if start.second or start.microsecond:
        return []
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
    wanted = _floor(start)
    return [
        specialist
        for specialist in _ranked(plan, specialists, day)
        if wanted in plan.starts(specialist.pk, day, duration)
    ]
