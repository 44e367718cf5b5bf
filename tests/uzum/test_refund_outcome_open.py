"""A card refund whose outcome the bank leaves open is never failed early: a timeout or a
bank error that says the operation may exist (3028, 3022, 3049, 5000) keeps it at the bank
until the bank lists it or long enough has passed; and no refund is sent while the bank
shows money given back that the books do not hold (a second refund under a new key would
give it twice)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import refunds, services
from navbat.payments.models import Refund, RefundState
from navbat.uzum.checkout import BankTimeout, CheckoutClient
from navbat.uzum.checkout.errors import error_for
from navbat.uzum.refunds import UNHEARD_AFTER
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Operation
from tests.payments.jobs import start_payment

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000


def paid_order(salon):
    order = start_payment(salon)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def bank_refunds(order) -> int:
    return Operation.objects.filter(
        order__order_id=order.bank_order_id, operation_type="REFUND"
    ).count()


def refund_rows() -> int:
    return Transaction.objects.filter(kind=TransactionKind.REFUND).count()


def ask(salon, order, amount=4_000_000):
    return refunds.refund_payment(
        business=salon.business, order_id=order.pk, amount=amount, reason="Shorter cut"
    ).refund


@pytest.mark.parametrize(
    "lost",
    [
        BankTimeout("no answer in time (ReadTimeout)", endpoint="acquiring/refund"),
        error_for(3028, "operation already exists", endpoint="acquiring/refund"),
        error_for(3022, "timeout for a refund", endpoint="acquiring/refund"),
        error_for(5000, "internal error", endpoint="acquiring/refund"),
    ],
    ids=["timeout", "3028", "3022", "5000"],
)
def test_an_open_outcome_stays_at_the_bank_and_blocks_a_second_refund(
    salon_a, connect_uzum, monkeypatch, lost
):
    connect_uzum(salon_a)
    order = paid_order(salon_a)

    def refund_lost(self, *args, **kwargs):
        raise lost

    monkeypatch.setattr(CheckoutClient, "refund", refund_lost)
    first = ask(salon_a, order)

    assert (first.state, first.failure_reason) == (RefundState.AT_BANK, "")
    assert (bank_refunds(order), refund_rows()) == (0, 0)
    with pytest.raises(refunds.RefundConflict) as refused:
        ask(salon_a, order, amount=1_000_000)
    assert refused.value.reason == "in_flight"
    assert Refund.objects.count() == 1

    # A look within the window keeps it waiting; once the bank would surely list it, it
    # fails with nothing moved and a new refund may be asked.
    assert refunds.settle(refund_id=first.pk).state == RefundState.AT_BANK
    Refund.objects.filter(pk=first.pk).update(
        created_at=timezone.now() - UNHEARD_AFTER - timedelta(seconds=1)
    )
    settled = refunds.settle(refund_id=first.pk)
    assert settled.state == RefundState.FAILED
    assert (bank_refunds(order), refund_rows()) == (0, 0)


def test_no_refund_is_sent_while_the_bank_shows_money_given_back_the_books_do_not_hold(
    salon_a, connect_uzum
):
    """Given back at the bank (a refund failed too early here, or one made in the bank's
    cabinet): a new refund is failed before it is sent, so the money is not given twice."""
    connection = connect_uzum(salon_a)
    order = paid_order(salon_a)
    bank.refund(
        terminal=connection.sandbox_terminal,
        order_id=order.bank_order_id,
        amount=3_000_000,
        key="cabinet-refund",
        cart=None,
    )

    refused = ask(salon_a, order)

    assert refused.state == RefundState.FAILED
    assert "nothing was sent" in refused.failure_reason
    assert (bank_refunds(order), refund_rows()) == (1, 0)
    order.refresh_from_db()
    assert order.refunded_amount == 0
