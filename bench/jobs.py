"""Benchmarks (not tests) of Checkout callbacks: ingestion cost, and jobs under a steady feed.

    python bench/jobs.py ingest [N]      # in-process: ms and statements per callback,
                                         # beside a bare INSERT view through the same stack
    python bench/jobs.py feed [RATE] [SECONDS]   # RATE callbacks/s for SECONDS, one worker:
                                         # how many were handled, and their lag

Runs against a throwaway SQLite database, or NAVBAT_DATABASE_URL (PostgreSQL: give it a
database of its own; the script migrates it). NAVBAT_CODE=<dir> measures another checkout of
navbat (an older commit, for a before/after) with this same script.

The feed is what the bank and a forger send together: callbacks naming 20 orders of ours
that are paid at the (in-process sandbox) bank, each named again and again with small
differences, and forged ones naming no order we know. The limits at the edge are raised so
that every callback is stored: this measures the jobs, not the 429s.
"""

import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE = os.environ.get("NAVBAT_CODE", str(ROOT))
sys.path.insert(0, CODE)
TMP = tempfile.mkdtemp(prefix="navbat-bench-jobs-")
os.environ.setdefault("NAVBAT_VAR_DIR", TMP)
os.environ.setdefault("NAVBAT_DATABASE_URL", f"sqlite:///{TMP}/bench.sqlite3")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "navbat.settings")
os.environ.setdefault("NAVBAT_LOG_LEVEL", "ERROR")
for name in ("ADDRESS", "CONNECTION", "ORDER"):
    os.environ.setdefault(f"NAVBAT_CALLBACK_LIMIT_PER_{name}", "1000000")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

# Persistent connections for the views and the worker (as in production): a new PostgreSQL
# connection per request or job (~10 ms) would hide what navbat's own work costs.
settings.DATABASES["default"]["CONN_MAX_AGE"] = None

import httpx  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import include, path  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

RETURN_URL = "http://127.0.0.1:8000/pay/x/return/REFERENCE"
UZCARD = "8600000000000018"
SENDERS = 4


