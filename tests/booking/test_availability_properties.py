"""Availability (F6) against a brute-force oracle, over generated worlds: a location in one
of three zones with or without opening hours, specialists with a weekly schedule,
exceptions (a day off, other hours), services, appointments in every state (cancelled and
no-show ones free their time; holds awaiting payment hold it until ``hold_until``), and
the rules (step, notice, horizon, buffer).

The oracle does not reuse the implementation's arithmetic: it walks the timeline minute by
minute, marks each minute worked (inside the specialist's hours of that local day and the
location's opening hours), occupied (inside an appointment that holds time) or kept free
(within ``buffer`` minutes after one), and offers a start exactly when

- the start lies on the step counted from the location's local midnight of its day,
- its day is neither before today nor after today plus the horizon, and the start is no
  earlier than now plus the notice,
- every minute of the visit is worked, none is occupied or kept free, and none of the
  ``buffer`` minutes after the visit is occupied.

Checked: each specialist's times are exactly the oracle's (nothing offered that breaks a
rule, everything offered that keeps them all); "any specialist" offers the union, each
time with the specialist the pick rule names (fewest appointments that day, then the
salon's order); ``offered_specialists`` agrees; ``free_days`` lists a day iff it has a
time.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from navbat.booking import availability
from navbat.booking.availability import Rules
from navbat.booking.models import Status
from tests.booking import availability_rows as rows

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
ZONES = ["Asia/Tashkent", "Europe/Moscow", "Asia/Almaty"]
BASE = date(2031, 3, 3)  # a Monday
WINDOW = [BASE + timedelta(days=offset) for offset in range(-1, 4)]
KINDS = [
    Status.BOOKED,
    Status.CONFIRMED,
    Status.ARRIVED,
    Status.COMPLETED,
    Status.CANCELLED,
    Status.NO_SHOW,
    "hold",
    "hold",
]

SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


# ------------------------------------------------------------------------------ worlds


@dataclass
class Booking:
    day: int  # offset from BASE
    start: int  # minute of that local day
    minutes: int
    kind: str
    hold_delta: int = 0  # a hold's end, minutes after now


@dataclass
class Person:
    name: str
    sort_order: int
    active: bool
    online: bool
    performs: list[int]  # indexes of the world's services
    week: dict[int, tuple[int, int] | None]  # weekday -> minutes of the day
    exceptions: dict[int, tuple[int, int] | None]  # day offset -> hours or a day off
    bookings: list[Booking] = field(default_factory=list)


@dataclass
class World:
    tz: str
    opening: dict[int, tuple[int, int] | None] | None  # None: no opening hours set
    step: int
    notice: int
    horizon: int
    buffer: int
    now_day: int
    now_minute: int
    now_second: int
    durations: list[int]
    people: list[Person]


@st.composite
def hours_of_a_day(draw, *, until_midnight: bool = False) -> tuple[int, int]:
    """A stretch of a day in minutes: mostly whole half hours of a working day, sometimes
    on five minutes, sometimes any minutes."""
    shape = draw(st.integers(0, 4))
    if shape <= 2:
        start = draw(st.integers(12, 26)) * 30  # 06:00-13:00
        end = min(start + draw(st.integers(4, 20)) * 30, 1439)
    elif shape == 3:
        start = draw(st.integers(72, 168)) * 5
        end = min(start + draw(st.integers(6, 120)) * 5, 1439)
    else:
        start = draw(st.integers(0, 1438))
        end = draw(st.integers(start + 1, 1439))
    if until_midnight and draw(st.booleans()):
        end = 1440  # written "00:00"
    return start, end


kinds = st.sampled_from(KINDS)
holds_ending = st.sampled_from([-30, -1, 0, 1, 30])
lengths = st.one_of(st.integers(1, 24).map(lambda n: n * 5), st.integers(1, 180))
# Now and then the longest appointment there is, reaching from the evening before.
lengths_or_longest = st.one_of(lengths, lengths, lengths, st.just(720))


@st.composite
def loose_bookings(draw) -> Booking:
    """An appointment anywhere around the window, or a long one from the evening before
    into the morning's shifts."""
    kind = draw(kinds)
    if draw(st.integers(0, 3)) == 0:
        start, minutes = draw(st.integers(216, 287)) * 5, draw(st.integers(120, 144)) * 5
    else:
        start = draw(st.one_of(st.integers(72, 250).map(lambda n: n * 5), st.integers(0, 1439)))
        minutes = draw(lengths_or_longest)
    return Booking(
        day=draw(st.integers(-2, 4)),
        start=start,
        minutes=minutes,
        kind=kind,
        hold_delta=draw(holds_ending) if kind == "hold" else 0,
    )


