"""Online payments totals after refunds equal the books to the tiyin: paid (SALE_PAYMENT),
refunded (REFUND), fees (BANK_FEE), fees returned (FEE_RETURN) and net. Issue 12: the list
said "paid 1 125 000 / fees 33 250" with a refunded 120 000 and its 6 000 fee inside."""

import html

import pytest
from django.db.models import Sum

from navbat.finance.models import Direction, Transaction, TransactionKind
from navbat.kit.money import format_money
from navbat.payments import refunds, selectors
from navbat.payments.models import PaymentOrder, RefundRoute, State
from navbat.uzum_sandbox import bank
from tests.payments.jobs import start_payment
from tests.payments.test_refund_pages import app_paid
from tests.uzum.merchant import App, connect_app

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HUMO = "9860000000000016"


def pay_card(salon, appointment, card):
    from navbat.payments import services

    order = start_payment(salon, appointment=appointment)
    bank.pay(order_id=order.bank_order_id, card_number=card)
    return services.refresh(order=order)


def books_of(business) -> dict[str, int]:
    documents = PaymentOrder.objects.filter(business=business).values("document")
    rows = Transaction.objects.filter(business=business, document__in=documents)
    sums = {
        kind: rows.filter(kind=kind).aggregate(total=Sum("amount"))["total"] or 0
        for kind in TransactionKind.values
    }
    income = rows.filter(direction=Direction.INCOME).aggregate(t=Sum("amount"))["t"] or 0
    expense = rows.filter(direction=Direction.EXPENSE).aggregate(t=Sum("amount"))["t"] or 0
    sums["net"] = income - expense
    return sums


@pytest.fixture
def refunded_payments(salon_a, connect_uzum):
    """Three payments and their refunds: a Uzcard one refunded in two parts to the card (the
    first with the fee returned, as a schedule may say), a Humo one partly given back from
    the cash register, and an app payment the bank reversed (its fee returned, the
    default for reversals)."""
    connection = connect_app(connect_uzum, salon_a)
    business = salon_a.business
    third = salon_a.book(hour=15, client=salon_a.clients[1])
    _app, trans_id, app_order = app_paid(salon_a, connection)
    assert App(connection).reverse(trans_id).status == 200
    uzcard = pay_card(salon_a, salon_a.appointments[1], UZCARD)
    humo = pay_card(salon_a, third, HUMO)
    schedule = connection.fee_schedule
    schedule.fee_returned_on_refund = True
    schedule.save()
    refunds.refund_payment(business=business, order_id=uzcard.pk, amount=4_000_000, reason="Part")
    schedule.fee_returned_on_refund = False
    schedule.save()
    refunds.refund_payment(business=business, order_id=uzcard.pk, amount=6_000_000, reason="Rest")
    refunds.refund_payment(
        business=business,
        order_id=humo.pk,
        amount=2_500_001,
        reason="Short",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )
    return {
        "app": PaymentOrder.objects.get(pk=app_order.pk),
        "uzcard": PaymentOrder.objects.get(pk=uzcard.pk),
        "humo": PaymentOrder.objects.get(pk=humo.pk),
    }


def test_the_totals_equal_the_books_to_the_tiyin(salon_a, refunded_payments):
    orders = refunded_payments
    assert [orders[name].state for name in ("app", "uzcard", "humo")] == [
        State.REFUNDED,
        State.REFUNDED,
        State.PARTLY_REFUNDED,
    ]
    # Uzcard 1 % of 100 000; the first 40 000 brought 400 of it back. The app's 1 000 fee
    # came back whole with the reversal. Humo's refund came from the cash register.
    assert [orders[name].fee_returned_amount for name in ("app", "uzcard", "humo")] == [
        orders["app"].fee_amount,
        40_000,
        0,
    ]
    totals = selectors.totals(selectors.payments(business=salon_a.business))
    books = books_of(salon_a.business)
    assert totals.paid == books[TransactionKind.SALE_PAYMENT] == 30_000_000
    assert totals.refunded == books[TransactionKind.REFUND] == 22_500_001
    assert totals.fees == books[TransactionKind.BANK_FEE]
    assert totals.fees == sum(order.fee_amount for order in orders.values())
    assert totals.fees_returned == books[TransactionKind.FEE_RETURN]
    assert totals.fees_returned == orders["app"].fee_amount + 40_000
    assert totals.net == books["net"]
    assert totals.net == (30_000_000 - 22_500_001 - totals.fees + orders["app"].fee_amount + 40_000)
    assert totals.count == 3


def test_the_list_shows_paid_refunded_fees_and_net(salon_a, login, refunded_payments):
    orders = refunded_payments
    response = login(salon_a.owner).get("/payments/")
    body = html.unescape(response.content.decode())
    totals = response.context["totals"]
    for name, value in [
        ("total-paid", totals.paid),
        ("total-refunded", totals.refunded),
        ("total-fees", totals.fees),
        ("total-fees-returned", totals.fees_returned),
        ("total-net", totals.net),
    ]:
        assert f'<strong id="{name}">{format_money(value)}</strong>' in body
    assert '<strong id="total-refunded">225 000.01 so\'m</strong>' in body
    # Refund states beside each payment; a refund action only where money is left.
    humo = body[body.index(f'id="payment-{orders["humo"].pk}"') :]
    humo = humo[: humo.index("</tr>")]
    assert "−25 000.01 so'm · From a register · " in humo
    assert f'href="/payments/{orders["humo"].pk}/refund?next=' in humo
    uzcard = body[body.index(f'id="payment-{orders["uzcard"].pk}"') :]
    uzcard = uzcard[: uzcard.index("</tr>")]
    assert uzcard.count('data-state="done"') == 2
    assert "/refund?next=" not in uzcard
    app = body[body.index(f'id="payment-{orders["app"].pk}"') :]
    app = app[: app.index("</tr>")]
    assert "Reversed by the bank" in app


def test_the_clients_record_shows_refund_states_and_the_action(salon_a, login, refunded_payments):
    orders = refunded_payments
    client_id = salon_a.clients[1].pk
    response = login(salon_a.admin).get(f"/catalog/clients/{client_id}/")
    body = html.unescape(response.content.decode())
    row = body[body.index(f'id="client-payment-{orders["humo"].pk}"') :]
    row = row[: row.index("</tr>")]
    assert "−25 000.01 so'm · From a register · " in row
    assert f'href="/payments/{orders["humo"].pk}/refund?next=/catalog/clients/{client_id}/"' in row
    # The record lists only the client's own payments (the app one was client 0's).
    assert f'id="client-payment-{orders["app"].pk}"' not in body
