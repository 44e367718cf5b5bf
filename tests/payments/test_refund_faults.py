"""Refunds of card payments against a bank that misbehaves on purpose (the sandbox's fault
switches): an answer lost after the bank did the work is settled as done once, under the
refund's own X-Operation-Id; a bank that is down fails the refund with nothing moved, and a
new refund then goes through; a refund whose status cannot be read either stays at the bank
until the check_refund job (or the nightly reconciliation) settles it. Money is given back
and booked exactly once, or not at all."""

import time
from datetime import timedelta

import pytest
from django.db.models import F

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import reconciliation, refunds, services
from navbat.payments.models import Difference, Refund, RefundState, State
from navbat.payments.tasks import check_refund
from navbat.uzum import clients
from navbat.uzum import services as uzum
from navbat.uzum.checkout import BankTimeout, CheckoutClient
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import IdempotentCall, Operation, Terminal
from tests.payments.jobs import books, run_due, start_payment, waiting

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000
REFUND_JOB = "navbat.payments.tasks.check_refund"
PAID_ONCE = {"sale_payment": 1, "bank_fee": 1}


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch):
    """The client's pauses between retries (half a second, doubling) add nothing here."""
    make = clients.checkout_client

    def quick(connection, **options):
        options.setdefault("retry_backoff", 0)
        return make(connection, **options)

    monkeypatch.setattr(clients, "checkout_client", quick)


def paid_order(salon):
    order = start_payment(salon)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def switch(terminal, faults: dict) -> None:
    Terminal.objects.filter(pk=terminal.pk).update(faults=faults)


def bank_refunds(order) -> list[tuple[str, int, str]]:
    """The sandbox's refund operations of ``order``: state, amount, our key."""
    rows = Operation.objects.filter(order__order_id=order.bank_order_id, operation_type="REFUND")
    return list(rows.values_list("state", "amount", "merchant_operation_id"))


def refund_rows(order) -> list[tuple[str, int]]:
    rows = Transaction.objects.filter(document=order.document, kind=TransactionKind.REFUND)
    return list(rows.values_list("kind", "amount"))


# --------------------------------------------------------- the bank did it, the answer lost


@pytest.fixture
def live_bank(salon_a, live_server, sandbox_terminal, monkeypatch):
    """Salon A connected to the sandbox over a real socket (where a client's timeout is
    real), with the client's timeout lowered to meet a bank that works, then waits."""
    monkeypatch.setattr(clients, "timeout_seconds", 0.4)
    terminal = sandbox_terminal(merchant_name=salon_a.business.name)
    uzum.connect(
        business=salon_a.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        checkout_base_url=live_server.url + "/sandbox/uzum/checkout",
    )
    yield terminal
    # A paused answer outlives the client: let the server thread finish it before the rows
    # are flushed.
    time.sleep(1.2)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("times", [1, None], ids=["retry-answers", "every-answer-lost"])
def test_a_refund_done_at_the_bank_whose_answer_is_lost_is_booked_once(salon_a, live_bank, times):
    """``times=1``: the client's retry under the same key hears the first result.
    ``None``: every answer is lost; the refund is settled from the order's operations."""
    order = paid_order(salon_a)
    spec = {"mode": "work_then_timeout", "seconds": 1}
    if times:
        spec["times"] = times
    switch(live_bank, {"acquiring/refund": spec})

    requested = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=4_000_000, reason="Shorter cut"
    )

    refund = requested.refund
    assert (refund.state, refund.bank_operation, refund.amount) == (
        RefundState.DONE,
        "refund",
        4_000_000,
    )
    key = str(refund.operation_key)
    assert bank_refunds(order) == [("SUCCESS", 4_000_000, key)]
    assert list(IdempotentCall.objects.values_list("endpoint", "operation_key")) == [
        ("acquiring/refund", key)
    ]
    assert str(Operation.objects.get(operation_type="REFUND").operation_id) == (
        refund.bank_operation_id
    )
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PARTLY_REFUNDED, 4_000_000)
    assert refund_rows(order) == [(TransactionKind.REFUND, 4_000_000)]
    # Settling it again, by the job or the night's check, books nothing more.
    assert refunds.settle(refund_id=refund.pk).state == RefundState.DONE
    switch(live_bank, {})
    # The bank's lost answers are still on their way out on the live server's threads,
    # which share this test's SQLite connection (in memory): let them end before this
    # thread calls the bank again, or their open transaction looks like ours.
    time.sleep(spec["seconds"] + 0.3)
    assert reconciliation.run_daily(business=salon_a.business) == 0
    assert refund_rows(order) == [(TransactionKind.REFUND, 4_000_000)]
    assert Refund.objects.count() == 1


# ------------------------------------------------------------------------ a bank that is down


