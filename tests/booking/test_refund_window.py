"""Refunds in the appointment window: a "Refund" action on each online and desk payment,
the desk refund form, the money parts refreshed after a refund (htmx, no reload), the
overpayment notice as a refund action, and the notices of a payment made twice."""

import html
import uuid

import pytest
from django.urls import reverse

from navbat.booking.services import take_desk_payment
from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import refunds
from navbat.payments import services as payments
from navbat.payments.models import PaymentOrder, Refund, RefundRoute, RefundState
from tests.booking.test_payment_link import pay_online

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def window(appointment) -> str:
    return reverse("booking:appointment", args=[appointment.pk])


def desk_refund(appointment, taken) -> str:
    return reverse("booking:appointment_desk_refund", args=[appointment.pk, taken.pk])


def money(appointment) -> str:
    return reverse("booking:appointment_money", args=[appointment.pk])


def text(response) -> str:
    return html.unescape(response.content.decode())


def part(body: str, marker: str, end: str = "</tr>") -> str:
    found = body[body.index(marker) :]
    return found[: found.index(end)]


def test_each_payment_has_a_refund_action_for_managers(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = pay_online(salon_a, appointment)
    body = text(login(salon_a.owner).get(window(appointment)))
    row = part(body, f'id="online-payment-{order.pk}"')
    assert f'hx-get="/payments/{order.pk}/refund"' in row
    assert 'hx-target="#refund-panel"' in row
    assert '<div id="refund-panel"></div>' in body
    assert f'hx-get="{money(appointment)}" hx-trigger="payment-refunded from:body"' in body
    # The online payment's income is refunded through its payment, not as a desk payment.
    income = part(body, f'id="transaction-{order.income_id}"')
    assert "Refund" not in income


def test_a_specialist_sees_no_refund_action(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = pay_online(salon_a, appointment)
    body = text(login(salon_a.specialist_user).get(window(appointment)))
    assert f'id="online-payment-{order.pk}"' in body
    assert "/refund" not in body and "refund-panel" not in body


def test_a_desk_payment_is_refunded_in_the_window(salon_a, login):
    appointment = salon_a.appointments[0]
    taken = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000
    )
    client = login(salon_a.admin)
    body = text(client.get(window(appointment)))
    row = part(body, f'id="transaction-{taken.pk}"')
    assert f'hx-get="{desk_refund(appointment, taken)}"' in row

    form = text(client.get(desk_refund(appointment, taken), **HTMX))
    assert 'id="refundable">100 000 so\'m<' in form
    assert 'name="amount" value="100000"' in form
    data = {"amount": "30 000", "reason": "Too short", "idempotency_key": str(uuid.uuid4())}
    response = client.post(desk_refund(appointment, taken), data, **HTMX)
    assert response["HX-Trigger"] == "payment-refunded"
    body = text(response)
    assert 'id="refund-done">30 000 so\'m is given back from Cash.<' in body
    assert 'id="refundable">70 000 so\'m<' in body
    given = Transaction.objects.get(kind=TransactionKind.REFUND)
    assert (given.amount, given.register_id, given.refund_of_id, given.author) == (
        3_000_000,
        salon_a.cash.pk,
        taken.pk,
        salon_a.admin,
    )
    # The same form again gives back once.
    client.post(desk_refund(appointment, taken), data, **HTMX)
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 1

    # The window's money parts, as htmx fetches them after the refund.
    parts = text(client.get(money(appointment), **HTMX))
    assert 'id="money-totals" hx-swap-oob="true"' in parts
    assert 'id="paid">70 000 so\'m<' in parts
    assert 'id="due">30 000 so\'m<' in parts
    assert 'id="payment-state">Partly paid<' in parts
    assert 'id="online-payments-panel" hx-swap-oob="true"' in parts
    assert 'id="desk-payments-panel" hx-swap-oob="true"' in parts
    assert "−30 000 so'm" in part(parts, f'id="transaction-{given.pk}"')


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "100 000.01", "reason": "x"}, "At most 100 000 so'm can be refunded."),
        ({"amount": "0", "reason": "x"}, "The amount must be more than zero."),
        ({"amount": "10 000", "reason": ""}, "This field is required."),
    ],
)
def test_a_bad_desk_refund_is_shown_and_nothing_moves(salon_a, login, data, message):
    appointment = salon_a.appointments[0]
    taken = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000
    )
    client = login(salon_a.owner)
    response = client.post(desk_refund(appointment, taken), data)
    assert response.status_code == 400
    assert message in text(response)
    htmx = client.post(desk_refund(appointment, taken), data, **HTMX)
    assert "HX-Trigger" not in htmx and message in text(htmx)
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 0


def test_a_specialist_cannot_refund_at_the_desk(salon_a, login):
    appointment = salon_a.appointments[0]  # the specialist's own appointment
    taken = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000
    )
    client = login(salon_a.specialist_user)
    data = {"amount": "10 000", "reason": "x"}
    assert client.post(desk_refund(appointment, taken), data).status_code == 403
    assert client.get(money(appointment)).status_code == 403
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 0


