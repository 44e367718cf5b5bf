"""Checkout callbacks over HTTP: stored once, answered 200 at once, and acted on by a
background job that believes only the bank's status answer."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import PaymentOrder, State
from navbat.uzum import callbacks
from navbat.uzum import services as uzum
from navbat.uzum.models import Callback, RateCounter, StatusPull
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.jobs import (
    CALLBACK_JOB,
    books,
    callbacks_in_process,
    deliver_and_handle,
    run_due,
    start_payment,
    waiting,
)

pytestmark = pytest.mark.django_db

PULL_JOB = "navbat.uzum.tasks.pull_status"


@pytest.fixture
def bank_calls_us(monkeypatch):
    return callbacks_in_process(monkeypatch)


UZCARD = "8600000000000018"
DECLINES = "8600000000003008"
HAIRCUT = 10_000_000  # the appointment's total: Haircut A, 100 000 so'm
FEE = 100_000  # Uzcard from 2026-01-01: 1 %


@pytest.fixture(autouse=True)
def quick(settings, monkeypatch):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0
    # Tests run the jobs one after the other in the same second; the gap has its own test.
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(0))


def url(connection, kind="callback"):
    return f"/uzum/checkout/{connection.public_id}/{kind}"


def post(client, connection, body, kind="callback", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url(connection, kind), data=data, content_type="application/json", **extra)


def success_body(order, **changes):
    body = {
        "orderId": order.bank_order_id,
        "orderNumber": order.reference,
        "operationType": "COMPLETE",
        "operationState": "SUCCESS",
        "cardType": 2,
        "merchantOperationId": None,
        "rrn": "123456789012",
    }
    body.update(changes)
    return body


def later(seconds=120):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_paid_orders_callback_is_one_job_that_records_the_payment_once(
    salon_a, connect_uzum, bank_calls_us, client
):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)

    from navbat.uzum_sandbox.callbacks import deliver_due

    assert deliver_due() == 1  # the bank POSTs to our endpoint and hears 200
    stored = Callback.objects.get()
    assert (stored.connection_id, stored.kind, stored.repeats) == (connection.pk, "payment", 0)
    assert stored.bank_order_id == order.bank_order_id
    assert stored.order_number == order.reference
    assert stored.handled_at is None
    assert waiting(CALLBACK_JOB).count() == 1
    order.refresh_from_db()
    assert order.state == State.PENDING  # the view only stored it

    assert run_due(CALLBACK_JOB) == 1

    order.refresh_from_db()
    assert order.state == State.PAID
    assert (order.paid_amount, order.fee_amount, order.fee_rate_bp) == (HAIRCUT, FEE, 100)
    assert (order.card_kind, order.card_scheme) == ("uzcard", "UZCARD")
    assert order.masked_pan == "860000******0018"
    assert len(order.rrn) == 12
    income = Transaction.objects.get(business=salon_a.business, kind=TransactionKind.SALE_PAYMENT)
    fee = Transaction.objects.get(business=salon_a.business, kind=TransactionKind.BANK_FEE)
    assert (income.register.name, income.amount, income.direction) == (
        "Uzum Bank",
        HAIRCUT,
        "income",
    )
    assert income.document_id == salon_a.appointments[0].document_id
    assert income.client_id == salon_a.clients[0].pk
    assert (fee.register.name, fee.amount, fee.direction) == ("Uzum Bank", FEE, "expense")
    assert (order.income_id, order.fee_id) == (income.pk, fee.pk)
    stored.refresh_from_db()
    assert stored.handled_at is not None
    assert stored.outcome == "pending → paid"


def test_the_same_body_five_times_is_one_row_one_job_one_payment(salon_a, connect_uzum, client):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    body = success_body(order)
    for _ in range(5):
        response = post(client, connection, body)
        assert (response.status_code, response.json()) == (200, {"ok": True})
    # Key order and spacing do not make a new callback.
    reordered = json.dumps(dict(reversed(list(body.items()))), indent=2)
    assert post(client, connection, reordered).status_code == 200
    stored = Callback.objects.get()
    assert stored.repeats == 5
    assert waiting(CALLBACK_JOB).count() == 1

    assert run_due(CALLBACK_JOB) == 1
    assert books(salon_a.business) == {
        "orders": {"paid": 1},
        "transactions": {"sale_payment": 1, "bank_fee": 1},
        "callbacks": 1,
    }
    # Repeats after it was handled change nothing and queue nothing.
    assert post(client, connection, body).status_code == 200
    assert waiting(CALLBACK_JOB).count() == 0
    stored.refresh_from_db()
    assert stored.repeats == 6


def test_reordered_callbacks_fail_after_success_and_event_after_payment_change_nothing_wrong(
    salon_a, connect_uzum, client
):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=DECLINES)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    fail = success_body(order, operationType="AUTHORIZE", operationState="FAIL", rrn=None)
    event = {
        "orderId": order.bank_order_id,
        "orderNumber": order.reference,
        "eventType": "FORM_CLOSED",
        "actionCode": 3008,
        "actionCodeDescription": "Insufficient funds",
    }
    # Newest first, as a reordering network delivers them: success, then the older failure,
    # then the form-closed event.
    assert post(client, connection, success_body(order)).status_code == 200
    assert post(client, connection, fail).status_code == 200
    assert post(client, connection, event, kind="event").status_code == 200
    assert run_due(CALLBACK_JOB) == 3

    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.failure_reason) == (State.PAID, HAIRCUT, "")
    assert books(salon_a.business) == {
        "orders": {"paid": 1},
        "transactions": {"sale_payment": 1, "bank_fee": 1},
        "callbacks": 3,
    }
    outcomes = list(Callback.objects.order_by("id").values_list("kind", "outcome"))
    assert outcomes == [
        ("payment", "pending → paid"),
        ("payment", "paid → paid"),
        ("event", "paid → paid"),
    ]


def test_an_event_is_a_hint_the_order_stays_pending_while_the_bank_says_so(
    salon_a, connect_uzum, bank_calls_us
):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=DECLINES)
    bank.close_form(order_id=order.bank_order_id)
    assert deliver_and_handle() == (2, 2)  # the failed attempt and the closed form

    order.refresh_from_db()
    assert order.state == State.PENDING
    assert order.failure_reason == "The bank declined the card (code 3008)."
    assert books(salon_a.business)["transactions"] == {}
    assert sorted(Callback.objects.values_list("kind", "outcome")) == [
        ("event", "pending → pending"),
        ("payment", "pending → pending"),
    ]


@pytest.mark.parametrize("bank_status", ["REGISTERED", "DECLINED"])
def test_a_success_callback_is_not_believed_when_the_bank_says_otherwise(
    salon_a, connect_uzum, client, bank_status
):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    if bank_status == "DECLINED":
        bank.pay(order_id=order.bank_order_id, card_number=DECLINES)
        BankOrder.objects.filter(order_id=order.bank_order_id).update(status="DECLINED")
    before = books(salon_a.business)

    assert post(client, connection, success_body(order)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1

    order.refresh_from_db()
    expected = State.PENDING if bank_status == "REGISTERED" else State.DECLINED
    assert (order.state, order.paid_amount, order.income_id, order.fee_id) == (
        expected,
        0,
        None,
        None,
    )
    after = books(salon_a.business)
    assert after["transactions"] == before["transactions"] == {}
    assert after["orders"] == {expected: 1}


def test_a_forged_callback_naming_another_businesss_order_changes_nothing(
    salon_a, salon_b, connect_uzum, client, caplog
):
    connection_a = connect_uzum(salon_a)
    connect_uzum(salon_b)
    order_b = start_payment(salon_b)
    # Paid at the bank, but B's own callback never came: A's address must not settle it.
    bank.pay(order_id=order_b.bank_order_id, card_number=UZCARD)
    before_a, before_b = books(salon_a.business), books(salon_b.business)

    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        assert post(client, connection_a, success_body(order_b)).status_code == 200
        only_number = success_body(order_b, orderId=None)
        assert post(client, connection_a, only_number).status_code == 200
        assert run_due(CALLBACK_JOB, now=later()) == 2

    order_b.refresh_from_db()
    assert (order_b.state, order_b.checks, order_b.checked_at) == (State.PENDING, 0, None)
    assert books(salon_b.business) == before_b
    assert books(salon_a.business)["transactions"] == before_a["transactions"] == {}
    assert set(Callback.objects.values_list("outcome", flat=True)) == {
        "order of another connection: ignored"
    }
    security = [r.getMessage() for r in caplog.records if r.name == "navbat.security"]
    assert len(security) == 2
    assert all("another connection" in line for line in security)


def test_a_callback_on_the_businesss_old_connection_for_an_order_of_the_new_one_is_ignored(
    salon_a, connect_uzum, client, caplog
):
    old = connect_uzum(salon_a)
    new = connect_uzum(salon_a)  # keys rotated: the old connection is kept, disconnected
    order = start_payment(salon_a)
    assert order.account_id == new.pk
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        assert post(client, old, success_body(order)).status_code == 200
        run_due(CALLBACK_JOB)
    order.refresh_from_db()
    assert order.state == State.PENDING
    assert "another connection" in caplog.text
    # The right address settles it.
    assert post(client, new, success_body(order)).status_code == 200
    run_due(CALLBACK_JOB)
    order.refresh_from_db()
    assert order.state == State.PAID


def test_an_unknown_order_is_looked_for_a_few_times_then_ignored(
    salon_a, connect_uzum, client, caplog
):
    connection = connect_uzum(salon_a)
    body = {
        "orderId": "6f1c9c52-3e5b-4d0e-9a55-0c8f1f3a2b10",
        "orderNumber": "not-ours",
        "operationType": "COMPLETE",
        "operationState": "SUCCESS",
    }
    assert post(client, connection, body).status_code == 200
    assert run_due(CALLBACK_JOB) == 1  # not found yet: tries again a little later
    stored = Callback.objects.get()
    assert (stored.handled_at, stored.outcome) == (None, "order not found: later")
    job = waiting(CALLBACK_JOB).get()
    assert job.args_kwargs == {"args": [stored.pk], "kwargs": {"attempt": 1}}
    assert timezone.now() < job.run_after <= timezone.now() + timedelta(seconds=3)

    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        assert run_due(CALLBACK_JOB, now=later()) == 3  # the waits of NOT_FOUND_WAITS
    stored.refresh_from_db()
    assert stored.outcome == "order not found: ignored"
    assert stored.handled_at is not None
    assert waiting(CALLBACK_JOB).count() == 0
    assert "order not found" in caplog.text
    assert PaymentOrder.objects.count() == 0
    assert Transaction.objects.filter(business=salon_a.business).count() == 0


def test_a_callback_that_overtakes_our_register_call_settles_the_order_once(
    salon_a, connect_uzum, client, monkeypatch
):
    """The bank's callback arrives before our register call stored the bank's order id:
    the job finds the order by our reference and settles it; the register answer that
    comes after changes nothing."""
    connection = connect_uzum(salon_a)
    from navbat.uzum.provider import UzumProvider

    register = UzumProvider.start_card_payment
    seen = {}

    def overtaken(self, *, order, **kwargs):
        started = register(self, order=order, **kwargs)
        bank.pay(order_id=started.bank_order_id, card_number=UZCARD)
        fresh = PaymentOrder.objects.get(pk=order.pk)
        seen["before"] = (fresh.state, fresh.bank_order_id)
        body = success_body(fresh, orderId=started.bank_order_id)
        assert post(client, connection, body).status_code == 200
        assert run_due(CALLBACK_JOB) == 1
        return started

    monkeypatch.setattr(UzumProvider, "start_card_payment", overtaken)
    order = start_payment(salon_a)

    assert seen["before"] == (State.CREATED, "")
    order.refresh_from_db()
    assert order.state == State.PAID
    assert order.redirect_url  # the register answer still stored its part
    assert books(salon_a.business) == {
        "orders": {"paid": 1},
        "transactions": {"sale_payment": 1, "bank_fee": 1},
        "callbacks": 1,
    }
    assert Callback.objects.get().outcome == "created → paid"


def test_a_callback_naming_our_number_with_a_different_bank_order_is_ignored(
    salon_a, connect_uzum, client, caplog
):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    other = start_payment(salon_a, appointment=salon_a.appointments[1])
    bank.pay(order_id=other.bank_order_id, card_number=UZCARD)
    # orderId of the paid order, orderNumber of the unpaid one.
    body = success_body(order, orderId=other.bank_order_id)
    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        assert post(client, connection, body).status_code == 200
        run_due(CALLBACK_JOB)
    order.refresh_from_db()
    # Found by the bank's id it is the other order, settled by the bank's own answer.
    other.refresh_from_db()
    assert (order.state, other.state) == (State.PENDING, State.PAID)
    assert "is our" in caplog.text  # the mismatch is logged
    # The reverse pairing (our unpaid order's id, the paid one's number): the bank's answer
    # about that id says unpaid, and nothing is recorded.
    body = success_body(order, orderNumber=other.reference)
    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        assert post(client, connection, body).status_code == 200
        run_due(CALLBACK_JOB)
    order.refresh_from_db()
    assert order.state == State.PENDING
    assert Callback.objects.order_by("id").last().outcome == "pending → pending"
    # Our number with a bank id that is not its own: the bank is not even asked.
    body = success_body(order, orderId="6f1c9c52-3e5b-4d0e-9a55-0c8f1f3a2b10")
    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        assert post(client, connection, body).status_code == 200
        run_due(CALLBACK_JOB)
    assert Callback.objects.order_by("id").last().outcome == "order id does not match: ignored"
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PENDING, 1)
    assert books(salon_a.business)["transactions"] == {"sale_payment": 1, "bank_fee": 1}


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ("{not json", 400, "body is not JSON"),
        ('["orderId"]', 400, "body is not a JSON object"),
        ("null", 400, "body is not a JSON object"),
        ("{}", 400, "no valid orderId / orderNumber"),
        ('{"orderId": "not-a-uuid"}', 400, "no valid orderId / orderNumber"),
        ('{"orderId": 12345}', 400, "no valid orderId / orderNumber"),
        ('{"orderNumber": ["x"]}', 400, "no valid orderId / orderNumber"),
        (b"\xff\xfe{}", 400, "body is not JSON"),
    ],
)
def test_malformed_bodies_are_refused_clearly_and_store_nothing(
    salon_a, connect_uzum, client, caplog, body, status, error
):
    connection = connect_uzum(salon_a)
    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        response = post(client, connection, body)
    assert (response.status_code, response.json()) == (status, {"ok": False, "error": error})
    assert Callback.objects.count() == 0
    assert DBTaskResult.objects.filter(task_path=CALLBACK_JOB).count() == 0
    assert error in caplog.text


def test_a_huge_body_is_refused_without_being_stored(salon_a, connect_uzum, client):
    connection = connect_uzum(salon_a)
    body = {"orderId": "6f1c9c52-3e5b-4d0e-9a55-0c8f1f3a2b10", "pad": "x" * (64 * 1024)}
    response = post(client, connection, body)
    assert (response.status_code, response.json()["error"]) == (400, "body too large")
    big = json.dumps(body).encode() * 50  # past the request body limit (1 MiB): never read
    response = post(client, connection, big)
    assert response.status_code == 413
    assert Callback.objects.count() == 0
    assert waiting(CALLBACK_JOB).count() == 0


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_other_methods_are_405(salon_a, connect_uzum, client, method):
    connection = connect_uzum(salon_a)
    response = getattr(client, method)(url(connection))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assert Callback.objects.count() == 0


def test_an_unknown_connection_is_404_with_a_security_line(salon_a, client, caplog, db):
    with caplog.at_level(logging.WARNING, logger="navbat.security"):
        response = client.post(
            "/uzum/checkout/00000000-0000-4000-8000-000000000000/callback",
            data={"orderId": "6f1c9c52-3e5b-4d0e-9a55-0c8f1f3a2b10"},
            content_type="application/json",
        )
    assert (response.status_code, response.json()) == (
        404,
        {"ok": False, "error": "unknown connection"},
    )
    assert "unknown connection 00000000-0000-4000-8000-000000000000" in caplog.text
    assert client.post("/uzum/checkout/not-a-uuid/callback").status_code == 404
    assert Callback.objects.count() == 0


def test_callbacks_need_no_csrf_token_and_no_login(salon_a, connect_uzum):
    from django.test import Client

    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    strict = Client(enforce_csrf_checks=True)
    response = post(strict, connection, success_body(order))
    assert response.status_code == 200


def test_a_disconnected_connection_still_settles_orders_in_flight(salon_a, connect_uzum, client):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    uzum.disconnect(connection=connection)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    assert post(client, connection, success_body(order)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1
    order.refresh_from_db()
    assert order.state == State.PAID
    assert Transaction.objects.get(kind=TransactionKind.SALE_PAYMENT).register.name == "Uzum Bank"


def test_receipt_callbacks_are_stored_and_marked_handled(salon_a, connect_uzum, bank_calls_us):
    connect_uzum(salon_a, auto_fiscal=True)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    assert deliver_and_handle() == (2, 2)
    receipt = Callback.objects.get(kind="receipt")
    assert receipt.body["receiptType"] == "PURCHASE"
    assert receipt.body["receiptUrl"].startswith("https://ofd.soliq.uz/check?")
    assert (receipt.bank_order_id, receipt.outcome) == (order.bank_order_id, "receipt stored")
    assert receipt.handled_at is not None
    order.refresh_from_db()
    assert order.state == State.PAID
    assert books(salon_a.business)["transactions"] == {"sale_payment": 1, "bank_fee": 1}


def test_status_pulls_caused_by_callbacks_are_rate_limited_per_connection(
    salon_a, salon_b, connect_uzum, client, monkeypatch
):
    monkeypatch.setattr(callbacks, "PULLS_PER_WINDOW", 2)
    connection = connect_uzum(salon_a)
    connection_b = connect_uzum(salon_b)
    orders = [start_payment(salon_a, appointment=a) for a in salon_a.appointments]
    orders.append(start_payment(salon_a, appointment=salon_a.book(hour=15)))
    order_b = start_payment(salon_b)
    for order in [*orders, order_b]:
        bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    for order in orders:
        assert post(client, connection, success_body(order)).status_code == 200
    assert post(client, connection_b, success_body(order_b)).status_code == 200

    assert run_due(CALLBACK_JOB) == 4
    states = [PaymentOrder.objects.get(pk=o.pk).state for o in orders]
    assert sorted(states) == [State.PAID, State.PAID, State.PENDING]
    order_b.refresh_from_db()
    assert order_b.state == State.PAID  # another connection has its own budget
    limited = Callback.objects.get(outcome="pull budget used up: later")
    assert limited.handled_at is None
    pull = StatusPull.objects.get()
    assert (pull.order_id, pull.budget_waits) == (limited.order_id, 1)
    job = waiting(PULL_JOB).get()
    assert job.args_kwargs["args"] == [pull.pk]
    assert job.priority == callbacks.PRIORITY_RETRY
    assert timezone.now() < job.run_after <= timezone.now() + timedelta(seconds=66)

    # A minute on: the window reopens (the counters forgotten rather than waited for).
    RateCounter.objects.all().delete()
    assert run_due(PULL_JOB, now=later(66)) == 1
    assert {PaymentOrder.objects.get(pk=o.pk).state for o in orders} == {State.PAID}
    assert books(salon_a.business)["transactions"] == {"sale_payment": 3, "bank_fee": 3}
    limited.refresh_from_db()
    assert limited.outcome == "pending → paid"
    assert limited.handled_at is not None


def test_an_order_asked_about_just_now_is_asked_again_a_little_later(
    salon_a, connect_uzum, client, monkeypatch
):
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(seconds=2))
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    order = services.refresh(order=order)  # the Quick Payment page asked a moment ago
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    assert post(client, connection, success_body(order)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PENDING, 1)
    job = waiting(PULL_JOB).get()
    assert job.run_after == order.checked_at + timedelta(seconds=2)
    assert job.priority == callbacks.PRIORITY_OURS
    assert waiting(CALLBACK_JOB).count() == 0
    stored = Callback.objects.get()
    assert (stored.outcome, stored.awaiting_pull) == (callbacks.WAITING, True)

    assert run_due(PULL_JOB, now=later(3)) == 1
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PAID, 2)
    stored.refresh_from_db()
    assert (stored.outcome, stored.awaiting_pull) == ("pending → paid", False)


def test_a_bank_that_is_down_during_the_pull_changes_nothing_and_is_asked_again(
    salon_a, connect_uzum, client, monkeypatch
):
    from navbat.uzum_sandbox.models import Terminal

    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(
        faults={"payment/getOrderStatus": {"mode": "error_5xx", "status": 503}}
    )
    assert post(client, connection, success_body(order)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1
    order.refresh_from_db()
    assert (order.state, order.checks) == (State.PENDING, 0)
    assert books(salon_a.business)["transactions"] == {}
    stored = Callback.objects.get()
    assert (stored.outcome, stored.handled_at) == ("bank unreachable: later", None)
    assert StatusPull.objects.get().attempt == 1
    job = waiting(PULL_JOB).get()
    assert job.priority == callbacks.PRIORITY_RETRY

    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(faults={})
    assert run_due(PULL_JOB, now=later(11)) == 1
    order.refresh_from_db()
    assert order.state == State.PAID
    stored.refresh_from_db()
    assert stored.outcome == "pending → paid"


def test_a_bank_that_stays_down_is_asked_a_bounded_number_of_times(salon_a, connect_uzum, client):
    from navbat.uzum_sandbox.models import Terminal

    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(
        faults={"payment/getOrderStatus": {"mode": "error_5xx", "status": 503}}
    )
    assert post(client, connection, success_body(order)).status_code == 200
    assert run_due(CALLBACK_JOB) == 1
    # The waits of UNAVAILABLE_WAITS (10 s … 10 min), then reconciliation's turn.
    assert run_due(PULL_JOB, now=later(3600), limit=50) == len(callbacks.UNAVAILABLE_WAITS)
    stored = Callback.objects.get()
    assert stored.outcome == "bank unreachable: left to reconciliation"
    assert stored.handled_at is not None
    assert waiting(CALLBACK_JOB, PULL_JOB).count() == 0
    assert StatusPull.objects.count() == 0
