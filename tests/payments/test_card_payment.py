"""Starting a card payment and recording it (services level, the sandbox bank in-process)."""

from datetime import timedelta

import httpx
import pytest

from navbat.booking.models import Status
from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.finance.models import Transaction, TransactionKind
from navbat.finance.selectors import paid_amount
from navbat.payments import services
from navbat.payments.models import PaymentOrder, State
from navbat.payments.providers import BankView, ProviderError, ProviderUnavailable
from navbat.uzum import clients
from navbat.uzum.provider import UzumProvider
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
RETURN = "http://127.0.0.1:8000/pay/t/return/REFERENCE"


def start(link, language="uz"):
    return services.start_card_payment(
        link=link, language=language, success_url=RETURN, failure_url=RETURN + "?failed=1"
    )


def link_of(salon, appointment=None):
    appointment = appointment or salon.appointments[0]
    return services.link_for(
        business=salon.business, kind="appointment", payable_id=appointment.pk, author=salon.admin
    )


def books(salon):
    return list(
        Transaction.objects.filter(business=salon.business)
        .order_by("pk")
        .values_list("kind", "amount", "register__name")
    )


def test_a_paid_card_order_is_recorded_once_with_its_fee(salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    before = books(salon_a)
    order = start(link_of(salon_a), language="ru")
    sandbox_order = Order.objects.get(order_id=order.bank_order_id)
    assert (sandbox_order.amount, sandbox_order.order_number, sandbox_order.language) == (
        10_000_000,
        order.reference,
        "ru-RU",
    )
    assert sandbox_order.success_url == f"http://127.0.0.1:8000/pay/t/return/{order.reference}"
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD, code="")
    for _ in range(3):
        order = services.refresh(order=order)
    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.card_kind, order.card_scheme) == (
        State.PAID,
        10_000_000,
        "uzcard",
        "UZCARD",
    )
    assert (order.fee_rate_bp, order.fee_amount) == (100, 100_000)
    assert order.rrn and order.paid_at and order.masked_pan.startswith("860000")
    assert books(salon_a) == before + [
        (TransactionKind.SALE_PAYMENT, 10_000_000, "Uzum Bank"),
        (TransactionKind.BANK_FEE, 100_000, "Uzum Bank"),
    ]
    income = Transaction.objects.get(pk=order.income_id)
    assert (income.document_id, income.client_id) == (
        appointment.document_id,
        appointment.client_id,
    )
    assert paid_amount(document=appointment.document) == 10_000_000
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED


