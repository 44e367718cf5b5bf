"""Callbacks under attack: the callback address is no secret, so strangers flood it.

Limits at the edge (429, nothing stored), one status pull per order however many callbacks
name it, no pull at all for orders that are not ours, fresh callbacks before retries, and
a real payment that still settles at once while 1,000 forged callbacks arrive."""

import json
import time
import uuid
from datetime import timedelta

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from navbat.payments.models import PaymentOrder, State
from navbat.uzum import callbacks, ingest
from navbat.uzum.models import Callback, RateCounter, StatusPull
from navbat.uzum.tasks import PRIORITY_FRESH, PRIORITY_OURS
from navbat.uzum_sandbox import bank
from tests.payments.jobs import (
    CALLBACK_JOB,
    books,
    callbacks_in_process,
    run_due,
    start_payment,
    waiting,
)
from tests.uzum.test_callbacks import PULL_JOB, UZCARD, later, post, success_body, url

pytestmark = pytest.mark.django_db
JOBS = (CALLBACK_JOB, PULL_JOB)


@pytest.fixture(autouse=True)
def quick(settings, monkeypatch):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0
    # One counting window for the whole test: a minute's end must not reset the counts.
    monkeypatch.setattr(ingest, "LIMIT_WINDOW", 10**9)


def forged(n: int, *, order_id: str | None = None, number: str | None = None) -> dict:
    """A forged payment callback, distinct from every other (so never a mere repeat)."""
    return {
        "orderId": order_id or str(uuid.uuid4()),
        "orderNumber": number if number is not None else f"forged-{n}",
        "operationType": "COMPLETE",
        "operationState": "SUCCESS",
        "nonce": n,
    }


def statuses(responses) -> dict[int, int]:
    counts: dict[int, int] = {}
    for response in responses:
        counts[response.status_code] = counts.get(response.status_code, 0) + 1
    return counts


def status_pulls(order) -> int:
    return PaymentOrder.objects.get(pk=order.pk).checks


# ------------------------------------------------------------------ limits at the edge


def test_past_the_limit_per_address_callbacks_are_429_and_nothing_is_stored(
    salon_a, connect_uzum, client, settings
):
    settings.NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = 5
    connection = connect_uzum(salon_a)
    sent = [post(client, connection, forged(n), REMOTE_ADDR="203.0.113.7") for n in range(8)]
    assert statuses(sent) == {200: 5, 429: 3}
    refused = sent[-1]
    assert refused.json() == {"ok": False, "error": "too many callbacks"}
    assert int(refused["Retry-After"]) >= 1
    assert Callback.objects.count() == 5
    assert DBTaskResult.objects.filter(task_path=CALLBACK_JOB).count() == 5
    # Another address has its own count.
    assert post(client, connection, forged(99), REMOTE_ADDR="203.0.113.8").status_code == 200
    assert Callback.objects.count() == 6


def test_an_ipv6_flood_is_counted_per_64(salon_a, connect_uzum, client, settings):
    settings.NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = 3
    connection = connect_uzum(salon_a)
    sent = [
        post(client, connection, forged(n), REMOTE_ADDR=f"2001:db8:1:2::{n + 1:x}")
        for n in range(5)
    ]
    assert statuses(sent) == {200: 3, 429: 2}
    assert Callback.objects.count() == 3


def test_past_the_limit_per_connection_callbacks_from_any_address_are_429(
    salon_a, salon_b, connect_uzum, client, settings
):
    settings.NAVBAT_CALLBACK_LIMIT_PER_CONNECTION = 4
    connection = connect_uzum(salon_a)
    other = connect_uzum(salon_b)
    sent = [post(client, connection, forged(n), REMOTE_ADDR=f"198.51.100.{n}") for n in range(1, 7)]
    assert statuses(sent) == {200: 4, 429: 2}
    assert Callback.objects.filter(connection=connection).count() == 4
    # Another connection is not touched by this one's flood.
    assert post(client, other, forged(7), REMOTE_ADDR="198.51.100.7").status_code == 200


