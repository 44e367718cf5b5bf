"""Generated worlds for the availability properties (tests/booking/test_availability_properties.py):
a location in one of three zones, specialists with a week, exceptions and appointments in
every state, the rules; and the rows that put a world in the database.

The generation leans towards the cases where a rule decides: shifts of whole half hours,
"now" on five minutes with seconds past, appointments one after another with gaps that
leave room for exactly one visit and buffers, lengths that end a buffer before a start on
the step, long appointments from the evening before.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from navbat.booking.models import Status
from tests.booking import availability_rows as rows

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