def test_pressing_pay_twice_sends_the_client_to_the_same_bank_order(salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first, second = start(link), start(link)
    assert first.pk == second.pk
    assert Order.objects.count() == 1


def test_what_is_due_is_what_is_asked(salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=3_000_000)
    order = start(link_of(salon_a))
    assert order.amount == 7_000_000
    assert Order.objects.get(order_id=order.bank_order_id).amount == 7_000_000


def counts():
    return (PaymentOrder.objects.count(), Order.objects.count(), Transaction.objects.count())


def test_without_a_connection_nothing_starts(salon_a, bank_in_process):
    link = link_of(salon_a)
    before = counts()
    with pytest.raises(services.PaymentRefused, match="does not take card payments") as refused:
        start(link)
    assert refused.value.reason == "not_connected"
    assert counts() == before


def test_a_cancelled_appointment_cannot_be_paid(salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    cancel_appointment(appointment=salon_a.appointments[0])
    before = counts()
    with pytest.raises(services.PaymentRefused, match="cancelled") as refused:
        start(link)
    assert refused.value.reason == "closed"
    assert counts() == before


def test_nothing_due_nothing_charged(salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    take_desk_payment(
        appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=10_000_000
    )
    before = counts()
    with pytest.raises(services.PaymentRefused, match="already paid") as refused:
        start(link)
    assert refused.value.reason == "nothing_due"
    assert counts() == before


def test_card_payments_switched_off_on_the_connection(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    connection.card_payments = False
    connection.save()
    before = counts()
    with pytest.raises(services.PaymentRefused) as refused:
        start(link_of(salon_a))
    assert refused.value.reason == "not_connected"
    assert counts() == before


def test_a_bank_that_is_down_leaves_a_cancelled_order_and_no_money(
    salon_a, connect_uzum, monkeypatch
):
    connect_uzum(salon_a)
    link = link_of(salon_a)

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.MockTransport(refuse))
    transactions = Transaction.objects.count()
    with pytest.raises(ProviderUnavailable, match="not answering"):
        start(link)
    order = PaymentOrder.objects.get()
    assert (order.state, order.bank_order_id, order.failure_reason) == (
        State.CANCELLED,
        "",
        "The bank is not answering. Try again in a minute.",
    )
    assert Transaction.objects.count() == transactions


def test_a_5xx_from_the_bank_is_unavailable_and_the_link_works_again(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    terminal = connection.sandbox_terminal
    terminal.faults = {"payment/register": {"mode": "error_5xx", "times": 1}}
    terminal.save()
    link = link_of(salon_a)
    with pytest.raises(ProviderUnavailable):
        start(link)
    again = start(link)
    assert again.state == State.PENDING
    assert list(PaymentOrder.objects.order_by("pk").values_list("state", flat=True)) == [
        State.CANCELLED,
        State.PENDING,
    ]


def test_the_bank_worked_then_we_timed_out_and_its_answer_settles_it_later(
    salon_a, connect_uzum, monkeypatch, bank_in_process
):
    """register did the work at the bank; our side saw a timeout and gave the order up. The
    bank's answer about that order (as a callback would bring us to ask) still records it."""
    connection = connect_uzum(salon_a)
    app = bank_in_process

    class WorkThenTimeout(httpx.BaseTransport):
        def handle_request(self, request):
            httpx.WSGITransport(app=app).handle_request(request).read()
            raise httpx.ReadTimeout("timed out", request=request)

    monkeypatch.setattr(clients, "transport_factory", WorkThenTimeout)
    with pytest.raises(ProviderUnavailable):
        start(link_of(salon_a))
    order = PaymentOrder.objects.get()
    assert order.state == State.CANCELLED
    at_bank = Order.objects.get(order_number=order.reference)
    bank.pay(order_id=at_bank.order_id, card_number=UZCARD, code="")
    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.WSGITransport(app=app))
    view = UzumProvider().fetch_bank_order(
        connection=connection, bank_order_id=str(at_bank.order_id)
    )
    services.apply_bank_view(order_id=order.pk, view=view)
    services.apply_bank_view(order_id=order.pk, view=view)
    order.refresh_from_db()
    assert (order.state, order.bank_order_id) == (State.PAID, str(at_bank.order_id))
    assert (
        Transaction.objects.filter(
            kind=TransactionKind.SALE_PAYMENT, register__name="Uzum Bank"
        ).count()
        == 1
    )


def test_an_auto_fiscal_terminal_gets_the_cart_with_fiscal_fields(salon_a, connect_uzum):
    connect_uzum(salon_a, auto_fiscal=True)
    order = start(link_of(salon_a))
    cart = Order.objects.get(order_id=order.bank_order_id).cart
    assert cart["total"] == 10_000_000
    [item] = cart["items"]
    assert item["receiptParams"] == {
        "spic": "10305001001000000",
        "packageCode": "1501",
        "vatPercent": 12,
        "TIN": "123456789",
    }
    assert (item["quantity"], item["unitPrice"], item["total"]) == (1, 10_000_000, 10_000_000)


def test_a_line_without_fiscal_codes_is_refused_before_the_bank_hears_of_it(salon_a, connect_uzum):
    from navbat.booking.services import LineInput

    connect_uzum(salon_a, auto_fiscal=True)
    appointment = salon_a.book(
        hour=15, lines=[LineInput(kind="product", item_id=salon_a.products[0].pk)]
    )
    with pytest.raises(ProviderError, match="IKPU"):
        start(link_of(salon_a, appointment))
    assert Order.objects.count() == 0
    assert PaymentOrder.objects.get().state == State.CANCELLED


def test_a_bank_answer_for_another_reference_or_amount_changes_nothing(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start(link_of(salon_a))
    transactions = Transaction.objects.count()
    for view in (
        BankView(
            state=State.PAID,
            bank_order_id=order.bank_order_id,
            reference="someone-else",
            amount=order.amount,
            paid_amount=order.amount,
        ),
        BankView(
            state=State.PAID,
            bank_order_id=order.bank_order_id,
            reference=order.reference,
            amount=1,
            paid_amount=1,
        ),
    ):
        services.apply_bank_view(order_id=order.pk, view=view)
    order.refresh_from_db()
    assert order.state == State.PENDING
    assert Transaction.objects.count() == transactions


def test_a_closed_uzum_register_still_receives_what_the_bank_paid(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    connection.register.is_active = False
    connection.register.save()
    order = start(link_of(salon_a))
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD, code="")
    services.refresh(order=order)
    assert Transaction.objects.filter(register=connection.register).count() == 2


def test_one_claim_to_ask_the_bank_per_pause(salon_a, salon_b, connect_uzum):
    """The waiting page's polls ask the bank through services.claim_pull: one UPDATE that
    only one poll per pause wins, in the order's own business."""
    connect_uzum(salon_a)
    order = start(link_of(salon_a))
    PaymentOrder.objects.filter(pk=order.pk).update(checked_at=None)

    assert services.claim_pull(order=order, business=salon_b.business) is False
    assert PaymentOrder.objects.get(pk=order.pk).checked_at is None
    assert services.claim_pull(order=order, business=salon_a.business) is True
    claimed_at = PaymentOrder.objects.get(pk=order.pk).checked_at
    assert claimed_at is not None
    assert services.claim_pull(order=order, business=salon_a.business) is False
    assert PaymentOrder.objects.get(pk=order.pk).checked_at == claimed_at

    long_ago = claimed_at - services.PULL_PAUSE - timedelta(seconds=1)
    PaymentOrder.objects.filter(pk=order.pk).update(checked_at=long_ago)
    assert services.claim_pull(order=order, business=salon_a.business) is True
    assert PaymentOrder.objects.get(pk=order.pk).checked_at > claimed_at
