"""What an appointment does when a payment for it is paid, refunded or expires (the
payable's hooks, called by the payment transitions)."""

from datetime import timedelta

import pytest

from navbat.booking.models import Status
from navbat.booking.selectors import money_of
from navbat.booking.services import change_status, take_desk_payment
from navbat.finance.models import PaymentState
from navbat.payments import app_payments, reconciliation, services
from navbat.payments.models import State
from navbat.uzum_sandbox import bank
from tests.payments.jobs import start_payment

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"


def paid_online(salon, appointment):
    order = start_payment(salon, appointment=appointment)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    order = services.refresh(order=order)
    assert order.state == State.PAID
    return order


def status_and_money(appointment):
    appointment.refresh_from_db()
    money = money_of(appointment)
    return appointment.status, money.state, money.paid


def test_a_full_refund_leaves_the_status_to_the_salon_and_the_appointment_unpaid(
    salon_a, connect_uzum
):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = paid_online(salon_a, appointment)
    assert status_and_money(appointment) == (Status.CONFIRMED, PaymentState.PAID, 10_000_000)

    app_payments.reverse_paid(order_id=order.pk)
    app_payments.reverse_paid(order_id=order.pk)  # a repeat: heard once

    assert status_and_money(appointment) == (Status.CONFIRMED, PaymentState.UNPAID, 0)


def test_a_refund_that_leaves_money_paid_keeps_it_confirmed(salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000)
    order = paid_online(salon_a, appointment)
    assert order.paid_amount == 6_000_000

    app_payments.reverse_paid(order_id=order.pk)

    assert status_and_money(appointment) == (
        Status.CONFIRMED,
        PaymentState.PARTLY_PAID,
        4_000_000,
    )


@pytest.mark.parametrize("status", [Status.ARRIVED, Status.COMPLETED, Status.CANCELLED])
def test_a_refund_leaves_a_visit_under_way_done_or_cancelled_as_it_is(
    salon_a, connect_uzum, status
):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = paid_online(salon_a, appointment)
    for step in (Status.ARRIVED, status) if status == Status.COMPLETED else (status,):
        change_status(appointment=appointment, status=step)

    app_payments.reverse_paid(order_id=order.pk)

    assert status_and_money(appointment) == (status, PaymentState.UNPAID, 0)


@pytest.mark.parametrize("status", [Status.BOOKED, Status.CONFIRMED])
def test_an_expired_payment_leaves_the_appointment_as_it_was(salon_a, connect_uzum, status):
    connect_uzum(salon_a)
    appointment = change_status(appointment=salon_a.appointments[0], status=status)
    order = start_payment(salon_a, appointment=appointment)
    late = reconciliation.deadline_of(order) + timedelta(seconds=1)

    order = reconciliation.check_pending(order_id=order.pk, now=late)

    assert order.state == State.EXPIRED
    assert status_and_money(appointment) == (status, PaymentState.UNPAID, 0)
