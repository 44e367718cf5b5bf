"""Callback delivery: a background job POSTs each callback to a real local HTTP server,
resends until HTTP 200 at most 5 times with growing waits, and obeys the fault switches."""

import socket
from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from navbat.uzum_sandbox import bank, callbacks, tasks
from navbat.uzum_sandbox.models import Callback, CallbackKind
from tests.uzum_sandbox.conftest import CARD, allow_origin, make_cart
from tests.uzum_sandbox.merchant import register_order

PAYMENT_FIELDS = {
    "orderId",
    "orderNumber",
    "operationType",
    "operationState",
    "cardType",
    "merchantOperationId",
    "rrn",
}


@pytest.fixture(autouse=True)
def no_waits(settings):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0


@pytest.fixture
def shop(make_terminal, merchant_server):
    return make_terminal(
        payment_callback_url=merchant_server.callback_url("payment"),
        event_callback_url=merchant_server.callback_url("event"),
        receipt_callback_url=merchant_server.callback_url("receipt"),
    )


def paid_order(terminal, card=CARD, **fields):
    order = register_order(terminal, **fields)
    return bank.pay(order_id=order.order_id, card_number=card, code="777777")


def jobs():
    return DBTaskResult.objects.filter(task_path=tasks.deliver_callback.module_path)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_payment_callback_is_sent_by_a_background_job_not_by_the_payment(shop, merchant_server):
    order = paid_order(shop)
    assert merchant_server.callbacks() == []  # nothing left inside the request that paid
    callback = Callback.objects.get(kind=CallbackKind.PAYMENT)
    assert (callback.delivered, callback.attempts) == (False, 0)
    assert jobs().count() == 1

    assert callbacks.deliver_due() == 1

    [body] = merchant_server.callbacks("payment")
    assert set(body) == PAYMENT_FIELDS
    operation = order.operations.get()
    assert body["orderId"] == str(order.order_id)
    assert body["orderNumber"] == order.order_number
    assert body["operationType"] == "COMPLETE"
    assert body["operationState"] == "SUCCESS"
    assert body["cardType"] == 2
    assert body["rrn"] == operation.rrn and len(body["rrn"]) == 12
    assert body["merchantOperationId"] is None
    callback.refresh_from_db()
    assert (callback.delivered, callback.attempts) == (True, 1)
    assert [a.status_code for a in callback.attempt_log.all()] == [200]
    assert callbacks.state(callback) == "delivered"


def test_a_declined_attempt_is_called_back_as_a_failed_operation(shop, merchant_server):
    paid_order(shop, card="8600000000003008")
    callbacks.deliver_due()
    [body] = merchant_server.callbacks("payment")
    assert set(body) <= PAYMENT_FIELDS
    assert (body["operationType"], body["operationState"]) == ("AUTHORIZE", "FAIL")


def test_500_three_times_then_200_gets_the_callback_four_times(shop, merchant_server):
    merchant_server.callback_answers = [500, 500, 500]
    paid_order(shop)

    assert callbacks.deliver_due() == 4

    received = merchant_server.callbacks("payment")
    assert len(received) == 4
    assert all(body == received[0] for body in received)
    callback = Callback.objects.get()
    assert (callback.delivered, callback.attempts) == (True, 4)
    assert [a.status_code for a in callback.attempt_log.all()] == [500, 500, 500, 200]
    assert callbacks.deliver_due() == 0  # nothing more to send


def test_a_merchant_that_never_answers_200_gets_the_callback_exactly_five_times(
    shop, merchant_server
):
    merchant_server.callback_answers = [503] * 20
    paid_order(shop)

    callbacks.deliver_due()
    callbacks.deliver_due(now=timezone.now() + timedelta(days=1))

    assert len(merchant_server.callbacks("payment")) == 5
    callback = Callback.objects.get()
    assert (callback.delivered, callback.attempts) == (False, 5)
    assert [a.status_code for a in callback.attempt_log.all()] == [503] * 5
    assert callbacks.state(callback) == "gave up"
    assert not jobs().filter(status="READY").exists()


def test_connection_errors_count_as_failed_attempts(make_terminal, settings):
    origin = f"http://127.0.0.1:{closed_port()}"
    allow_origin(settings, origin)
    terminal = make_terminal(payment_callback_url=f"{origin}/cb")
    paid_order(terminal)

    callbacks.deliver_due()

    callback = Callback.objects.get()
    assert (callback.delivered, callback.attempts) == (False, 5)
    attempts = list(callback.attempt_log.all())
    assert [a.status_code for a in attempts] == [None] * 5
    assert all("ConnectError" in a.error for a in attempts)


def test_a_timeout_counts_as_a_failed_attempt(shop, merchant_server, monkeypatch):
    monkeypatch.setattr(callbacks, "TIMEOUT", 0.2)
    merchant_server.hang_seconds = 1.0
    merchant_server.callback_answers = ["hang"]
    paid_order(shop)

    callbacks.deliver_due()

    callback = Callback.objects.get()
    assert (callback.delivered, callback.attempts) == (True, 2)
    first, second = callback.attempt_log.all()
    assert first.status_code is None and "timeout" in first.error
    assert second.status_code == 200


def test_retries_wait_longer_each_time(shop, merchant_server, settings):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = [1, 2, 4, 8]
    merchant_server.callback_answers = [500] * 10
    paid_order(shop)

    assert callbacks.deliver_due() == 1  # the first attempt; the retry waits a second
    assert callbacks.deliver_due() == 0
    assert len(merchant_server.callbacks()) == 1

    callbacks.deliver_due(now=timezone.now() + timedelta(hours=1))
    assert len(merchant_server.callbacks()) == 5
    retries = list(jobs().order_by("enqueued_at"))[1:]
    waits = [(job.run_after - job.enqueued_at).total_seconds() for job in retries]
    assert [round(wait) for wait in waits] == [1, 2, 4, 8]


