"""A refund the bank reports and our books do not have (made in the bank's cabinet, say):
it is listed for the owner as a difference and never booked. Before, a paid order's refund
was saved as if nothing had happened, and an unpaid order the bank reported refunded was
booked paid, with income."""

import pytest

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import Difference, PaymentOrder, State
from navbat.uzum_sandbox import bank
from tests.payments.jobs import books, start_payment

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000


def refund_at_bank(connection, order, amount=HAIRCUT):
    bank.refund(
        terminal=connection.sandbox_terminal,
        order_id=order.bank_order_id,
        amount=amount,
        key=f"cabinet-{order.reference}",
        cart=None,
    )


def differences():
    return list(Difference.objects.values_list("order_id", "what", "ours", "bank"))


def test_a_paid_order_refunded_at_the_bank_is_listed_and_keeps_its_money(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    order = services.refresh(order=order)
    assert order.state == State.PAID
    before = books(salon_a.business)
    refund_at_bank(connection, order)

    for _ in range(2):  # a repeat lists nothing twice
        order = services.refresh(order=order)

    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.refunded_amount, order.checks) == (
        State.PAID,
        HAIRCUT,
        0,
        3,
    )
    assert differences() == [(order.pk, "state", "paid", "refunded")]
    assert books(salon_a.business) == before
    assert not Transaction.objects.filter(kind=TransactionKind.REFUND).exists()


def test_a_paid_order_partly_refunded_at_the_bank_is_listed_too(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    order = services.refresh(order=order)
    before = books(salon_a.business)
    refund_at_bank(connection, order, amount=2_500_000)

    order = services.refresh(order=order)

    assert (order.state, order.refunded_amount) == (State.PAID, 0)
    assert differences() == [(order.pk, "state", "paid", "partly_refunded")]
    assert books(salon_a.business) == before


def test_an_unpaid_order_the_bank_reports_refunded_books_no_income(salon_a, connect_uzum):
    """We never heard of the payment (no callback, no check in time), and by the time we
    ask it was given back: no money of it is ours."""
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    refund_at_bank(connection, order)
    before = books(salon_a.business)
    appointment = salon_a.appointments[0]

    order = services.refresh(order=order)

    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.income_id, order.fee_id) == (
        State.PENDING,
        0,
        None,
        None,
    )
    assert differences() == [(order.pk, "state", "pending", "refunded")]
    assert books(salon_a.business) == before
    assert not Transaction.objects.filter(kind=TransactionKind.SALE_PAYMENT).exists()
    appointment.refresh_from_db()
    assert appointment.status == "booked"
    assert PaymentOrder.objects.count() == 1