def test_a_callback_naming_a_live_order_of_ours_passes_a_flooded_connection(
    salon_a, connect_uzum, client, settings
):
    settings.NAVBAT_CALLBACK_LIMIT_PER_CONNECTION = 3
    settings.NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = 3
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    flood = [post(client, connection, forged(n)) for n in range(10)]
    assert statuses(flood) == {200: 3, 429: 7}
    # The bank's own callback, from the same address even: counted per order, not refused.
    response = post(client, connection, success_body(order))
    assert response.status_code == 200
    real = Callback.objects.get(bank_order_id=order.bank_order_id)
    assert real.order_id == order.pk
    job = waiting(CALLBACK_JOB).get(args_kwargs__args=[real.pk])
    assert job.priority == PRIORITY_OURS
    assert {j.priority for j in waiting(CALLBACK_JOB).exclude(pk=job.pk)} == {PRIORITY_FRESH}


def test_callbacks_naming_one_live_order_are_limited_per_order(
    salon_a, connect_uzum, client, settings
):
    settings.NAVBAT_CALLBACK_LIMIT_PER_ORDER = 4
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    sent = [
        post(client, connection, forged(n, order_id=order.bank_order_id, number=order.reference))
        for n in range(6)
    ]
    assert statuses(sent) == {200: 4, 429: 2}
    assert Callback.objects.filter(order=order).count() == 4


def test_unknown_connections_are_limited_per_address_too(client, settings, db):
    settings.NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = 2
    sent = [
        client.post(
            f"/uzum/checkout/{uuid.uuid4()}/callback",
            data=json.dumps(forged(n)),
            content_type="application/json",
        )
        for n in range(4)
    ]
    assert statuses(sent) == {404: 2, 429: 2}
    assert Callback.objects.count() == 0


def test_the_stored_body_is_capped_at_8_kb(salon_a, connect_uzum, client):
    connection = connect_uzum(salon_a)
    body = forged(1) | {"pad": "x" * (8 * 1024)}
    response = post(client, connection, body)
    assert (response.status_code, response.json()["error"]) == (400, "body too large")
    fits = forged(2) | {"pad": "x" * (7 * 1024)}
    assert post(client, connection, fits).status_code == 200
    assert Callback.objects.count() == 1


@pytest.mark.parametrize("depth", [33, 4000])
def test_deeply_nested_json_is_400_and_nothing_is_stored(salon_a, connect_uzum, client, depth):
    connection = connect_uzum(salon_a)
    body = '{"orderId": "6f1c9c52-3e5b-4d0e-9a55-0c8f1f3a2b10", "x": ' + "[" * depth
    body += "]" * depth + "}"
    response = client.post(url(connection), data=body, content_type="application/json")
    assert (response.status_code, response.json()) == (
        400,
        {"ok": False, "error": "body is nested too deeply"},
    )
    assert Callback.objects.count() == 0
    assert DBTaskResult.objects.count() == 0


# ------------------------------------------------------------------ status pulls


def test_many_callbacks_naming_one_order_cost_one_status_pull(
    salon_a, connect_uzum, client, monkeypatch
):
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(seconds=60))
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    for n in range(300):
        body = success_body(order, nonce=n)  # 300 distinct bodies naming the one order
        assert post(client, connection, body).status_code == 200
    # Each callback's job runs once: the first asks the bank, the others wait for one pull
    # (the order was asked just now: in MIN_PULL_GAP).
    assert run_due(*JOBS, limit=1000) == 300
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PAID, 1)
    assert StatusPull.objects.count() == 1
    assert Callback.objects.filter(awaiting_pull=True).count() == 299
    assert run_due(*JOBS, now=later(61)) == 1
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PAID, 2)
    assert books(salon_a.business)["transactions"] == {"sale_payment": 1, "bank_fee": 1}
    assert Callback.objects.filter(handled_at__isnull=True).count() == 0
    assert waiting(*JOBS).count() == 0


