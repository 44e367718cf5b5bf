"""Real threads, real sockets, real PostgreSQL locks: twenty API refunds of one paid card
payment at once. With twenty keys, each for 60 % of it, one is made and nineteen hear 409;
with one key, one is made and all twenty hear the same refund. Either way the bank receives
one refund and the books hold one refund transaction."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import PaymentOrder, Refund, RefundState, State
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Operation as BankOperation
from navbat.uzum_sandbox.models import OperationType
from tests.payments.jobs import start_payment
from tests.payments.test_concurrency import connect_live

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]

# Twenty clients connect at once; Django's test server backlog is 10 (see test_concurrency).
ThreadedWSGIServer.request_queue_size = 256

REQUESTS = 20
HAIRCUT = 10_000_000
SIXTY_PERCENT = 6_000_000


def paid_live(salon, live_server, sandbox_terminal, *, slow_refund: bool) -> PaymentOrder:
    _connected, terminal = connect_live(salon, live_server, sandbox_terminal)
    order = start_payment(salon)
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    order = services.refresh(order=order)
    assert (order.state, order.paid_amount) == (State.PAID, HAIRCUT)
    if slow_refund:
        # The bank takes a second: every other request meets the first one at the bank.
        terminal.faults = {"acquiring/refund": {"mode": "slow", "seconds": 1}}
        terminal.save()
    return order


def send_all(live_server, salon, order, keys: list[str], body: dict) -> list[tuple[int, dict]]:
    url = f"{live_server.url}/api/v1/payments/{order.reference}/refunds"
    barrier = threading.Barrier(len(keys))

    def send(key: str) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {salon.api_token}", "Idempotency-Key": key}
        barrier.wait(timeout=30)
        response = httpx.post(url, json=body, headers=headers, timeout=60)
        return response.status_code, response.json()

    with ThreadPoolExecutor(len(keys)) as pool:
        return list(pool.map(send, keys))


def assert_one_refund(order: PaymentOrder) -> Refund:
    refund = Refund.objects.get()
    assert (refund.order_id, refund.amount, refund.state) == (
        order.pk,
        SIXTY_PERCENT,
        RefundState.DONE,
    )
    at_bank = BankOperation.objects.filter(
        order__order_id=order.bank_order_id,
        operation_type__in=(OperationType.REFUND, OperationType.REVERSE),
    )
    assert list(at_bank.values_list("operation_type", "amount", "merchant_operation_id")) == [
        (OperationType.REFUND, SIXTY_PERCENT, str(refund.operation_key))
    ]
    books = Transaction.objects.filter(business=order.business, kind=TransactionKind.REFUND)
    assert [(row.pk, row.amount) for row in books] == [(refund.transaction_id, SIXTY_PERCENT)]
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PARTLY_REFUNDED, SIXTY_PERCENT)
    return refund


@pytest.mark.parametrize("slow_refund", [True, False], ids=["slow-bank", "quick-bank"])
def test_twenty_refunds_of_sixty_percent_at_once_make_one(
    salon_a, live_server, sandbox_terminal, slow_refund
):
    order = paid_live(salon_a, live_server, sandbox_terminal, slow_refund=slow_refund)
    keys = [f"key-{index}" for index in range(REQUESTS)]

    answers = send_all(
        live_server, salon_a, order, keys, {"amount": SIXTY_PERCENT, "reason": "Shorter cut"}
    )

    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] + [409] * (REQUESTS - 1), answers
    refund = assert_one_refund(order)
    made = [body for status, body in answers if status == 201]
    assert made[0]["id"] == str(refund.operation_key)
    assert made[0]["state"] == "done"
    refused = {(body["code"], body["message"]) for status, body in answers if status == 409}
    assert refused <= {
        ("in_flight", "A refund of this payment is under way; wait until it is finished."),
        ("too_much", "At most 40 000 so'm can be refunded."),
    }, refused
    if slow_refund:
        assert {code for code, _message in refused} == {"in_flight"}


def test_one_request_twenty_times_at_once_is_one_refund_and_twenty_same_answers(
    salon_a, live_server, sandbox_terminal
):
    order = paid_live(salon_a, live_server, sandbox_terminal, slow_refund=True)

    answers = send_all(
        live_server,
        salon_a,
        order,
        ["one-key"] * REQUESTS,
        {"amount": SIXTY_PERCENT, "reason": "Shorter cut"},
    )

    statuses = sorted(status for status, _body in answers)
    assert statuses == [200] * (REQUESTS - 1) + [201], answers
    refund = assert_one_refund(order)
    bodies = [body for _status, body in answers]
    assert bodies == [bodies[0]] * REQUESTS
    assert bodies[0]["id"] == str(refund.operation_key)
    assert (bodies[0]["payment_id"], bodies[0]["amount"], bodies[0]["state"]) == (
        order.reference,
        SIXTY_PERCENT,
        "done",
    )
