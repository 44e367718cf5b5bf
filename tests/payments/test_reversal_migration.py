"""A payment the bank reversed before refunds existed is read as a refund by the bank once
migrated: a done Refund tied to the reversal, the fee it brought back on the order, and the
fee's reversal as "bank fee returned"; backwards, it is as it was."""

import importlib

import pytest
from django.apps import apps

from navbat.finance import services as finance
from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import selectors, services
from navbat.payments.models import PaymentOrder, Refund, RefundRoute, RefundState, State
from navbat.uzum_sandbox import bank
from tests.payments.jobs import start_payment

pytestmark = pytest.mark.django_db

migration = importlib.import_module("navbat.payments.migrations.0006_earlier_reversals_as_refunds")
UZCARD = "8600000000000018"
HAIRCUT = 10_000_000
FEE = 100_000


def reversed_the_old_way(salon):
    """A paid order reversed as the code before refunds did: income and fee reversed (the
    fee as other income), the order refunded, no Refund row."""
    order = start_payment(salon)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    order = services.refresh(order=order)
    money_back = finance.reverse_transaction(original=order.income, note="taken back")
    fee_back = finance.reverse_transaction(original=order.fee, note="taken back")
    Transaction.objects.filter(pk=fee_back.pk).update(kind=TransactionKind.OTHER_INCOME)
    PaymentOrder.objects.filter(pk=order.pk).update(state=State.REFUNDED, refunded_amount=HAIRCUT)
    return order, money_back, fee_back


def test_an_earlier_reversal_becomes_a_done_refund_by_the_bank_and_back(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order, money_back, fee_back = reversed_the_old_way(salon_a)

    migration.forward(apps, None)
    migration.forward(apps, None)  # run twice: nothing more

    refund = Refund.objects.get()
    assert (refund.order_id, refund.amount, refund.route, refund.state) == (
        order.pk,
        HAIRCUT,
        RefundRoute.BANK_REVERSAL,
        RefundState.DONE,
    )
    assert (refund.transaction_id, refund.fee_return_id, refund.fee_returned_amount) == (
        money_back.pk,
        fee_back.pk,
        FEE,
    )
    order.refresh_from_db()
    assert order.fee_returned_amount == FEE
    assert Transaction.objects.get(pk=fee_back.pk).kind == TransactionKind.FEE_RETURN
    assert selectors.refunded_by_bank(order) == HAIRCUT
    totals = selectors.totals(selectors.payments(business=salon_a.business))
    assert (totals.paid, totals.refunded, totals.fees, totals.fees_returned) == (
        HAIRCUT,
        HAIRCUT,
        FEE,
        FEE,
    )

    migration.backward(apps, None)

    assert Refund.objects.count() == 0
    order.refresh_from_db()
    assert order.fee_returned_amount == 0
    assert Transaction.objects.get(pk=fee_back.pk).kind == TransactionKind.OTHER_INCOME