@csrf_exempt
def bare_insert(request):
    """The reference: what a bare Django view does to store a POSTed body."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_bare (body, created) VALUES (%s, %s)",
            [request.body.decode(), timezone.now().isoformat()],
        )
    return JsonResponse({"ok": True})


urlpatterns = [path("bare/", bare_insert), path("", include("navbat.urls"))]


def setup_salon(orders: int):
    """A salon connected to the in-process sandbox bank, with ``orders`` card payments
    started (and paid at the bank when asked)."""
    from navbat.payments import services
    from navbat.uzum import clients
    from navbat.uzum import services as uzum
    from navbat.uzum_sandbox.models import Terminal
    from tests.conftest import build_salon

    app = WSGIHandler()
    clients.transport_factory = lambda: httpx.WSGITransport(app=app)
    salon = build_salon(uuid.uuid4().hex[:6].upper())
    terminal = Terminal.objects.create(pay_types=["ONE_STEP", "TWO_STEP"])
    connected = uzum.connect(
        business=salon.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        author=salon.owner,
    )
    started = []
    for index in range(orders):
        appointment = salon.book(hour=9 + index % 11, days=2 + index // 11)
        link = services.link_for(
            business=salon.business, kind="appointment", payable_id=appointment.pk
        )
        started.append(
            services.start_card_payment(
                link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
            )
        )
    return connected, started


def body_for(order, n: int) -> dict:
    return {
        "orderId": order.bank_order_id,
        "orderNumber": order.reference,
        "operationType": "COMPLETE",
        "operationState": "SUCCESS",
        "rrn": f"{n:012d}",
    }


def forged(n: int) -> dict:
    return {"orderId": str(uuid.uuid4()), "orderNumber": f"forged-{n}", "nonce": n}


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def ingest(n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_bare (id "
            + ("SERIAL" if connection.vendor == "postgresql" else "INTEGER")
            + " PRIMARY KEY, body TEXT, created TEXT)"
        )
    connected, orders = setup_salon(1)
    order = orders[0]
    client = Client()
    url = f"/uzum/checkout/{connected.public_id}/callback"
    with override_settings(ROOT_URLCONF=__name__):

        def run(target: str, body_of) -> tuple[float, int]:
            for k in range(20):  # warm up: the connection cache, imports
                client.post(target, body_of(10**6 + k), content_type="application/json")
            with CaptureQueriesContext(connection) as queries:
                client.post(target, body_of(10**7), content_type="application/json")
            statements = [
                q["sql"]
                for q in queries.captured_queries
                if not q["sql"].upper().startswith(("BEGIN", "COMMIT", "RELEASE"))
            ]
            began = time.perf_counter()
            for k in range(n):
                response = client.post(target, body_of(k), content_type="application/json")
                assert response.status_code == 200, response.content
            return (time.perf_counter() - began) / n * 1000, len(statements)

        rounds = []
        for _ in range(3):  # alternate, so that a busy moment of the machine hits both
            rounds.append((run("/bare/", forged), run(url, lambda k: body_for(order, k))))
    bare_ms = min(r[0][0] for r in rounds)
    callback_ms = min(r[1][0] for r in rounds)
    print(f"code: {CODE}  database: {connection.vendor}  requests: {n} x 3 rounds (best)")
    print(f"bare INSERT view : {bare_ms:6.2f} ms/request, {rounds[0][0][1]} statements")
    print(f"callback view    : {callback_ms:6.2f} ms/request, {rounds[0][1][1]} statements")
    print(f"ratio (bare/callback): {bare_ms / callback_ms:.2f}x")


def feed(rate: float, seconds: float) -> None:
    from django_tasks_db.management.commands.db_worker import Worker
    from django_tasks_db.models import DBTaskResult

    from navbat.payments.models import PaymentOrder
    from navbat.uzum.models import Callback
    from navbat.uzum_sandbox import bank

    connected, orders = setup_salon(20)
    for order in orders:
        bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    # The sandbox's own callbacks are not delivered here: the feed below plays the bank.
    DBTaskResult.objects.all().delete()
    worker = Worker(
        queue_names=["*"],
        interval=1.0,  # as `navbat worker` and `navbat run`
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="bench",
        excluded_queue_names=[],
    )
    thread = threading.Thread(target=worker.run, daemon=True)
    url = f"/uzum/checkout/{connected.public_id}/callback"
    sent, statuses, lock = 0, {}, threading.Lock()
    began = time.monotonic()

    def send() -> None:
        # Several senders, as the bank and a forger send at once: one alone cannot keep
        # the pace on a busy machine.
        nonlocal sent
        client = Client()
        while (elapsed := time.monotonic() - began) < seconds:
            with lock:
                n = sent
                due = n <= elapsed * rate
                if due:
                    sent += 1
            if not due:
                time.sleep(0.005)
                continue
            # Two of three name an order of ours (each order again and again), one is forged.
            body = forged(n) if n % 3 == 2 else body_for(orders[n % len(orders)], n)
            response = client.post(
                url, body, content_type="application/json", REMOTE_ADDR=f"10.0.{n % 200}.1"
            )
            with lock:
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        connections.close_all()

    thread.start()
    senders = [threading.Thread(target=send) for _ in range(SENDERS)]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    fed_for = time.monotonic() - began

    def report(label: str) -> None:
        stored = Callback.objects.filter(connection_id=connected.pk)
        handled = stored.filter(handled_at__isnull=False)
        lags = [
            (h - r).total_seconds() for r, h in handled.values_list("received_at", "handled_at")
        ]
        jobs = DBTaskResult.objects.filter(finished_at__isnull=False).count()
        ready = DBTaskResult.objects.filter(status="READY").count()
        paid = PaymentOrder.objects.filter(pk__in=[o.pk for o in orders], state="paid").count()
        pulls = sum(
            PaymentOrder.objects.filter(pk__in=[o.pk for o in orders]).values_list(
                "checks", flat=True
            )
        )
        never = stored.filter(outcome="").count()
        print(
            f"{label}: stored {stored.count()}, handled {handled.count()}, never looked at "
            f"{never}, jobs run {jobs}, jobs waiting {ready}, status pulls {pulls}, "
            f"orders paid {paid}/{len(orders)}; lag p50 {percentile(lags, 0.5):.2f} s, "
            f"p95 {percentile(lags, 0.95):.2f} s, max {max(lags, default=float('nan')):.2f} s"
        )

    print(
        f"code: {CODE}  database: {connection.vendor}  fed {sent} callbacks in {fed_for:.1f} s "
        f"({sent / fed_for:.1f}/s), answers {statuses}, one worker"
    )
    report("at the end of the feed")
    time.sleep(10)
    report("10 s later")
    worker.running = False
    thread.join(timeout=30)


def main() -> None:
    from django.core.signals import request_finished
    from django.db import close_old_connections

    # Persistent connections for both sides (as in production): a new PostgreSQL connection
    # per request (~10 ms) would hide what the views themselves cost.
    request_finished.disconnect(close_old_connections)
    call_command("migrate", verbosity=0)
    mode = sys.argv[1] if len(sys.argv) > 1 else "ingest"
    if mode == "ingest":
        ingest(int(sys.argv[2]) if len(sys.argv) > 2 else 300)
    elif mode == "feed":
        rate = float(sys.argv[2]) if len(sys.argv) > 2 else 50
        feed(rate, float(sys.argv[3]) if len(sys.argv) > 3 else 20)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
