"""Availability (F6) on typical days, with the exact times expected: appointments, the
buffer, the step, exceptions, opening hours, notice, horizon, several services, who
performs what, holds, "any specialist" and time zones."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from navbat.booking import availability
from navbat.booking.availability import Rules, free_days, free_times, offered_specialists
from navbat.booking.models import Appointment, BookingSettings, Status
from tests.booking import availability_rows as rows

pytestmark = pytest.mark.django_db

TZ = "Asia/Tashkent"
MONDAY = date(2031, 3, 3)  # a Monday; every test's "now" is the morning of the day before
NOW = rows.local(MONDAY - timedelta(days=1), "07:00", TZ)


def rules(**changes) -> Rules:
    values = {"step": 30, "notice": 0, "horizon_days": 60, "buffer": 0, "time_zone": TZ}
    values.update(changes)
    return Rules(**values)


def clock_times(slots, tz: str = TZ) -> list[str]:
    return [slot.start.astimezone(ZoneInfo(tz)).strftime("%H:%M") for slot in slots]


def times_of(place, people, minutes, *, day=MONDAY, now=NOW, **changes) -> list[str]:
    found = free_times(
        location=place,
        rules=rules(time_zone=place.timezone, **changes),
        specialists=list(people),
        duration=minutes,
        day=day,
        now=now,
    )
    return clock_times(found, place.timezone)


@pytest.fixture
def owner():
    return rows.business()


@pytest.fixture
def place(owner):
    return rows.location(owner)


def test_appointments_leave_the_times_around_them(place):
    person = rows.specialist(place, week={0: ("09:00", "13:00")})
    rows.appointment(person, rows.local(MONDAY, "10:00", TZ), 60)
    assert times_of(place, [person], 60) == ["09:00", "11:00", "11:30", "12:00"]
    assert times_of(place, [person], 30) == ["09:00", "09:30", "11:00", "11:30", "12:00", "12:30"]


def test_a_visit_fits_exactly_between_two_appointments(place):
    person = rows.specialist(place, week={0: ("09:00", "14:00")})
    rows.appointment(person, rows.local(MONDAY, "10:00", TZ), 60)
    rows.appointment(person, rows.local(MONDAY, "12:00", TZ), 60)
    assert times_of(place, [person], 60, step=60) == ["09:00", "11:00", "13:00"]
    assert times_of(place, [person], 61, step=60) == []
    assert times_of(place, [person], 60, step=60, buffer=5) == []


def test_the_buffer_follows_every_appointment_and_the_new_visit(place):
    person = rows.specialist(place, week={0: ("09:00", "12:00")})
    rows.appointment(person, rows.local(MONDAY, "10:00", TZ), 60)
    # A 30-minute visit needs 15 minutes free after it (before 10:00) and starts 15
    # minutes after the appointment ends.
    assert times_of(place, [person], 30, step=15, buffer=15) == ["09:00", "09:15", "11:15", "11:30"]
    assert times_of(place, [person], 30, step=15) == [
        "09:00",
        "09:15",
        "09:30",
        "11:00",
        "11:15",
        "11:30",
    ]


def test_the_step_counts_from_local_midnight(place):
    person = rows.specialist(place, week={0: ("09:00", "11:00")})
    assert times_of(place, [person], 60, step=15) == ["09:00", "09:15", "09:30", "09:45", "10:00"]
    assert times_of(place, [person], 60, step=30) == ["09:00", "09:30", "10:00"]
    late = rows.specialist(place, week={0: ("09:10", "11:00")})
    assert times_of(place, [late], 30, step=30) == ["09:30", "10:00", "10:30"]
    assert times_of(place, [late], 30, step=45) == ["09:45", "10:30"]


def test_exceptions_replace_the_weekly_shift(place):
    person = rows.specialist(place, week={0: ("09:00", "18:00"), 1: ("09:00", "10:00")})
    rows.exception(person, MONDAY)
    rows.exception(person, MONDAY + timedelta(days=1), ("14:00", "16:00"))
    assert times_of(place, [person], 60) == []
    assert times_of(place, [person], 60, day=MONDAY + timedelta(days=1)) == [
        "14:00",
        "14:30",
        "15:00",
    ]
    # The exception of another day changes nothing on a third one.
    assert times_of(place, [person], 60, day=MONDAY + timedelta(days=7)) == [
        "09:00",
        "09:30",
        *[f"{hour:02d}:{minute:02d}" for hour in range(10, 17) for minute in (0, 30)],
        "17:00",
    ]


def test_opening_hours_narrower_than_the_shift_limit_it(owner):
    place = rows.location(owner, opening={0: ("10:00", "12:00"), 1: None, 2: ("16:00", "00:00")})
    person = rows.specialist(
        place, week={0: ("09:00", "18:00"), 1: ("09:00", "18:00"), 2: ("15:00", "23:00")}
    )
    assert times_of(place, [person], 60) == ["10:00", "10:30", "11:00"]
    assert times_of(place, [person], 60, day=MONDAY + timedelta(days=1)) == []  # closed
    wednesday = MONDAY + timedelta(days=2)
    assert times_of(place, [person], 60, step=60, day=wednesday) == [
        "16:00",
        "17:00",
        "18:00",
        "19:00",
        "20:00",
        "21:00",
        "22:00",
    ]
    # A weekday missing from the opening hours is closed too.
    assert times_of(place, [person], 60, day=MONDAY + timedelta(days=3)) == []


def test_a_location_without_opening_hours_leaves_it_to_the_shifts(place):
    person = rows.specialist(place, week={0: ("06:00", "08:00")})
    assert times_of(place, [person], 60) == ["06:00", "06:30", "07:00"]


def test_minimum_notice_counts_from_now_to_the_second(place):
    person = rows.specialist(place, week={0: ("09:00", "12:00")})
    now = rows.local(MONDAY, "09:10", TZ)
    assert times_of(place, [person], 60, now=now, notice=60) == ["10:30", "11:00"]
    assert times_of(place, [person], 60, now=now, notice=0) == ["09:30", "10:00", "10:30", "11:00"]
    on_the_dot = rows.local(MONDAY, "09:30", TZ)
    assert times_of(place, [person], 30, now=on_the_dot, notice=60) == ["10:30", "11:00", "11:30"]
    # Half a minute after 09:30, 09:30 itself has passed.
    half_past = on_the_dot + timedelta(seconds=30)
    assert times_of(place, [person], 30, now=half_past, notice=0) == [
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]
    assert times_of(place, [person], 30, now=half_past - timedelta(seconds=31), notice=0) == [
        "09:30",
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    ]


def test_a_notice_longer_than_a_day_empties_the_next_day(place):
    person = rows.specialist(place)
    # Now is Sunday 07:00: the notice reaches Monday 18:00, then Monday 11:00.
    assert times_of(place, [person], 60, notice=24 * 60 + 11 * 60) == []
    assert times_of(place, [person], 60, notice=24 * 60 + 4 * 60, step=60) == [
        "11:00",
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
        "17:00",
    ]


def test_the_horizon_and_the_past_bound_the_days(place):
    person = rows.specialist(place)
    sunday = MONDAY - timedelta(days=1)
    days = free_days(
        location=place,
        rules=rules(horizon_days=3),
        specialists=[person],
        duration=60,
        first=sunday - timedelta(days=5),
        last=sunday + timedelta(days=10),
        now=NOW,
    )
    assert days == [sunday + timedelta(days=offset) for offset in range(4)]
    assert times_of(place, [person], 60, day=sunday + timedelta(days=4), horizon_days=3) == []
    assert times_of(place, [person], 60, day=sunday - timedelta(days=1)) == []
    assert times_of(place, [person], 60, day=sunday + timedelta(days=3), horizon_days=3)[:2] == [
        "09:00",
        "09:30",
    ]


def test_free_days_leave_out_days_off_and_full_days(place):
    person = rows.specialist(place, week={day: ("09:00", "11:00") for day in range(6)})
    rows.exception(person, MONDAY + timedelta(days=2))
    rows.appointment(person, rows.local(MONDAY + timedelta(days=3), "09:00", TZ), 120)
    rows.appointment(person, rows.local(MONDAY + timedelta(days=4), "09:30", TZ), 60)
    days = free_days(
        location=place,
        rules=rules(),
        specialists=[person],
        duration=60,
        first=MONDAY,
        last=MONDAY + timedelta(days=6),
        now=NOW,
    )
    # Wednesday is off, Thursday is full, Friday has no free hour, Sunday has no shift.
    assert days == [MONDAY, MONDAY + timedelta(days=1), MONDAY + timedelta(days=5)]
    shorter = free_days(
        location=place,
        rules=rules(),
        specialists=[person],
        duration=30,
        first=MONDAY,
        last=MONDAY + timedelta(days=6),
        now=NOW,
    )
    assert shorter == [MONDAY + timedelta(days=d) for d in (0, 1, 4, 5)]


def test_several_services_sum_their_durations(owner, place):
    cut, colour = rows.service(owner, 60), rows.service(owner, 30)
    person = rows.specialist(place, services=[cut, colour], week={0: ("09:00", "12:00")})
    duration = availability.duration_of([cut, colour])
    assert duration == 90
    assert times_of(place, [person], duration) == ["09:00", "09:30", "10:00", "10:30"]


def test_performers_are_active_online_and_do_every_service(owner, place):
    cut, colour, nails = rows.service(owner, 60), rows.service(owner, 30), rows.service(owner, 45)
    first = rows.specialist(place, services=[cut, colour, nails], sort_order=2, name="Aziza")
    second = rows.specialist(place, services=[cut, colour], sort_order=1, name="Bobur")
    rows.specialist(place, services=[cut, colour], is_active=False)
    rows.specialist(place, services=[cut, colour], bookable_online=False)
    other_place = rows.location(owner)
    rows.specialist(other_place, services=[cut, colour])
    rows.specialist(rows.location(rows.business()), services=[])

    def names(service_ids):
        found = availability.performers(location=place, service_ids=service_ids)
        return [person.name for person in found]

    assert names([cut.pk, colour.pk]) == ["Bobur", "Aziza"]
    # The photos stay in the database (the widget serves them by their own view).
    found = availability.performers(location=place, service_ids=[cut.pk])
    assert all("photo" in person.get_deferred_fields() for person in found)
    assert names([cut.pk, nails.pk]) == ["Aziza"]
    assert names([nails.pk]) == ["Aziza"]
    assert [p.pk for p in availability.performers(location=place, service_ids=[])] == [
        second.pk,
        first.pk,
    ]


def test_any_specialist_offers_only_those_who_perform_the_services(owner, place):
    cut, nails = rows.service(owner, 60), rows.service(owner, 60)
    both = rows.specialist(place, services=[cut, nails], week={0: ("09:00", "11:00")})
    rows.specialist(place, services=[cut], week={0: ("14:00", "16:00")})
    people = availability.performers(location=place, service_ids=[cut.pk, nails.pk])
    assert people == [both]
    assert times_of(place, people, 60, step=60) == ["09:00", "10:00"]


def test_cancelled_no_show_and_expired_holds_free_the_time(place):
    person = rows.specialist(place, week={0: ("09:00", "13:00")})
    at = lambda hour: rows.local(MONDAY, hour, TZ)  # noqa: E731
    rows.appointment(person, at("09:00"), 60, status=Status.CANCELLED)
    rows.appointment(person, at("10:00"), 60, status=Status.NO_SHOW)
    rows.appointment(
        person,
        at("11:00"),
        60,
        status=Status.AWAITING_PAYMENT,
        hold_until=NOW - timedelta(minutes=1),
    )
    rows.appointment(
        person,
        at("12:00"),
        60,
        status=Status.AWAITING_PAYMENT,
        hold_until=NOW + timedelta(minutes=5),
    )
    assert times_of(place, [person], 60, step=60) == ["09:00", "10:00", "11:00"]
    # The hold's last moment: at ``hold_until`` it no longer holds.
    assert times_of(place, [person], 60, step=60, now=NOW + timedelta(minutes=5)) == [
        "09:00",
        "10:00",
        "11:00",
        "12:00",
    ]
    assert times_of(place, [person], 60, step=60, now=NOW + timedelta(minutes=4, seconds=59)) == [
        "09:00",
        "10:00",
        "11:00",
    ]


def test_appointments_off_the_minute_occupy_every_minute_they_touch(place):
    person = rows.specialist(place, week={0: ("09:00", "14:00")})
    ten = rows.local(MONDAY, "10:00", TZ)
    # From 10:00:30 to 10:59:30.5, and from 12:30:00.000001 to 13:00.
    first = rows.appointment(person, ten + timedelta(seconds=30), 59)
    second = rows.appointment(person, ten + timedelta(hours=2, minutes=30, microseconds=1), 30)
    Appointment.objects.filter(pk=first.pk).update(
        ends_at=ten + timedelta(minutes=59, seconds=30, microseconds=500_000)
    )
    Appointment.objects.filter(pk=second.pk).update(ends_at=rows.local(MONDAY, "13:00", TZ))
    assert times_of(place, [person], 60) == ["09:00", "11:00", "11:30", "13:00"]
    # A microsecond past 13:00 takes the minute from 13:00 to 13:01.
    Appointment.objects.filter(pk=second.pk).update(
        ends_at=rows.local(MONDAY, "13:00", TZ) + timedelta(microseconds=1)
    )
    assert times_of(place, [person], 60) == ["09:00", "11:00", "11:30"]


def test_an_appointment_from_the_evening_before_reaches_into_the_day(place):
    person = rows.specialist(place, week={0: ("00:00", "06:00")})
    # The longest appointment there is (12 hours), from 17:00 on Sunday to 05:00 on Monday.
    rows.appointment(person, rows.local(MONDAY - timedelta(days=1), "17:00", TZ), 12 * 60)
    assert times_of(place, [person], 60, step=60) == ["05:00"]
    assert times_of(place, [person], 60, step=60, buffer=1) == []


def test_an_appointment_just_after_the_day_still_needs_its_buffer(place):
    person = rows.specialist(place, week={0: ("22:00", "23:59")})
    rows.appointment(person, rows.local(MONDAY + timedelta(days=1), "00:10", TZ), 60)
    assert times_of(place, [person], 60, step=60) == ["22:00"]
    assert times_of(place, [person], 60, step=60, buffer=15) == ["22:00"]
    # With 71 minutes kept free after the visit, 23:00 + 71 minutes reaches 00:11.
    assert times_of(place, [person], 60, step=60, buffer=71) == []


def test_any_specialist_books_the_least_booked_then_the_salons_order(owner, place):
    cut = rows.service(owner, 60)
    first = rows.specialist(place, services=[cut], sort_order=0, week={0: ("09:00", "13:00")})
    second = rows.specialist(place, services=[cut], sort_order=1, week={0: ("09:00", "13:00")})
    third = rows.specialist(place, services=[cut], sort_order=2, week={0: ("12:00", "14:00")})
    rows.appointment(first, rows.local(MONDAY, "09:00", TZ), 60)
    rows.appointment(first, rows.local(MONDAY, "10:00", TZ), 60)
    rows.appointment(second, rows.local(MONDAY, "11:00", TZ), 60)
    # An appointment of the day before does not count for Monday.
    rows.appointment(third, rows.local(MONDAY - timedelta(days=1), "12:00", TZ), 60)
    rows.appointment(third, rows.local(MONDAY - timedelta(days=1), "13:00", TZ), 60)
    people = availability.performers(location=place, service_ids=[cut.pk])
    assert people == [first, second, third]
    found = free_times(
        location=place, rules=rules(step=60), specialists=people, duration=60, day=MONDAY, now=NOW
    )
    assert [(slot.start.strftime("%H:%M"), slot.specialist_id) for slot in found] == [
        ("09:00", second.pk),
        ("10:00", second.pk),
        ("11:00", first.pk),  # only the first is free then
        ("12:00", third.pk),  # none booked that day, before the second's one
        ("13:00", third.pk),
    ]
    assert offered_specialists(
        location=place,
        rules=rules(step=60),
        specialists=people,
        duration=60,
        start=rows.local(MONDAY, "12:00", TZ),
        now=NOW,
    ) == [third, second, first]


def test_offered_specialists_refuses_times_off_the_grid_and_ignores_the_moved_booking(place):
    person = rows.specialist(place, week={0: ("09:00", "12:00")})
    moved = rows.appointment(person, rows.local(MONDAY, "10:00", TZ), 60)
    asked = dict(location=place, rules=rules(), specialists=[person], duration=60, now=NOW)
    at_ten = rows.local(MONDAY, "10:00", TZ)
    assert offered_specialists(start=at_ten, **asked) == []
    assert offered_specialists(start=at_ten, exclude_appointment=moved.pk, **asked) == [person]
    assert offered_specialists(start=at_ten - timedelta(minutes=30), **asked) == []  # overlaps
    assert offered_specialists(start=at_ten + timedelta(minutes=60), **asked) == [person]
    assert offered_specialists(start=at_ten + timedelta(minutes=65), **asked) == []  # off the step
    assert offered_specialists(start=at_ten + timedelta(minutes=60, seconds=1), **asked) == []
    # The same instant written in another zone is the same time.
    in_utc = (at_ten + timedelta(minutes=60)).astimezone(UTC)
    assert offered_specialists(start=in_utc, **asked) == [person]
    moved_times = free_times(day=MONDAY, exclude_appointment=moved.pk, **asked)
    assert clock_times(moved_times) == ["09:00", "09:30", "10:00", "10:30", "11:00"]


def test_a_location_in_another_zone_is_computed_in_its_own(owner):
    moscow = rows.location(owner, tz="Europe/Moscow", opening={0: ("09:00", "12:00")})
    person = rows.specialist(moscow, week={0: ("08:00", "12:00")})
    rows.appointment(person, rows.local(MONDAY, "10:00", "Europe/Moscow"), 30)
    found = free_times(
        location=moscow,
        rules=rules(time_zone="Europe/Moscow"),
        specialists=[person],
        duration=60,
        day=MONDAY,
        now=NOW,
    )
    assert [slot.start.isoformat() for slot in found] == [
        "2031-03-03T09:00:00+03:00",
        "2031-03-03T10:30:00+03:00",
        "2031-03-03T11:00:00+03:00",
    ]
    assert found[0].start == datetime(2031, 3, 3, 6, 0, tzinfo=UTC)


def test_the_step_today_and_the_horizon_follow_the_locations_zone(owner):
    every_day = {day: ("08:00", "10:00") for day in range(7)}
    moscow = rows.location(owner, tz="Europe/Moscow")
    tashkent = rows.location(owner, tz=TZ)
    in_moscow = rows.specialist(moscow, week=every_day)
    in_tashkent = rows.specialist(tashkent, week=every_day)
    # Monday 01:00 in Tashkent is still Sunday 23:00 in Moscow.
    now = rows.local(MONDAY, "01:00", TZ)
    sunday = MONDAY - timedelta(days=1)

    def days(place, person):
        return free_days(
            location=place,
            rules=rules(time_zone=place.timezone, horizon_days=1),
            specialists=[person],
            duration=30,
            first=sunday,
            last=MONDAY + timedelta(days=3),
            now=now,
        )

    assert days(moscow, in_moscow) == [MONDAY]
    assert days(tashkent, in_tashkent) == [MONDAY, MONDAY + timedelta(days=1)]
    # A 45-minute step counts from Moscow's midnight (from Tashkent's it would give 08:30).
    assert times_of(moscow, [in_moscow], 30, step=45, now=now) == ["08:15", "09:00"]
    assert times_of(tashkent, [in_tashkent], 30, step=45, now=now) == ["08:15", "09:00"]


def test_days_when_the_clocks_change_count_real_minutes(owner):
    berlin = rows.location(owner, tz="Europe/Berlin")
    person = rows.specialist(berlin, week={6: ("01:00", "05:00")})

    def offered(day, **changes):
        found = free_times(
            location=berlin,
            rules=rules(time_zone="Europe/Berlin", horizon_days=365, **changes),
            specialists=[person],
            duration=60,
            day=day,
            now=NOW,
        )
        return [slot.start.isoformat() for slot in found]

    # Spring forward (02:00 -> 03:00): the shift lasts three hours.
    assert offered(date(2031, 3, 30)) == [
        "2031-03-30T01:00:00+01:00",
        "2031-03-30T01:30:00+01:00",
        "2031-03-30T03:00:00+02:00",
        "2031-03-30T03:30:00+02:00",
        "2031-03-30T04:00:00+02:00",
    ]
    # Fall back (03:00 -> 02:00): five hours, 02:00 twice.
    assert offered(date(2031, 10, 26), step=60) == [
        "2031-10-26T01:00:00+02:00",
        "2031-10-26T02:00:00+02:00",
        "2031-10-26T02:00:00+01:00",
        "2031-10-26T03:00:00+01:00",
        "2031-10-26T04:00:00+01:00",
    ]


def test_settings_and_rules_of_a_location(owner, place):
    defaults = availability.settings_of(place)
    assert defaults.pk is None
    assert Rules.of(location=place, settings=defaults) == Rules(
        step=15, notice=60, horizon_days=60, buffer=0, time_zone=TZ
    )
    moscow = rows.location(
        owner,
        tz="Europe/Moscow",
        slot_step_minutes=20,
        min_notice_minutes=120,
        horizon_days=14,
        buffer_minutes=10,
    )
    saved = availability.settings_of(moscow)
    assert isinstance(saved, BookingSettings) and saved.pk is not None
    assert Rules.of(location=moscow, settings=saved) == Rules(
        step=20, notice=120, horizon_days=14, buffer=10, time_zone="Europe/Moscow"
    )


def test_nothing_is_offered_without_specialists_or_duration(place):
    person = rows.specialist(place)
    assert times_of(place, [], 60) == []
    assert times_of(place, [person], 0) == []
    assert times_of(place, [person], 24 * 60) == []
    assert (
        free_days(
            location=place,
            rules=rules(),
            specialists=[],
            duration=60,
            first=MONDAY,
            last=MONDAY,
            now=NOW,
        )
        == []
    )
