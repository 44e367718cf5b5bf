"""Refunds of card payments on the sandbox bank: a partial then a final refund, the books,
the order's and the appointment's states, and the bank's order."""

import pytest

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import refunds, services
from navbat.payments.models import Refund, RefundRoute, RefundState, State
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.jobs import start_payment

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000
UZCARD_FEE = 100_000  # 1 %


def paid_order(salon):
    order = start_payment(salon)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def money_rows(document):
    return list(
        Transaction.objects.filter(document=document).order_by("id").values_list("kind", "amount")
    )


def test_a_partial_then_a_final_refund_of_a_card_payment(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = paid_order(salon_a)
    assert (order.state, order.fee_amount) == (State.PAID, UZCARD_FEE)

    first = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=4_000_000, reason="Shorter cut"
    )
    assert first.created
    assert (first.refund.state, first.refund.bank_operation) == (RefundState.DONE, "refund")
    order.refresh_from_db()
    assert (order.state, order.refunded_amount, order.fee_returned_amount) == (
        State.PARTLY_REFUNDED,
        4_000_000,
        0,
    )
    second = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=6_000_000, reason="Cancelled"
    )
    assert second.refund.state == RefundState.DONE
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    assert BankOrder.objects.get(order_id=order.bank_order_id).status == "REFUNDED"
    assert money_rows(order.document) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, UZCARD_FEE),
        (TransactionKind.REFUND, 4_000_000),
        (TransactionKind.REFUND, 6_000_000),
    ]
    with pytest.raises(refunds.RefundConflict) as refused:
        refunds.refund_payment(
            business=salon_a.business, order_id=order.pk, amount=1, reason="Again"
        )
    assert refused.value.reason == "nothing_left"
    assert Refund.objects.filter(route=RefundRoute.BANK).count() == 2


def test_a_desk_payment_is_refunded_from_its_register_in_parts(salon_a):
    from django.core.exceptions import ValidationError

    from navbat.finance import services as finance
    from navbat.kit.errors import Conflict

    appointment = salon_a.appointments[0]
    taken = finance.record_sale_payment(
        document=appointment.document, register=salon_a.cash, amount=5_000_000
    )
    part = finance.refund_desk_payment(original=taken, amount=2_000_000, reason="Too short")
    assert (part.kind, part.register_id, part.refund_of_id) == (
        TransactionKind.REFUND,
        salon_a.cash.pk,
        taken.pk,
    )
    with pytest.raises(Conflict):
        finance.refund_desk_payment(original=taken, amount=3_000_001, reason="More")
    with pytest.raises(ValidationError):
        finance.refund_desk_payment(original=part, amount=1, reason="A refund of a refund")
    finance.refund_desk_payment(original=taken, amount=3_000_000, reason="The rest")
    assert finance.refundable_of(taken) == 0
    assert Transaction.objects.filter(refund_of=taken).count() == 2