@pytest.mark.parametrize("endpoint", ["acquiring/refund", "*"])
def test_a_refund_while_the_bank_is_down_fails_with_nothing_moved_and_can_be_made_again(
    salon_a, connect_uzum, endpoint
):
    connection = connect_uzum(salon_a)
    order = paid_order(salon_a)
    before = books(salon_a.business)
    switch(connection.sandbox_terminal, {endpoint: {"mode": "error_5xx", "status": 503}})

    failed = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
    ).refund

    assert failed.state == RefundState.FAILED
    assert "nothing" in failed.failure_reason
    assert (failed.transaction_id, failed.fee_return_id, failed.done_at) == (None, None, None)
    assert books(salon_a.business) == before
    assert bank_refunds(order) == []
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)
    assert refunds.refundable_amount(order) == HAIRCUT

    switch(connection.sandbox_terminal, {})
    again = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
    ).refund

    assert again.state == RefundState.DONE
    assert again.operation_key != failed.operation_key
    assert bank_refunds(order) == [("SUCCESS", HAIRCUT, str(again.operation_key))]
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    assert books(salon_a.business)["transactions"] == {**PAID_ONCE, "refund": 1}
    # The failed one stays failed whatever asks after it.
    assert refunds.settle(refund_id=failed.pk).state == RefundState.FAILED
    assert books(salon_a.business)["transactions"] == {**PAID_ONCE, "refund": 1}


# ------------------------------------------- answer lost and the status unreadable: at the bank


def lose_the_answer_and_the_status(monkeypatch, terminal):
    """The bank refunds, then its answer is lost and its status reads fail (5xx) for a while."""
    sent = CheckoutClient.refund

    def refund_then_lost(self, *args, **kwargs):
        sent(self, *args, **kwargs)
        switch(
            terminal,
            {
                "payment/getOrderStatus": {"mode": "error_5xx"},
                "payment/getOperationState": {"mode": "error_5xx"},
            },
        )
        raise BankTimeout("no answer in time (ReadTimeout)", endpoint="acquiring/refund")

    monkeypatch.setattr(CheckoutClient, "refund", refund_then_lost)


def test_a_refund_whose_answer_and_status_are_lost_stays_at_the_bank_until_the_job_settles_it(
    salon_a, connect_uzum, monkeypatch
):
    connection = connect_uzum(salon_a)
    order = paid_order(salon_a)
    lose_the_answer_and_the_status(monkeypatch, connection.sandbox_terminal)

    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
    ).refund

    assert refund.state == RefundState.AT_BANK
    assert bank_refunds(order) == [("SUCCESS", HAIRCUT, str(refund.operation_key))]
    assert books(salon_a.business)["transactions"] == PAID_ONCE
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)
    assert refunds.refundable_amount(order) == 0  # held while the bank is asked
    with pytest.raises(refunds.RefundConflict) as refused:
        refunds.refund_payment(
            business=salon_a.business, order_id=order.pk, amount=1, reason="More"
        )
    assert refused.value.reason == "in_flight"
    assert refund.next_check_at is not None
    assert run_due(REFUND_JOB) == 0  # not before its time

    # Still down when the job comes: it stays at the bank and is asked again later.
    assert run_due(REFUND_JOB, now=refund.next_check_at) >= 1
    refund.refresh_from_db()
    assert refund.state == RefundState.AT_BANK
    assert refund.next_check_at is not None
    assert books(salon_a.business)["transactions"] == PAID_ONCE

    switch(connection.sandbox_terminal, {})
    assert run_due(REFUND_JOB, now=refund.next_check_at) >= 1
    refund.refresh_from_db()
    assert (refund.state, refund.bank_operation, refund.next_check_at) == (
        RefundState.DONE,
        "refund",
        None,
    )
    assert waiting(REFUND_JOB).count() == 0
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    assert books(salon_a.business)["transactions"] == {**PAID_ONCE, "refund": 1}

    # A repeated settle, a late job, the night's check: nothing more.
    assert refunds.settle(refund_id=refund.pk).state == RefundState.DONE
    check_refund.enqueue(refund.pk)
    assert run_due(REFUND_JOB) == 1
    assert reconciliation.run_daily(business=salon_a.business) == 0
    assert books(salon_a.business)["transactions"] == {**PAID_ONCE, "refund": 1}
    assert bank_refunds(order) == [("SUCCESS", HAIRCUT, str(refund.operation_key))]


def test_the_nightly_reconciliation_settles_a_refund_still_at_the_bank(
    salon_a, connect_uzum, monkeypatch
):
    connection = connect_uzum(salon_a)
    order = paid_order(salon_a)
    lose_the_answer_and_the_status(monkeypatch, connection.sandbox_terminal)
    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=3_000_000, reason="Short"
    ).refund
    assert refund.state == RefundState.AT_BANK
    switch(connection.sandbox_terminal, {})

    # Before its own job: the night's check asks after it, books it, then finds the order
    # agreeing with the bank.
    assert reconciliation.run_daily(business=salon_a.business) == 0

    refund.refresh_from_db()
    assert refund.state == RefundState.DONE
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PARTLY_REFUNDED, 3_000_000)
    assert refund_rows(order) == [(TransactionKind.REFUND, 3_000_000)]
    assert Difference.objects.count() == 0
    assert run_due(REFUND_JOB, now=refund.created_at + timedelta(hours=1)) >= 1
    assert refund_rows(order) == [(TransactionKind.REFUND, 3_000_000)]