def test_callbacks_that_come_while_a_pull_is_pending_wait_for_it(
    salon_a, connect_uzum, client, monkeypatch
):
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(seconds=60))
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    assert post(client, connection, success_body(order, operationState="FAIL")).status_code == 200
    assert run_due(CALLBACK_JOB) == 1  # asked the bank: paid
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PAID, 1)
    for n in range(20):
        assert post(client, connection, success_body(order, nonce=n)).status_code == 200
    assert run_due(CALLBACK_JOB) == 20
    assert StatusPull.objects.count() == 1
    assert waiting(PULL_JOB).count() == 1
    assert Callback.objects.filter(awaiting_pull=True).count() == 20
    # Callbacks that arrive now just record themselves: no job, no pull of their own.
    for n in range(20, 30):
        assert post(client, connection, success_body(order, nonce=n)).status_code == 200
    assert waiting(CALLBACK_JOB).count() == 0
    assert Callback.objects.filter(awaiting_pull=True, outcome=callbacks.WAITING).count() == 30
    assert run_due(PULL_JOB, now=later(61)) == 1
    order.refresh_from_db()
    assert order.checks == 2
    first = Callback.objects.order_by("pk").first()
    assert first.outcome == "pending → paid"
    later_ones = Callback.objects.exclude(pk=first.pk)
    assert set(later_ones.values_list("outcome", flat=True)) == {"paid → paid"}
    assert later_ones.filter(handled_at__isnull=True).count() == 0


def test_callbacks_naming_unknown_or_foreign_orders_never_cost_a_status_pull(
    salon_a, salon_b, connect_uzum, client
):
    connection = connect_uzum(salon_a)
    connect_uzum(salon_b)
    order_b = start_payment(salon_b)
    bodies = [forged(n) for n in range(10)]
    bodies += [forged(10 + n, order_id=order_b.bank_order_id, number="") for n in range(10)]
    for body in bodies:
        assert post(client, connection, body).status_code == 200
    # Unknown ones are looked for again a bounded number of times; nothing asks the bank.
    ran = run_due(*JOBS, now=later(60), limit=1000)
    assert ran == 10 * (1 + len(callbacks.NOT_FOUND_WAITS)) + 10
    assert status_pulls(order_b) == 0
    assert StatusPull.objects.count() == 0
    assert not RateCounter.objects.filter(key__startswith="uzum:pulls:").exists()
    outcomes = sorted(set(Callback.objects.values_list("outcome", flat=True)))
    assert outcomes == ["order not found: ignored", "order of another connection: ignored"]


