"""Real threads, a real socket, real PostgreSQL locks: a card refund whose answer was lost is
settled by its own request and by the nightly reconciliation at the same moment — both hear
"done" from the bank and meet at the lock; the refund is booked once."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import reconciliation, refunds, services
from navbat.payments.models import Refund, RefundState, State
from navbat.uzum import clients
from navbat.uzum import services as uzum
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Operation
from tests.payments.jobs import start_payment

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]

HAIRCUT = 10_000_000


def test_a_refund_settled_by_its_request_and_by_reconciliation_at_once_is_booked_once(
    salon_a, live_server, sandbox_terminal, monkeypatch
):
    monkeypatch.setattr(clients, "timeout_seconds", 0.4)
    make = clients.checkout_client
    monkeypatch.setattr(
        clients, "checkout_client", lambda conn, **kw: make(conn, retry_backoff=0, **kw)
    )
    terminal = sandbox_terminal(merchant_name=salon_a.business.name)
    uzum.connect(
        business=salon_a.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        checkout_base_url=live_server.url + "/sandbox/uzum/checkout",
    )
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    order = services.refresh(order=order)
    assert order.state == State.PAID
    # The bank refunds, and every answer to the refund call comes too late.
    terminal.faults = {"acquiring/refund": {"mode": "work_then_timeout", "seconds": 1}}
    terminal.save()

    # Both settlers hold at the door of the lock until the other is there too.
    meet = threading.Barrier(2)
    apply = refunds.apply_outcome
    done_heard = []

    def at_the_door(*, refund_id, outcome):
        if outcome.state == RefundState.DONE:
            done_heard.append(threading.current_thread().name)
            meet.wait(timeout=30)
        return apply(refund_id=refund_id, outcome=outcome)

    monkeypatch.setattr(refunds, "apply_outcome", at_the_door)

    def the_request():
        try:
            return refunds.refund_payment(
                business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
            ).refund.state
        finally:
            connections.close_all()

    def the_night():
        try:
            give_up = time.monotonic() + 30
            while not Refund.objects.filter(state=RefundState.AT_BANK).exists():
                assert time.monotonic() < give_up, "the refund never reached the bank"
                time.sleep(0.02)
            return reconciliation.run_daily(business=salon_a.business)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(2) as pool:
        request = pool.submit(the_request)
        night = pool.submit(the_night)
        assert request.result(timeout=60) == RefundState.DONE
        assert night.result(timeout=60) == 0  # nothing left to list

    assert len(done_heard) == 2  # both heard "done" and raced for the lock
    refund = Refund.objects.get()
    assert (refund.state, refund.amount) == (RefundState.DONE, HAIRCUT)
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    booked = Transaction.objects.filter(document=order.document).order_by("id")
    assert list(booked.values_list("kind", "amount")) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, 100_000),
        (TransactionKind.REFUND, HAIRCUT),
    ]
    operations = Operation.objects.filter(operation_type="REFUND")
    assert list(operations.values_list("merchant_operation_id", flat=True)) == [
        str(refund.operation_key)
    ]
    time.sleep(1.2)  # the bank's late answers finish before the rows are flushed
