"""In-process timings (Django's test client, no server): the desk's busiest pages and
writes and the Merchant API's calls, with their SQL statements.

Runs against a throwaway database (SQLite by default; NAVBAT_DATABASE_URL for PostgreSQL),
loads the demo salon, then measures; prints the rows as JSON on its last line. ``make bench``
(bench/run.py) runs it after the side-by-side part and writes both to bench/RESULTS.md.
"""

import base64
import json
import os
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TMP = tempfile.mkdtemp(prefix="navbat-bench-")
os.environ.setdefault("NAVBAT_VAR_DIR", TMP)
os.environ.setdefault("NAVBAT_DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "navbat.settings")
os.environ.setdefault("NAVBAT_LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from navbat.accounts.models import User  # noqa: E402
from navbat.booking.models import Appointment  # noqa: E402
from navbat.booking.services import LineInput, create_appointment  # noqa: E402
from navbat.demo import load_demo  # noqa: E402
from navbat.kit.timeutil import local_datetime, local_today  # noqa: E402
from navbat.payments.services import link_for  # noqa: E402
from navbat.salons.models import Business, Service, Specialist  # noqa: E402
from navbat.salons.models import Client as SalonClient  # noqa: E402
from navbat.uzum.models import Connection  # noqa: E402


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def describe(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(int(len(ordered) * 0.95) - 1, 0)]
    return f"median {statistics.median(ordered):.1f} ms, p95 {p95:.1f} ms (n={len(ordered)})"


def main() -> None:
    call_command("migrate", verbosity=0)
    load_demo()
    business = Business.objects.get(slug="navbat-demo")
    http = Client()
    http.force_login(User.objects.get(email="demo@navbat.uz"))
    http.cookies["django_language"] = "en"

    rows = []
    http.get("/journal/")  # warm caches and templates
    # Count with an execute wrapper: Django clears its own query log at every request start.
    queries = []
    with connection.execute_wrapper(lambda run, sql, *rest: queries.append(sql) or run(sql, *rest)):
        http.get("/journal/")
    rows.append(
        (
            "Journal page (demo day, 4 specialists)",
            describe(timed(lambda: http.get("/journal/"), 50)),
            f"{len(queries)} queries",
        )
    )
    appointment = Appointment.objects.filter(business=business).first()
    rows.append(
        (
            "Appointment window",
            describe(timed(lambda: http.get(f"/appointments/{appointment.pk}/"), 50)),
            "",
        )
    )

    specialist = Specialist.objects.filter(business=business).first()
    service = Service.objects.filter(business=business).first()
    client = SalonClient.objects.filter(business=business).first()
    day = local_today("Asia/Tashkent") + timedelta(days=40)
    while not specialist.hours.filter(weekday=day.weekday()).exists():
        day += timedelta(days=1)
    slots = iter(range(1000))

    booked = []

    def book():
        index = next(slots)
        start = local_datetime(
            day + timedelta(days=7 * (index // 10)), datetime.min.time(), "Asia/Tashkent"
        )
        appointment = create_appointment(
            business=business,
            location=specialist.location,
            specialist=specialist,
            client=client,
            starts_at=start + timedelta(hours=9, minutes=60 * (index % 10)),
            lines=[LineInput(kind="service", item_id=service.pk)],
            skip_working_hours=True,
        )
        booked.append(appointment)

    tracemalloc.start()
    samples = timed(book, 100)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows.append(
        (
            "Book an appointment (service call, with overlap check)",
            describe(samples),
            f"peak traced memory {peak / 1024:.0f} KiB over 100 bookings",
        )
    )

    rows.extend(app_payments(business, booked))

    print(json.dumps(rows))


def app_payments(business, appointments) -> list[tuple[str, str, str]]:
    """The Merchant API as the Uzum Bank app calls it: check, create and confirm of one app
    payment per appointment, through the whole request stack (auth, JSON, locks, books)."""
    connection = Connection.objects.get(business=business, is_active=True)
    auth = base64.b64encode(
        f"{connection.merchant_login}:{connection.merchant_password}".encode()
    ).decode()
    base = f"/uzum/merchant/{connection.public_id}"
    http = Client(HTTP_AUTHORIZATION=f"Basic {auth}")
    samples: dict[str, list[float]] = {"check": [], "create": [], "confirm": []}
    queries: dict[str, int] = {}

    def call(endpoint: str, body: dict) -> None:
        seen = []
        start = time.perf_counter()
        with connection_wrapper(seen):
            response = http.post(f"{base}/{endpoint}", json.dumps(body), "application/json")
        samples[endpoint].append((time.perf_counter() - start) * 1000)
        queries[endpoint] = len(seen)
        assert response.status_code == 200, response.content

    for appointment in appointments:
        link = link_for(business=business, kind="appointment", payable_id=appointment.pk)
        echo = {"serviceId": connection.merchant_service_id, "timestamp": 0}
        params = {connection.payment_attribute: link.code}
        trans_id = str(uuid.uuid4())
        call("check", {**echo, "params": params})
        call("create", {**echo, "transId": trans_id, "params": params, "amount": appointment.total})
        call("confirm", {**echo, "transId": trans_id, "paymentSource": "HUMO", "phone": "998"})
    return [
        (f"Merchant API /{name}", describe(times), f"{queries[name]} queries")
        for name, times in samples.items()
    ]


def connection_wrapper(seen: list):
    return connection.execute_wrapper(lambda run, sql, *rest: seen.append(sql) or run(sql, *rest))


if __name__ == "__main__":
    main()