def test_pulls_for_closed_orders_do_not_use_up_the_budget_of_a_live_one(
    salon_a, connect_uzum, client, monkeypatch
):
    connection = connect_uzum(salon_a)
    paid = []
    for hour in (14, 15, 16, 17):
        order = start_payment(salon_a, appointment=salon_a.book(hour=hour))
        bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
        assert post(client, connection, success_body(order)).status_code == 200
        paid.append(order)
    assert run_due(*JOBS) == 4
    RateCounter.objects.all().delete()  # a new minute
    monkeypatch.setattr(callbacks, "PULLS_PER_WINDOW", 1)
    monkeypatch.setattr(callbacks, "CLOSED_PULLS_PER_WINDOW", 2)
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(0))
    # The flood names the paid orders and is handled first ...
    for order in paid:
        for n in range(5):
            assert post(client, connection, success_body(order, nonce=n)).status_code == 200
    assert run_due(*JOBS) == 20
    assert sum(status_pulls(order) for order in paid) == 4 + 2  # the closed budget only
    # ... and the bank's callback for a live order still has its budget.
    live = start_payment(salon_a)
    bank.pay(order_id=live.bank_order_id, card_number=UZCARD)
    assert post(client, connection, success_body(live)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1
    live.refresh_from_db()
    assert (live.state, live.checks) == (State.PAID, 1)


def test_a_pull_put_off_by_the_budget_is_re_queued_a_bounded_number_of_times(
    salon_a, connect_uzum, client, monkeypatch
):
    monkeypatch.setattr(callbacks, "PULLS_PER_WINDOW", 0)
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    assert post(client, connection, success_body(order)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1
    assert run_due(PULL_JOB, now=later(3600), limit=50) == callbacks.MAX_BUDGET_WAITS
    stored = Callback.objects.get()
    assert stored.outcome == "pull budget used up: left to reconciliation"
    assert stored.handled_at is not None
    assert waiting(*JOBS).count() == 0
    assert StatusPull.objects.count() == 0
    assert status_pulls(order) == 0


# ------------------------------------------------------------------ fresh before retries


def test_fresh_callbacks_are_handled_before_re_queued_ones(
    salon_a, connect_uzum, client, settings, monkeypatch
):
    settings.NAVBAT_CALLBACK_LIMIT_PER_CONNECTION = 1000
    settings.NAVBAT_CALLBACK_LIMIT_PER_ADDRESS = 1000
    monkeypatch.setattr(callbacks, "NOT_FOUND_WAITS", (60, 60, 60))
    connection = connect_uzum(salon_a)
    for n in range(20):  # not found: looked for again in a minute (a retry)
        assert post(client, connection, forged(n, number="")).status_code == 200
    assert run_due(CALLBACK_JOB) == 20
    retries = set(waiting(CALLBACK_JOB).values_list("pk", flat=True))
    assert len(retries) == 20
    for n in range(300):
        assert post(client, connection, forged(100 + n)).status_code == 200
    # The retries are due as well; of the next 300 jobs none is one of them.
    assert run_due(CALLBACK_JOB, now=later(61), limit=300) == 300
    assert retries <= set(waiting(CALLBACK_JOB).values_list("pk", flat=True))
    fresh = Callback.objects.filter(order_number__startswith="forged-")
    assert fresh.count() == 300
    assert set(fresh.values_list("outcome", flat=True)) == {"order not found: later"}


# ------------------------------------------------------------------ a real payment in a flood


def test_a_real_payment_settles_within_2_s_during_a_flood_of_1000_forged_callbacks(
    salon_a, salon_b, connect_uzum, client, monkeypatch, settings
):
    settings.NAVBAT_CALLBACK_LIMIT_PER_CONNECTION = 120
    callbacks_in_process(monkeypatch)
    from navbat.uzum_sandbox.callbacks import deliver_due

    connection = connect_uzum(salon_a)
    connect_uzum(salon_b)
    paid = start_payment(salon_a, appointment=salon_a.book(hour=15))
    bank.pay(order_id=paid.bank_order_id, card_number=UZCARD)
    deliver_due()
    run_due(*JOBS)
    foreign = start_payment(salon_b)
    real = start_payment(salon_a)
    named = [paid.bank_order_id, foreign.bank_order_id, None]
    accepted = 0
    for n in range(1000):  # from 50 addresses, naming our paid order, B's, or none known
        body = forged(n, order_id=named[n % 3], number="")
        response = post(client, connection, body, REMOTE_ADDR=f"192.0.2.{n % 50}")
        assert response.status_code in (200, 429)
        accepted += response.status_code == 200
    assert accepted == settings.NAVBAT_CALLBACK_LIMIT_PER_CONNECTION  # the rest stored nothing
    assert Callback.objects.filter(connection=connection).count() == 1 + accepted

    started = time.monotonic()
    bank.pay(order_id=real.bank_order_id, card_number=UZCARD)
    assert deliver_due() == 1  # the bank's callback reaches us and hears 200
    ran = 0
    while PaymentOrder.objects.get(pk=real.pk).state != State.PAID:
        ran += run_due(*JOBS, limit=1)  # one job at a time, in the worker's order
        assert ran <= 5
    elapsed = time.monotonic() - started
    assert ran == 1  # the real callback's job ran first and asked the bank at once
    assert elapsed < 2.0
    assert books(salon_a.business)["transactions"] == {"sale_payment": 2, "bank_fee": 2}


# ------------------------------------------------------------------ cheap ingestion


@pytest.mark.django_db(transaction=True)
def test_a_new_callback_is_stored_in_few_statements_and_no_savepoint(salon_a, connect_uzum, client):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    post(client, connection, forged(0))  # the connection is looked up once per process
    with CaptureQueriesContext(db) as queries:
        response = post(client, connection, success_body(order))
    assert response.status_code == 200
    sql = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in sql if "SAVEPOINT" in s.upper()]
    assert not [s for s in sql if "uzum_connection" in s]
    # The named order, the counters, the callback, its job.
    assert len([s for s in sql if s.upper().startswith(("SELECT", "INSERT", "UPDATE"))]) == 4
