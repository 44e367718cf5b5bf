"""The salons of ``bench/availability.py`` and the measurements on them; imported by its
child process once Django is set up (the database comes from NAVBAT_DATABASE_URL).

Rows are written with ``bulk_create`` in batches (a sale document per appointment, no
lines: availability reads none); the appointments of one specialist never overlap, as
PostgreSQL's exclusion constraint demands.
"""

import random
import re
import statistics
import time as clock
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from navbat.booking import availability, online
from navbat.booking.models import Appointment, BookingSettings, Status
from navbat.finance.models import DocumentKind, SaleDocument
from navbat.kit.timeutil import local_today
from navbat.salons.models import (
    Business,
    Client,
    Location,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
    WorkingHours,
)

TZ = "Asia/Tashkent"
ZONE = ZoneInfo(TZ)
SPECIALISTS, SERVICES, PERFORMED, CLIENTS = 20, 50, 30, 200
CURRENT = 5_000
SHOWN = 30  # days
BATCH = 2_000  # rows per INSERT (PostgreSQL takes at most 65,535 parameters a statement)
OPENS, CLOSES = 9 * 60, 21 * 60
LENGTHS = [30, 45, 60, 75, 90, 120]
GAPS = [0, 15, 30, 45, 60, 90, 120, 180]
TAG = "bench-availability"


@dataclass
class Built:
    location_id: int
    service_ids: list[int]  # the two services asked for
    specialist_id: int  # the one asked for by name
    appointments: int


def local(day: date, minute: int) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZONE) + timedelta(minutes=minute)


def find_or_build(tag: str, *, history: int) -> Built:
    slug = f"{TAG}-{tag}"
    business = Business.objects.filter(slug=slug).first()
    if business is None:
        build(slug, history=history)
        business = Business.objects.get(slug=slug)
    location = Location.objects.get(business=business)
    services = list(Service.objects.filter(business=business).order_by("name", "pk")[:2])
    specialist = (
        Specialist.objects.filter(business=business, services=services[1])
        .order_by("sort_order", "pk")
        .first()
    )
    return Built(
        location_id=location.pk,
        service_ids=[service.pk for service in services],
        specialist_id=specialist.pk,
        appointments=Appointment.objects.filter(business=business).count(),
    )


def build(slug: str, *, history: int) -> None:
    # The same seed for both salons: their current appointments are the same.
    rng = random.Random(14)  # noqa: S311
    today = local_today(TZ)
    with transaction.atomic():
        business = Business.objects.create(name=slug, slug=slug, timezone=TZ)
        location = Location.objects.create(
            business=business,
            name="Main",
            timezone=TZ,
            opening_hours={str(d): ["08:00", "22:00"] for d in range(7)},
        )
        BookingSettings.objects.create(
            business=business,
            location=location,
            enabled=True,
            slot_step_minutes=15,
            min_notice_minutes=60,
            horizon_days=60,
            buffer_minutes=10,
        )
        category = ServiceCategory.objects.create(business=business, name="All")
        services = Service.objects.bulk_create(
            Service(
                business=business,
                category=category,
                name=f"Service {index:02d}",
                price=(50 + index) * 1_000_00,
                duration_minutes=[45, 30][index] if index < 2 else rng.choice(LENGTHS),
            )
            for index in range(SERVICES)
        )
        specialists = Specialist.objects.bulk_create(
            Specialist(
                business=business, location=location, name=f"Specialist {i:02d}", sort_order=i
            )
            for i in range(SPECIALISTS)
        )
        through = Specialist.services.through
        links = []
        for index, specialist in enumerate(specialists):
            # Four of the twenty do not perform the second service asked for.
            chosen = [services[0]] + ([services[1]] if index % 5 else [])
            chosen += rng.sample(services[2:], PERFORMED - len(chosen))
            links += [through(specialist_id=specialist.pk, service_id=s.pk) for s in chosen]
        through.objects.bulk_create(links)
        WorkingHours.objects.bulk_create(
            WorkingHours(
                business=business,
                specialist=specialist,
                weekday=weekday,
                starts=time(9),
                ends=time(21),
            )
            for index, specialist in enumerate(specialists)
            for weekday in range(7)
            if weekday != index % 7
        )
        exceptions = []
        for specialist in specialists:
            off = rng.sample(range(SHOWN), 3)
            exceptions += [
                ScheduleException(
                    business=business, specialist=specialist, day=today + timedelta(days=off[0])
                ),
                ScheduleException(
                    business=business, specialist=specialist, day=today + timedelta(days=off[1])
                ),
                ScheduleException(
                    business=business,
                    specialist=specialist,
                    day=today + timedelta(days=off[2]),
                    is_day_off=False,
                    starts=time(12),
                    ends=time(16),
                ),
            ]
        ScheduleException.objects.bulk_create(exceptions)
        clients = Client.objects.bulk_create(
            Client(business=business, name=f"Client {i}", phone=f"+9989{i:08d}")
            for i in range(CLIENTS)
        )
    client_ids = [client.pk for client in clients]
    rows = current_rows(rng, specialists, today)
    insert(business, location, rows, client_ids)
    if history:
        insert(business, location, history_rows(specialists, today, history), client_ids)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in ("booking_appointment", "finance_saledocument", "salons_specialist"):
                cursor.execute(f"ANALYZE {table}")