def test_the_delay_setting_may_be_a_doubling_base(settings):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0.5
    assert [callbacks.retry_delay(n) for n in (2, 3, 4, 5)] == [0.5, 1, 2, 4]
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = [3]
    assert [callbacks.retry_delay(n) for n in (2, 3, 4, 5)] == [3, 3, 3, 3]


def test_the_event_callback_when_the_client_closes_the_form(shop, merchant_server):
    order = register_order(shop)
    bank.close_form(order_id=order.order_id)
    callbacks.deliver_due()
    [body] = merchant_server.callbacks("event")
    assert body == {
        "orderId": str(order.order_id),
        "orderNumber": order.order_number,
        "eventType": "FORM_CLOSED",
        "actionCode": 0,
        "actionCodeDescription": "Payment form closed by the client",
    }
    assert merchant_server.callbacks("payment") == []


def test_receipt_callbacks_on_an_auto_fiscal_terminal(make_terminal, merchant_server):
    terminal = make_terminal(
        auto_fiscal=True,
        payment_callback_url=merchant_server.callback_url("payment"),
        receipt_callback_url=merchant_server.callback_url("receipt"),
    )
    order = paid_order(terminal, cart=make_cart())
    callbacks.deliver_due()
    assert len(merchant_server.callbacks("payment")) == 1
    [receipt] = merchant_server.callbacks("receipt")
    assert set(receipt) == {"orderId", "receiptType", "receiptUrl"}
    assert receipt["orderId"] == str(order.order_id)
    assert receipt["receiptType"] == "PURCHASE"
    assert receipt["receiptUrl"].startswith("https://")


def test_no_receipt_callback_without_auto_fiscal(shop, merchant_server):
    paid_order(shop)
    callbacks.deliver_due()
    assert merchant_server.callbacks("receipt") == []


# The worker closes and reopens database connections between jobs, as in production: that
# needs committed data, not a test wrapped in one transaction.
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_delivers_callbacks(shop, merchant_server):
    from navbat.cli import _make_worker

    merchant_server.callback_answers = [500]
    paid_order(shop)
    worker = _make_worker(interval=0, worker_id="test-worker")
    worker.batch = True
    worker.run()
    assert len(merchant_server.callbacks()) == 2
    assert Callback.objects.get().delivered


# -------------------------------------------------------------------------------- faults


def set_fault(terminal, **spec):
    terminal.faults = {"callbacks": spec}
    terminal.save(update_fields=["faults"])


def order_ids(bodies):
    return [body["orderNumber"] for body in bodies]


def test_drop_never_sends_the_next_callbacks(shop, merchant_server):
    set_fault(shop, mode="drop", count=1)
    first = paid_order(shop)
    second = paid_order(shop)
    callbacks.deliver_due()

    assert order_ids(merchant_server.callbacks()) == [second.order_number]
    dropped = Callback.objects.get(body__orderNumber=first.order_number)
    assert dropped.dropped and dropped.attempts == 0
    assert callbacks.state(dropped) == "dropped"
    shop.refresh_from_db()
    assert "callbacks" not in shop.faults  # the switch spent itself


def test_drop_without_a_count_drops_everything_while_on(shop, merchant_server):
    set_fault(shop, mode="drop")
    paid_order(shop)
    paid_order(shop)
    callbacks.deliver_due()
    assert merchant_server.callbacks() == []
    assert Callback.objects.filter(dropped=True).count() == 2


def test_duplicate_delivers_the_callback_count_times_in_all(shop, merchant_server):
    set_fault(shop, mode="duplicate", count=3)
    order = paid_order(shop)
    callbacks.deliver_due()

    received = merchant_server.callbacks()
    assert order_ids(received) == [order.order_number] * 3
    assert received[0] == received[1] == received[2]
    assert Callback.objects.get().attempts == 3


def test_duplicates_follow_the_first_successful_delivery(shop, merchant_server):
    set_fault(shop, mode="duplicate", count=2)
    merchant_server.callback_answers = [500]
    paid_order(shop)
    callbacks.deliver_due()
    callback = Callback.objects.get()
    assert [a.status_code for a in callback.attempt_log.all()] == [500, 200, 200]


def test_delay_holds_the_first_attempt_back(shop, merchant_server):
    set_fault(shop, mode="delay", seconds=30)
    paid_order(shop)

    assert callbacks.deliver_due() == 0
    assert merchant_server.callbacks() == []
    [job] = jobs()
    assert 29 <= (job.run_after - job.enqueued_at).total_seconds() <= 31

    assert callbacks.deliver_due(now=timezone.now() + timedelta(seconds=31)) == 1
    assert len(merchant_server.callbacks()) == 1


def test_reorder_sends_held_callbacks_newest_first(shop, merchant_server):
    set_fault(shop, mode="reorder", count=2)
    first = paid_order(shop)
    callbacks.deliver_due()
    assert merchant_server.callbacks() == []
    assert callbacks.state(Callback.objects.get()) == "held"

    second = paid_order(shop)
    callbacks.deliver_due()

    assert order_ids(merchant_server.callbacks()) == [second.order_number, first.order_number]
    assert Callback.objects.filter(delivered=True).count() == 2


def test_a_held_callback_goes_out_after_the_next_one(shop, merchant_server):
    set_fault(shop, mode="reorder", count=2, times=1)  # only the next callback is held
    first = paid_order(shop)
    shop.refresh_from_db()
    assert "callbacks" not in shop.faults
    second = paid_order(shop)
    callbacks.deliver_due()
    assert order_ids(merchant_server.callbacks()) == [second.order_number, first.order_number]