@st.composite
def chained_bookings(
    draw, *, fit: int, buffer: int, step: int, shift: tuple[int, int], days: list[int]
) -> list[Booking]:
    """Appointments one after another on a day, mostly from within the usual shift, with
    gaps that often leave room for exactly one visit (``fit`` minutes and the buffers), one
    minute more or one less, and lengths that often end a buffer before a start on the
    step."""
    day = draw(st.one_of(st.sampled_from(days), st.integers(-1, 3)))
    start = draw(
        st.one_of(
            st.integers(-(-shift[0] // step), (shift[0] + 120) // step).map(lambda n: n * step),
            st.integers(24, 52).map(lambda n: n * 15),
            st.integers(0, 1439),
        )
    )
    exact = fit + 2 * buffer
    gaps = st.one_of(
        st.just(exact),
        st.just(exact),
        st.sampled_from([0, exact - 1, exact + 1, fit + buffer, exact + step]),
        st.integers(0, 120),
    )
    chain = []
    for _link in range(draw(st.integers(1, 4))):
        kind = draw(st.one_of(st.sampled_from([Status.BOOKED, "hold"]), st.sampled_from(KINDS)))
        # Often ending ``buffer`` minutes before a start on the step.
        to_the_step = (-(start + buffer)) % step
        on_the_step = st.integers(0 if to_the_step else 1, 5).map(
            lambda n, extra=to_the_step: extra + n * step
        )
        minutes = draw(st.one_of(on_the_step, on_the_step, on_the_step, st.just(fit), lengths))
        chain.append(
            Booking(
                day=day,
                start=start,
                minutes=minutes,
                kind=kind,
                hold_delta=draw(holds_ending) if kind == "hold" else 0,
            )
        )
        start += minutes + max(draw(gaps), 0)
    return chain


@st.composite
def people(draw, *, services: int, fit: int, buffer: int, step: int, days: list[int]) -> Person:
    usual = draw(hours_of_a_day())
    other_days = draw(st.dictionaries(st.integers(0, 6), hours_of_a_day(), max_size=2))
    days_off = draw(st.sets(st.integers(0, 6), max_size=2))
    chain = chained_bookings(fit=fit, buffer=buffer, step=step, shift=usual, days=days)
    chains = draw(st.lists(chain, min_size=1, max_size=2))
    return Person(
        name=draw(st.sampled_from(["Aziz", "Bek", "Dilya"])),
        sort_order=draw(st.integers(0, 2)),
        active=draw(st.integers(0, 9)) > 0,
        online=draw(st.integers(0, 9)) > 0,
        performs=[i for i in range(services) if draw(st.integers(0, 9))],
        week={
            weekday: None if weekday in days_off else other_days.get(weekday, usual)
            for weekday in range(7)
        },
        exceptions=draw(
            st.dictionaries(st.integers(-1, 3), st.one_of(st.none(), hours_of_a_day()), max_size=2)
        ),
        bookings=[b for chain in chains for b in chain]
        + draw(st.lists(loose_bookings(), max_size=3)),
    )


@st.composite
def worlds(draw, *, least_people: int = 1) -> World:
    services = draw(st.sampled_from([1, 1, 2, 2, 3]))
    step = draw(st.sampled_from([5, 10, 15, 20, 25, 30, 45, 60, 90]))
    buffer = draw(st.sampled_from([0, 0, 5, 10, 15, 45]))
    horizon = draw(st.integers(1, 3))
    now_day = draw(st.sampled_from([-1, 0]))
    durations = draw(
        st.lists(
            st.one_of(st.integers(1, 18).map(lambda n: n * 5), st.integers(5, 120)),
            min_size=services,
            max_size=services,
        )
    )
    opening_hours = st.one_of(
        st.sampled_from([(480, 1320), (540, 1440), (0, 1440), (600, 1020)]),
        hours_of_a_day(until_midnight=True),
    )
    opening = draw(
        st.one_of(
            st.none(),
            opening_hours.map(lambda hours: dict.fromkeys(range(7), hours)),
            st.fixed_dictionaries(
                {
                    weekday: st.one_of(opening_hours, opening_hours, st.none())
                    for weekday in range(7)
                }
            ),
        )
    )
    return World(
        tz=draw(st.sampled_from(ZONES)),
        opening=opening,
        step=step,
        notice=draw(st.sampled_from([0, 0, 0, 10, 60, 95, 24 * 60 + 30])),
        horizon=horizon,
        buffer=buffer,
        now_day=now_day,
        # Often on five minutes of a working morning, where the notice meets the step.
        now_minute=draw(st.one_of(st.integers(72, 192).map(lambda n: n * 5), st.integers(0, 1439))),
        now_second=draw(st.sampled_from([0, 0, 1, 30, 59])),
        durations=durations,
        people=draw(
            st.lists(
                people(
                    services=services,
                    fit=sum(durations),
                    buffer=buffer,
                    step=step,
                    days=list(range(now_day, now_day + horizon + 1)),
                ),
                min_size=least_people,
                max_size=3,
            )
        ),
    )


# ---------------------------------------------------------------------------- the rows


def clock_of(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def wall(minutes: int) -> str:
    return "00:00" if minutes == 1440 else clock_of(minutes).strftime("%H:%M")


def local_moment(world: World, day_offset: int, minute: int) -> datetime:
    """``minute`` minutes after the local midnight of a day (none of the zones changes
    its offset around the window)."""
    day = BASE + timedelta(days=day_offset)
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(world.tz)) + minute * MINUTE


def now_of(world: World) -> datetime:
    moment = local_moment(world, world.now_day, world.now_minute)
    return moment + timedelta(seconds=world.now_second)


@dataclass
class Built:
    location: object
    services: list
    specialists: list  # in the world's order
    # Per specialist: (start, end, status, hold_until) of the appointments written.
    appointments: list[list[tuple[datetime, datetime, str, datetime | None]]]


def build(world: World) -> Built:
    owner = rows.business()
    opening = None
    if world.opening is not None:
        opening = {
            weekday: (wall(hours[0]), wall(hours[1])) if hours else None
            for weekday, hours in world.opening.items()
        }
    place = rows.location(owner, tz=world.tz, opening=opening)
    services = [rows.service(owner, minutes) for minutes in world.durations]
    now = now_of(world)
    built = Built(location=place, services=services, specialists=[], appointments=[])
    for person in world.people:
        specialist = rows.specialist(
            place,
            services=[services[i] for i in person.performs],
            week={
                weekday: (clock_of(h[0]), clock_of(h[1])) if h else None
                for weekday, h in person.week.items()
            },
            name=person.name,
            sort_order=person.sort_order,
            is_active=person.active,
            bookable_online=person.online,
        )
        for offset, hours in person.exceptions.items():
            day = BASE + timedelta(days=offset)
            rows.exception(
                specialist, day, (clock_of(hours[0]), clock_of(hours[1])) if hours else None
            )
        written = []
        occupied_until = None
        for booking in sorted(person.bookings, key=lambda b: (b.day, b.start)):
            starts_at = local_moment(world, booking.day, booking.start)
            ends_at = starts_at + timedelta(minutes=booking.minutes)
            status = Status.AWAITING_PAYMENT if booking.kind == "hold" else booking.kind
            occupies = status not in (Status.CANCELLED, Status.NO_SHOW)
            if occupies:
                # Appointments that occupy time never overlap (PostgreSQL's constraint).
                if occupied_until is not None and starts_at < occupied_until:
                    continue
                occupied_until = ends_at
            hold_until = (
                now + timedelta(minutes=booking.hold_delta) if booking.kind == "hold" else None
            )
            rows.appointment(
                specialist, starts_at, booking.minutes, status=status, hold_until=hold_until
            )
            written.append((starts_at, ends_at, status, hold_until))
        built.specialists.append(specialist)
        built.appointments.append(written)
    return built


# ------------------------------------------------------------------------------ oracle


def minute_number(moment: datetime) -> int:
    return (moment - EPOCH) // MINUTE


class Oracle:
    """The rules, minute by minute."""

    def __init__(self, world: World, built: Built):
        self.world = world
        self.built = built
        self.zone = ZoneInfo(world.tz)
        self.now = now_of(world)
        self.today = self.now.astimezone(self.zone).date()
        self.midnights: dict[date, int] = {}
        self.first = minute_number(datetime.combine(WINDOW[0], time.min, tzinfo=self.zone)) - 1440
        self.last = minute_number(
            datetime.combine(WINDOW[-1] + timedelta(days=2), time.min, tzinfo=self.zone)
        )
        # The local day and minute of the day of every minute of the timeline.
        self.local = []
        for number in range(self.first, self.last):
            moment = (EPOCH + number * MINUTE).astimezone(self.zone)
            self.local.append((moment.date(), moment.hour * 60 + moment.minute))
        self.worked = [self._worked(index) for index in range(len(world.people))]
        self.occupied, self.kept_free, self.holding = [], [], []
        for index in range(len(world.people)):
            occupied = bytearray(self.last - self.first)
            kept = bytearray(self.last - self.first)
            holding = []
            for starts_at, ends_at, status, hold_until in built.appointments[index]:
                if status in (Status.CANCELLED, Status.NO_SHOW):
                    continue
                if status == Status.AWAITING_PAYMENT and hold_until <= self.now:
                    continue
                holding.append(starts_at)
                a, b = minute_number(starts_at), minute_number(ends_at)
                # Minutes outside the timeline matter to no visit of the window.
                for number in range(max(a, self.first), min(b, self.last)):
                    occupied[number - self.first] = 1
                for number in range(max(b, self.first), min(b + world.buffer, self.last)):
                    kept[number - self.first] = 1
            self.occupied.append(occupied)
            self.kept_free.append(kept)
            self.holding.append(holding)

    def _hours(self, index: int, day: date) -> tuple[int, int] | None:
        person = self.world.people[index]
        offset = (day - BASE).days
        if offset in person.exceptions:
            return person.exceptions[offset]
        return person.week.get(day.weekday())

    def _open(self, day: date, minute: int) -> bool:
        if self.world.opening is None:
            return True
        hours = self.world.opening.get(day.weekday())
        return hours is not None and hours[0] <= minute < hours[1]

    def _worked(self, index: int) -> bytearray:
        worked = bytearray(self.last - self.first)
        for position, (day, minute) in enumerate(self.local):
            hours = self._hours(index, day)
            if hours and hours[0] <= minute < hours[1] and self._open(day, minute):
                worked[position] = 1
        return worked

    def free(self, index: int, number: int, duration: int) -> bool:
        """Whether a visit of ``duration`` minutes starting at minute ``number`` keeps
        every rule with specialist ``index``."""
        day, _minute = self.local[number - self.first]
        if (number - self.midnight(day)) % self.world.step:
            return False
        if day < self.today or day > self.today + timedelta(days=self.world.horizon):
            return False
        if EPOCH + number * MINUTE < self.now + timedelta(minutes=self.world.notice):
            return False
        visit = slice(number - self.first, number - self.first + duration)
        after = slice(visit.stop, visit.stop + self.world.buffer)
        return (
            0 not in self.worked[index][visit]
            and 1 not in self.occupied[index][visit]
            and 1 not in self.kept_free[index][visit]
            and 1 not in self.occupied[index][after]
        )

    def midnight(self, day: date) -> int:
        if day not in self.midnights:
            local_midnight = datetime.combine(day, time.min, tzinfo=self.zone)
            self.midnights[day] = minute_number(local_midnight)
        return self.midnights[day]

    def day_minutes(self, day: date) -> range:
        return range(self.midnight(day), self.midnight(day + timedelta(days=1)))

    def times(self, index: int, day: date, duration: int) -> list[int]:
        return [n for n in self.day_minutes(day) if self.free(index, n, duration)]

    def booked_that_day(self, index: int, day: date) -> int:
        return sum(
            1 for starts_at in self.holding[index] if starts_at.astimezone(self.zone).date() == day
        )

    def performers(self, service_indexes: list[int]) -> list[int]:
        found = [
            index
            for index, person in enumerate(self.world.people)
            if person.active and person.online and set(service_indexes) <= set(person.performs)
        ]
        return sorted(
            found,
            key=lambda i: (
                self.world.people[i].sort_order,
                self.world.people[i].name,
                self.built.specialists[i].pk,
            ),
        )

    def ranked(self, order: list[int], day: date, number: int, duration: int) -> list[int]:
        """Those of ``order`` free at ``number``, in the order "any specialist" picks."""
        free = [i for i in order if self.free(i, number, duration)]
        return sorted(free, key=lambda i: (self.booked_that_day(i, day), order.index(i)))


# ------------------------------------------------------------------------------ the tests


def rules_of(world: World) -> Rules:
    return Rules(
        step=world.step,
        notice=world.notice,
        horizon_days=world.horizon,
        buffer=world.buffer,
        time_zone=world.tz,
    )


def minutes_of(slots) -> list[int]:
    return [minute_number(slot.start) for slot in slots]


def show(numbers: list[int], zone: str) -> list[str]:
    return [(EPOCH + n * MINUTE).astimezone(ZoneInfo(zone)).isoformat() for n in numbers]


def plain_world(bookings: list[Booking], *, week=(360, 600), **changes) -> World:
    """One specialist working 06:00-10:00 (or ``week``) every day, one 30-minute service, now Sunday
    06:00 in Tashkent, no notice: the cases below change what they are about."""
    person = Person(
        name="Aziz",
        sort_order=0,
        active=True,
        online=True,
        performs=[0],
        week=dict.fromkeys(range(7), week),
        exceptions={},
        bookings=bookings,
    )
    values = dict(
        tz="Asia/Tashkent",
        opening=None,
        step=15,
        notice=0,
        horizon=1,
        buffer=0,
        now_day=-1,
        now_minute=360,
        now_second=0,
        durations=[30],
        people=[person],
    )
    values.update(changes)
    return World(**values)


# A visit that fits exactly between two appointments, with and without buffers.
EXACT_FIT = plain_world([Booking(0, 420, 60, Status.BOOKED), Booking(0, 510, 60, Status.BOOKED)])
EXACT_FIT_BUFFERED = plain_world(
    [Booking(0, 420, 50, Status.BOOKED), Booking(0, 530, 60, Status.CONFIRMED)], buffer=10
)
# Now is half a minute past a start on the step: that start has passed.
SECONDS_PAST = plain_world([], now_minute=390, now_second=30)
# The longest appointment there is (12 hours), from Sunday 17:00 to Monday 05:00, in
# Monday's night shift (00:00-06:00).
OVERNIGHT = plain_world([Booking(-1, 1020, 720, Status.CONFIRMED)], week=(0, 360))


@SLOW
@example(world=EXACT_FIT)
@example(world=EXACT_FIT_BUFFERED)
@example(world=SECONDS_PAST)
@example(world=OVERNIGHT)
@given(world=worlds())
def test_each_specialists_times_are_exactly_those_keeping_every_rule(world):
    with transaction.atomic():
        built = build(world)
        oracle = Oracle(world, built)
        duration = sum(world.durations)
        for index, specialist in enumerate(built.specialists):
            for day in WINDOW:
                offered = availability.free_times(
                    location=built.location,
                    rules=rules_of(world),
                    specialists=[specialist],
                    duration=duration,
                    day=day,
                    now=oracle.now,
                )
                expected = oracle.times(index, day, duration)
                got = minutes_of(offered)
                assert not set(got) - set(expected), (
                    "offered against the rules",
                    day,
                    show(sorted(set(got) - set(expected)), world.tz),
                )
                assert not set(expected) - set(got), (
                    "kept every rule yet not offered",
                    day,
                    show(sorted(set(expected) - set(got)), world.tz),
                )
                assert got == expected  # once each, in order
                assert {slot.specialist_id for slot in offered} <= {specialist.pk}
                assert all(slot.start.tzinfo == ZoneInfo(world.tz) for slot in offered)
            days = availability.free_days(
                location=built.location,
                rules=rules_of(world),
                specialists=[specialist],
                duration=duration,
                first=WINDOW[0],
                last=WINDOW[-1],
                now=oracle.now,
            )
            assert days == [day for day in WINDOW if oracle.times(index, day, duration)]
        transaction.set_rollback(True)


@SLOW
@given(world=worlds(least_people=2), chosen=st.sets(st.integers(0, 2), min_size=1, max_size=2))
def test_any_specialist_offers_the_union_and_picks_by_the_rule(world, chosen):
    with transaction.atomic():
        built = build(world)
        oracle = Oracle(world, built)
        service_indexes = sorted(i for i in chosen if i < len(world.durations)) or [0]
        services = [built.services[i] for i in service_indexes]
        duration = availability.duration_of(services)
        assert duration == sum(world.durations[i] for i in service_indexes)
        performers = availability.performers(
            location=built.location, service_ids=[service.pk for service in services]
        )
        order = oracle.performers(service_indexes)
        assert [p.pk for p in performers] == [built.specialists[i].pk for i in order]
        asked = dict(
            location=built.location,
            rules=rules_of(world),
            specialists=performers,
            duration=duration,
            now=oracle.now,
        )
        for day in WINDOW:
            offered = availability.free_times(day=day, **asked)
            expected = []
            for number in oracle.day_minutes(day):
                ranked = oracle.ranked(order, day, number, duration)
                if ranked:
                    expected.append((number, built.specialists[ranked[0]].pk))
            assert [(minute_number(s.start), s.specialist_id) for s in offered] == expected
            # offered_specialists agrees at a few of the day's offered times and at the
            # times just after them (off the step unless the step is one minute).
            for number, _pk in expected[:2] + expected[-1:]:
                for probe in (number, number + 1):
                    start = (EPOCH + probe * MINUTE).astimezone(ZoneInfo(world.tz))
                    got = availability.offered_specialists(start=start, **asked)
                    want = oracle.ranked(order, day, probe, duration)
                    assert [p.pk for p in got] == [built.specialists[i].pk for i in want]
        days = availability.free_days(first=WINDOW[0], last=WINDOW[-1], **asked)
        assert days == [
            day
            for day in WINDOW
            if any(oracle.ranked(order, day, n, duration) for n in oracle.day_minutes(day))
        ]
        transaction.set_rollback(True)