def current_rows(rng: random.Random, specialists: list, today: date) -> list[tuple]:
    """About 5 appointments a working day per specialist from 30 days back to 45 ahead
    (one day in twelve packed from opening to closing), thinned to ``CURRENT``."""
    now = timezone.now()
    packed, loose = [], []
    for index, specialist in enumerate(specialists):
        for offset in range(-30, 46):
            day = today + timedelta(days=offset)
            if day.weekday() == index % 7:
                continue
            full = rng.random() < 1 / 12
            cursor = OPENS + (0 if full else rng.choice(GAPS))
            while True:
                length = rng.choice(LENGTHS)
                if cursor + length > CLOSES:
                    break
                (packed if full else loose).append((specialist.pk, day, cursor, length))
                cursor += length + (0 if full else rng.choice(GAPS))
    chosen = packed + rng.sample(loose, CURRENT - len(packed))
    rows = []
    for specialist_id, day, minute, length in sorted(chosen, key=lambda r: (r[0], r[1], r[2])):
        starts_at = local(day, minute)
        hold_until = None
        roll = rng.random()
        if day < today:
            status = (
                Status.COMPLETED
                if roll < 0.85
                else Status.NO_SHOW
                if roll < 0.9
                else Status.CANCELLED
            )
        elif roll < 0.7:
            status = Status.BOOKED
        elif roll < 0.85:
            status = Status.CONFIRMED
        elif roll < 0.93:
            status = Status.CANCELLED
        else:
            status = Status.AWAITING_PAYMENT
            hold_until = now + timedelta(minutes=rng.choice([-20, -5, 5, 20]))
        rows.append(
            (specialist_id, starts_at, starts_at + timedelta(minutes=length), status, hold_until)
        )
    return rows


def history_rows(specialists: list, today: date, count: int) -> Iterator[tuple]:
    """``count`` completed one-hour appointments, 12 a day per specialist, going back
    from 32 days before today."""
    made = 0
    offset = 32
    while True:
        day = today - timedelta(days=offset)
        for specialist in specialists:
            for hour in range(12):
                if made == count:
                    return
                starts_at = local(day, OPENS + hour * 60)
                yield (
                    specialist.pk,
                    starts_at,
                    starts_at + timedelta(hours=1),
                    Status.COMPLETED,
                    None,
                )
                made += 1
        offset += 1


def insert(business, location, rows, client_ids: list[int]) -> None:
    batch: list[tuple] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            insert_batch(business, location, batch, client_ids)
            batch = []
    if batch:
        insert_batch(business, location, batch, client_ids)


@transaction.atomic
def insert_batch(business, location, batch: list[tuple], client_ids: list[int]) -> None:
    documents = SaleDocument.objects.bulk_create(
        SaleDocument(
            business_id=business.pk,
            kind=DocumentKind.VISIT,
            title="Visit",
            client_id=client_ids[n % len(client_ids)],
        )
        for n in range(len(batch))
    )
    Appointment.objects.bulk_create(
        Appointment(
            business_id=business.pk,
            location_id=location.pk,
            specialist_id=specialist_id,
            client_id=document.client_id,
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
            occupies_time=status not in (Status.CANCELLED, Status.NO_SHOW),
            hold_until=hold_until,
            comment=TAG,
            document_id=document.pk,
        )
        for (specialist_id, starts_at, ends_at, status, hold_until), document in zip(
            batch, documents, strict=True
        )
    )


# -------------------------------------------------------------------------- measuring


def days_of(location, service_ids, specialist_id, first: date) -> list[date]:
    chosen = online.choice(location=location, service_ids=service_ids, specialist_id=specialist_id)
    return availability.free_days(
        location=location,
        rules=chosen.rules,
        specialists=chosen.specialists,
        duration=chosen.duration,
        first=first,
        last=first + timedelta(days=SHOWN - 1),
    )


def times_of(location, service_ids, specialist_id, day: date) -> list:
    chosen = online.choice(location=location, service_ids=service_ids, specialist_id=specialist_id)
    return availability.free_times(
        location=location,
        rules=chosen.rules,
        specialists=chosen.specialists,
        duration=chosen.duration,
        day=day,
    )


def bare_read(business_id: int, specialist_ids: list[int], start: datetime, end: datetime) -> list:
    return list(
        Appointment.objects.filter(
            business_id=business_id,
            specialist_id__in=specialist_ids,
            starts_at__gte=start,
            starts_at__lt=end,
        ).values_list("specialist_id", "starts_at", "ends_at")
    )