def test_a_refund_still_being_sent_is_not_failed_by_an_early_look(salon_a, connect_uzum):
    """A "requested" refund may be on its way in another request: reconciliation leaves it
    alone (the bank has no operation under its key yet) until it is long overdue."""
    connect_uzum(salon_a)
    order = paid_order(salon_a)
    refund = Refund.objects.create(
        business=salon_a.business,
        order=order,
        amount=HAIRCUT,
        reason="Being sent",
        route="bank",
        register=Transaction.objects.get(kind=TransactionKind.SALE_PAYMENT).register,
        operation_key="8b0f2b6e-32b4-4c7e-9f0e-3c54c3a3a001",
    )

    assert refunds.settle(refund_id=refund.pk).state == RefundState.REQUESTED
    assert reconciliation.settle_refunds(business=salon_a.business) == 0

    Refund.objects.filter(pk=refund.pk).update(
        created_at=F("created_at") - refunds.STALE_REQUEST - timedelta(seconds=1)
    )
    assert reconciliation.settle_refunds(business=salon_a.business) == 1
    refund.refresh_from_db()
    assert refund.state == RefundState.FAILED  # the bank never received it
    assert books(salon_a.business)["transactions"] == PAID_ONCE


# ------------------------------------------------- the bank's word about refunds of an order


def test_the_bank_reporting_our_refund_on_its_way_settles_it_rather_than_a_difference(
    salon_a, connect_uzum, monkeypatch
):
    connection = connect_uzum(salon_a)
    order = paid_order(salon_a)
    lose_the_answer_and_the_status(monkeypatch, connection.sandbox_terminal)
    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=2_000_000, reason="Short"
    ).refund
    assert refund.state == RefundState.AT_BANK
    switch(connection.sandbox_terminal, {})

    # The bank says partly refunded (a status pull, a callback's pull): ours is that refund.
    order = services.refresh(order=order)

    assert order.state == State.PAID  # only the refund's own path books it
    assert Difference.objects.count() == 0
    refund.refresh_from_db()
    assert refund.state == RefundState.AT_BANK
    assert run_due(REFUND_JOB) >= 1  # due now, not at its later check
    refund.refresh_from_db()
    assert refund.state == RefundState.DONE
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PARTLY_REFUNDED, 2_000_000)
    assert refund_rows(order) == [(TransactionKind.REFUND, 2_000_000)]


def test_a_refund_at_the_bank_that_is_not_ours_is_listed_not_booked(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    order = paid_order(salon_a)
    ours = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=1_000_000, reason="Short"
    ).refund
    assert ours.state == RefundState.DONE
    assert reconciliation.run_daily(business=salon_a.business) == 0  # agrees after ours

    # Someone refunds at the bank's own office, past our books.
    bank.refund(
        terminal=connection.sandbox_terminal,
        order_id=order.bank_order_id,
        amount=2_500_000,
        key="refund-at-the-bank",
        cart=None,
    )
    order = services.refresh(order=order)
    assert (order.state, order.refunded_amount) == (State.PARTLY_REFUNDED, 1_000_000)

    assert reconciliation.run_daily(business=salon_a.business) == 1
    assert list(Difference.objects.values_list("what", "ours", "bank")) == [
        ("refunded_amount", "1000000", "3500000")
    ]
    assert refund_rows(order) == [(TransactionKind.REFUND, 1_000_000)]


def test_register_refunds_are_not_a_difference_with_the_bank(salon_a, connect_uzum):
    """Money given back from the salon's cash register never passed the bank: the nightly
    check holds the bank's refunds against ours to the card only."""
    connect_uzum(salon_a)
    order = paid_order(salon_a)
    refunds.refund_payment(
        business=salon_a.business,
        order_id=order.pk,
        amount=HAIRCUT,
        reason="Cash back",
        route="register",
        register_id=salon_a.cash.pk,
    )
    order.refresh_from_db()
    assert order.state == State.REFUNDED

    assert reconciliation.run_daily(business=salon_a.business) == 0
    assert Difference.objects.count() == 0


def test_a_provider_call_that_breaks_leaves_the_refund_to_be_settled_not_stuck(
    salon_a, connect_uzum, monkeypatch
):
    """Whatever breaks after the refund may have left (here: after the bank did it), the
    refund is held at the bank and settled from the bank's word, never left "requested"
    with no one to ask after it."""
    from navbat.uzum.provider import UzumProvider

    connect_uzum(salon_a)
    order = paid_order(salon_a)
    sent = UzumProvider.refund

    def breaks_after(self, *, order, refund):
        sent(self, order=order, refund=refund)
        raise RuntimeError("the process hiccuped")

    monkeypatch.setattr(UzumProvider, "refund", breaks_after)

    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
    ).refund

    assert refund.state == RefundState.AT_BANK
    assert books(salon_a.business)["transactions"] == PAID_ONCE
    assert run_due(REFUND_JOB, now=refund.next_check_at) >= 1
    refund.refresh_from_db()
    assert refund.state == RefundState.DONE
    assert books(salon_a.business)["transactions"] == {**PAID_ONCE, "refund": 1}
    assert bank_refunds(order) == [("SUCCESS", HAIRCUT, str(refund.operation_key))]