def test_another_appointments_payment_is_not_found(salon_a, login):
    first, second = salon_a.appointments
    taken = take_desk_payment(appointment=first, register_id=salon_a.cash.pk, amount=10_000_000)
    client = login(salon_a.owner)
    data = {"amount": "10 000", "reason": "x"}
    assert client.post(desk_refund(second, taken), data).status_code == 404
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 0


def test_an_online_payment_refunded_updates_the_money_parts(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = pay_online(salon_a, appointment)
    client = login(salon_a.owner)
    data = {
        "action": "refund",
        "amount": "40 000",
        "reason": "Shorter cut",
        "route": "bank",
        "idempotency_key": str(uuid.uuid4()),
    }
    response = client.post(reverse("payments:refund", args=[order.pk]), data, **HTMX)
    assert response["HX-Trigger"] == "payment-refunded"
    parts = text(client.get(money(appointment), **HTMX))
    assert 'id="paid">60 000 so\'m<' in parts
    assert 'id="payment-state">Partly paid<' in parts
    row = part(parts, f'id="online-payment-{order.pk}"')
    assert '<span class="badge partly_refunded">Partly refunded</span>' in row
    assert "−40 000 so'm · Back to the card through the bank · " in row
    assert 'data-state="done"' in row


def test_the_overpayment_notice_offers_the_refund(salon_a, login, connect_uzum):
    from navbat.uzum_sandbox import bank
    from tests.payments.jobs import start_payment

    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = start_payment(salon_a, appointment=appointment)
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    order = payments.refresh(order=order)
    body = text(login(salon_a.owner).get(window(appointment)))
    notice = part(body, 'id="overpaid-notice"', "</div>")
    assert "Paid 100 000 so'm more than due — refund the difference to the client." in notice
    assert f'hx-get="/payments/{order.pk}/refund?amount=10000000"' in notice
    assert "Refund 100 000 so'm" in notice
    form = text(login(salon_a.owner).get(f"/payments/{order.pk}/refund?amount=4000000", **HTMX))
    assert 'name="amount" value="40000"' in form


def test_a_desk_overpayment_offers_the_desk_refund(salon_a, login):
    appointment = salon_a.appointments[0]
    taken = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=12_000_000
    )
    body = text(login(salon_a.owner).get(window(appointment)))
    notice = part(body, 'id="overpaid-notice"', "</div>")
    assert f'hx-get="{desk_refund(appointment, taken)}?amount=2000000"' in notice
    form = text(login(salon_a.owner).get(desk_refund(appointment, taken) + "?amount=2000000"))
    assert 'name="amount" value="20000"' in form


def _second_payment(salon, first, method="card"):
    """A later payment of the same link, as the duplicate marking records it."""
    second = pay_online(salon, salon.appointments[1])
    PaymentOrder.objects.filter(pk=second.pk).update(
        payable_id=first.payable_id, document=first.document, duplicate_of=first, method=method
    )
    Transaction.objects.filter(pk__in=[second.income_id, second.fee_id]).update(
        document=first.document
    )
    return PaymentOrder.objects.get(pk=second.pk)


def test_a_card_payment_made_twice_and_refunded_automatically(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    first = pay_online(salon_a, appointment)
    second = _second_payment(salon_a, first)
    refunds.refund_payment(
        business=salon_a.business,
        order_id=second.pk,
        amount=second.paid_amount,
        reason="Paid twice",
        automatic=True,
    )
    body = text(login(salon_a.owner).get(window(appointment)))
    notice = part(body, f'id="duplicate-{second.pk}"', "</div>")
    assert (
        "Paid twice: the later card payment of 100 000 so'm was refunded automatically." in notice
    )
    row = part(body, f'id="online-payment-{second.pk}"')
    assert '<span class="badge automatic">automatic</span>' in row
    assert 'id="payment-state">Paid<' in body


def test_an_app_payment_made_twice_asks_to_give_it_back(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    first = pay_online(salon_a, appointment)
    second = _second_payment(salon_a, first, method="app")
    body = text(login(salon_a.owner).get(window(appointment)))
    notice = part(body, f'id="duplicate-{second.pk}"', "</div>")
    assert "Paid twice in Uzum Bank app: give 100 000 so'm back." in notice
    assert f'hx-get="/payments/{second.pk}/refund"' in notice
    refunds.refund_payment(
        business=salon_a.business,
        order_id=second.pk,
        amount=second.paid_amount,
        reason="Paid twice",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )
    assert Refund.objects.get(order=second).state == RefundState.DONE
    body = text(login(salon_a.owner).get(window(appointment)))
    notice = part(body, f'id="duplicate-{second.pk}"', "</div>")
    assert "Paid twice in Uzum Bank app: 100 000 so'm was given back." in notice