def interleaved(calls: list[Callable], runs: int) -> list[tuple[float, float]]:
    """Medians of several calls measured in turns (so that a busy moment of the shared
    machine falls on all of them alike), after 3 warm-up rounds: (wall-clock ms, this
    process's CPU ms; the difference is mostly waiting for the database)."""
    for _warm in range(3):
        for call in calls:
            call()
    walls: list[list[float]] = [[] for _call in calls]
    cpus: list[list[float]] = [[] for _call in calls]
    for _run in range(runs):
        for index, call in enumerate(calls):
            started, cpu = clock.perf_counter(), clock.process_time()
            call()
            walls[index].append((clock.perf_counter() - started) * 1000)
            cpus[index].append((clock.process_time() - cpu) * 1000)
    return [
        (statistics.median(wall), statistics.median(cpu))
        for wall, cpu in zip(walls, cpus, strict=True)
    ]


def count_statements(call: Callable) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def scenarios(built: Built):
    location = Location.objects.select_related("business").get(pk=built.location_id)
    today = local_today(TZ)
    day = today + timedelta(days=2)
    ids = built.service_ids
    everyone = [p.pk for p in availability.performers(location=location, service_ids=ids)]
    month = (local(today, 0), local(today + timedelta(days=SHOWN), 0))
    one_day = (local(day, 0), local(day + timedelta(days=1), 0))
    for name, kind, specialist_id, window in [
        ("a month's days, any specialist", "days", None, month),
        ("a month's days, one specialist", "days", built.specialist_id, month),
        ("a day's times, any specialist", "times", None, one_day),
        ("a day's times, one specialist", "times", built.specialist_id, one_day),
    ]:
        chosen = online.choice(location=location, service_ids=ids, specialist_id=specialist_id)
        people = chosen.specialists
        if kind == "days":

            def whole(sid=specialist_id):
                return days_of(location, ids, sid, today)

            def alone(people=people, chosen=chosen):
                return availability.free_days(
                    location=location,
                    rules=chosen.rules,
                    specialists=people,
                    duration=chosen.duration,
                    first=today,
                    last=today + timedelta(days=SHOWN - 1),
                )

        else:

            def whole(sid=specialist_id):
                return times_of(location, ids, sid, day)

            def alone(people=people, chosen=chosen):
                return availability.free_times(
                    location=location,
                    rules=chosen.rules,
                    specialists=people,
                    duration=chosen.duration,
                    day=day,
                )

        readers = [specialist_id] if specialist_id else everyone

        def bare(readers=readers, window=window):
            return bare_read(location.business_id, readers, *window)

        yield name, kind, whole, alone, bare


def measure(built: Built, *, runs: int) -> dict:
    calls = []
    for name, kind, whole, alone, bare in scenarios(built):
        (navbat_ms, cpu_ms), (alone_ms, _cpu), (bare_ms, _cpu) = interleaved(
            [whole, alone, bare], runs
        )
        calls.append(
            {
                "name": name,
                "kind": kind,
                "ms": navbat_ms,
                "cpu_ms": cpu_ms,
                "alone_ms": alone_ms,
                "bare_ms": bare_ms,
                "statements": count_statements(whole),
                "answer": len(whole()),
                "bare_rows": len(bare()),
            }
        )
    return {"appointments": built.appointments, "calls": calls}


def statements_of(built: Built) -> str:
    """The tables the statements of one call read, in order."""
    _name, _kind, whole, _alone, _bare = next(scenarios(built))
    with CaptureQueriesContext(connection) as captured:
        whole()
    tables = []
    for query in captured.captured_queries:
        found = re.search(r'FROM\s+"?(\w+)"?', query["sql"])
        tables.append(found.group(1) if found else query["sql"].split()[0])
    return ", ".join(f"`{table}`" for table in tables)


PROPOSED_INDEX = (
    "CREATE INDEX IF NOT EXISTS bench_appointment_window ON booking_appointment "
    "(business_id, specialist_id, starts_at) INCLUDE (ends_at, status, hold_until) "
    "WHERE occupies_time"
)


def add_proposed_index() -> None:
    """The index this bench proposes for the window's appointments (PostgreSQL), made
    here by hand: the migration is the coordinator's."""
    with connection.cursor() as cursor:
        cursor.execute(PROPOSED_INDEX)
        cursor.execute("VACUUM ANALYZE booking_appointment")


def plan_of(built: Built) -> str:
    """How the database finds the month's appointments of the salon with the long
    history (PostgreSQL's plan, its execution time)."""
    _name, _kind, whole, _alone, _bare = next(scenarios(built))
    with CaptureQueriesContext(connection) as captured:
        whole()
    sql = captured.captured_queries[-1]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            lines = [row[0].strip() for row in cursor.fetchall()]
            scans = [line.lstrip("-> ") for line in lines if "Scan" in line or "Index Cond" in line]
            timing = [line for line in lines if line.startswith("Execution Time")]
            return "; ".join(f"`{line}`" for line in scans + timing)
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return "; ".join(f"`{row[-1]}`" for row in cursor.fetchall())
