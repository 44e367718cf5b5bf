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

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from navbat.booking import availability
from navbat.booking.availability import Rules
from navbat.booking.models import Status
from tests.booking.availability_worlds import (
    BASE,
    EPOCH,
    MINUTE,
    WINDOW,
    Booking,
    Built,
    World,
    build,
    now_of,
    plain_world,
    worlds,
)

pytestmark = [pytest.mark.django_db, pytest.mark.fuzz]

SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


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
