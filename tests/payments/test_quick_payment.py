"""The client's Quick Payment page (F2): what it shows, paying by card on the sandbox bank,
coming back from the bank, and every way it can go wrong without a 500 or a second charge."""

import html
from datetime import timedelta

import httpx
import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from navbat.booking.services import LineInput, cancel_appointment, take_desk_payment
from navbat.finance.models import Transaction, TransactionKind
from navbat.kit.timeutil import to_local
from navbat.payments import payables
from navbat.payments import services as payments
from navbat.payments.models import PaymentLink, PaymentOrder
from navbat.uzum import clients
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder

pytestmark = pytest.mark.django_db

ROOT = "http://127.0.0.1:8000"
UZCARD = "8600000000000018"
DECLINES = "8600000000003008"


def text(response) -> str:
    return html.unescape(response.content.decode())


def link_of(salon, appointment=None) -> PaymentLink:
    appointment = appointment or salon.appointments[0]
    return payments.link_for(
        business=salon.business, kind="appointment", payable_id=appointment.pk, author=salon.owner
    )


def page_url(link) -> str:
    return f"/pay/{link.token}"


def card_url(link) -> str:
    return f"/pay/{link.token}/card"


def return_url(link, order, failed=False) -> str:
    return f"/pay/{link.token}/return/{order.reference}" + ("?failed=1" if failed else "")


def status_url(link, order) -> str:
    return f"/pay/{link.token}/status/{order.reference}"


def books(salon, appointment) -> list[tuple[str, int, str]]:
    rows = Transaction.objects.filter(
        business=salon.business, document=appointment.document
    ).order_by("id")
    return [(t.kind, t.amount, t.register.name) for t in rows]


def start(client, link) -> PaymentOrder:
    response = client.post(card_url(link))
    assert response.status_code == 302, text(response)
    return PaymentOrder.objects.get(link=link)


def back_later(order) -> None:
    """As if the last question to the bank was asked longer ago than the polling pause."""
    PaymentOrder.objects.filter(pk=order.pk).update(
        checked_at=timezone.now() - timedelta(seconds=4)
    )


@pytest.fixture
def settings_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT
    return settings


# ---- the page -------------------------------------------------------------------------------


def test_the_page_shows_the_bill_in_english(client, salon_a, connect_uzum, settings_root):
    connect_uzum(salon_a)
    appointment = salon_a.book(
        hour=15,
        lines=[
            LineInput(kind="service", item_id=salon_a.services[0].pk, discount_percent=10),
            LineInput(kind="product", item_id=salon_a.products[0].pk, quantity=2),
        ],
    )
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=5_000_000)
    link = link_of(salon_a, appointment)

    response = client.get(page_url(link))

    assert response.status_code == 200
    page = text(response)
    assert '<html lang="en">' in page
    assert 'id="salon-name">Salon A<' in page
    assert 'id="salon-address">Tashkent<' in page
    assert 'id="specialist">Specialist A0<' in page
    local = to_local(appointment.starts_at, "Asia/Tashkent")
    assert f'id="when">{local.day} {local:%B %Y}, 15:00<' in page
    lines = page.split('class="lines"')[1].split("</ul>")[0]
    assert lines.count('class="line"') == 2
    assert "Haircut A<br><small class=\"muted\">1 × 100 000 so'm · discount −10 000 so'm" in lines
    assert 'Shampoo A<br><small class="muted">2 × 50 000 so\'m</small>' in lines
    assert '<span class="amount">90 000 so\'m</span>' in lines
    assert '<span class="amount">100 000 so\'m</span>' in lines
    assert 'id="total">190 000 so\'m<' in page
    assert 'id="paid">50 000 so\'m<' in page
    assert 'id="due">140 000 so\'m<' in page
    assert 'id="pay-card">Pay by card<' in page
    assert 'action="/pay/' + link.token + '/card"' in page
    assert "csrfmiddlewaretoken" in page
    # The switcher posts to the language view and comes back here.
    assert 'action="/accounts/language/"' in page
    assert f'name="next" value="/pay/{link.token}"' in page


def test_the_page_speaks_russian(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    client.cookies["django_language"] = "ru"
    page = text(client.get(page_url(link)))
    assert '<html lang="ru">' in page
    assert "Специалист" in page
    assert "Итого" in page
    assert 'id="due">100 000 сум<' in page
    local = to_local(salon_a.appointments[0].starts_at, "Asia/Tashkent")
    months = "января февраля марта апреля мая июня июля августа сентября октября ноября декабря"
    assert f'id="when">{local.day} {months.split()[local.month - 1]} {local.year}, 10:00<' in page


def test_switching_the_language_needs_no_login(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    response = client.post("/accounts/language/", {"language": "ru", "next": page_url(link)})
    assert response.status_code == 302
    assert response["Location"] == page_url(link)
    assert '<html lang="ru">' in text(client.get(page_url(link)))


@pytest.mark.parametrize(
    "token",
    [
        "x" * 43,  # well formed, unknown
        "short",
        "a" * 65,
        "bad%20token%3Cscript%3E",
        "nul%00nul" + "a" * 20,
        "%E2%9C%93" * 10,
    ],
)
def test_an_unknown_or_malformed_token_is_a_friendly_404(client, salon_a, connect_uzum, token):
    connect_uzum(salon_a)
    link_of(salon_a)
    for path in (f"/pay/{token}", f"/pay/{token}/return/{'0' * 8}-0000-0000-0000-{'0' * 12}"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Payment link not found" in text(response)
    assert client.post(f"/pay/{token}/card").status_code == 404
    assert PaymentOrder.objects.count() == 0


def test_a_tampered_token_is_not_found(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    last = "A" if link.token[-1] != "A" else "B"
    tampered = link.token[:-1] + last
    assert client.get(f"/pay/{tampered}").status_code == 404
    assert client.post(f"/pay/{tampered}/card").status_code == 404
    assert client.get(f"/pay/{link.token[:-1]}").status_code == 404
    assert PaymentOrder.objects.count() == 0


def test_a_cancelled_appointment_offers_no_payment(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    cancel_appointment(appointment=salon_a.appointments[0])
    page = text(client.get(page_url(link)))
    assert 'id="closed">This appointment was cancelled.<' in page
    assert "pay-card" not in page
    response = client.post(card_url(link))
    assert response.status_code == 200
    assert 'id="pay-error">This appointment was cancelled.<' in text(response)
    assert PaymentOrder.objects.count() == 0


def test_without_card_payments_the_page_says_so(client, salon_a):
    link = link_of(salon_a)  # no connection at all
    page = text(client.get(page_url(link)))
    assert "Online payment is not available at the moment. Please pay at the salon." in page
    assert "pay-card" not in page
    response = client.post(card_url(link))
    assert "The salon does not take card payments online at the moment." in text(response)
    assert PaymentOrder.objects.count() == 0


# ---- paying by card -------------------------------------------------------------------------


def test_pay_by_card_registers_at_the_bank_and_redirects(
    client, salon_a, connect_uzum, settings_root
):
    connection = connect_uzum(salon_a)
    link = link_of(salon_a)
    client.cookies["django_language"] = "ru"

    response = client.post(card_url(link))

    order = PaymentOrder.objects.get()
    assert (order.state, order.amount, order.method, order.language) == (
        "pending",
        10_000_000,
        "card",
        "ru",
    )
    at_bank = BankOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == order.redirect_url
    assert order.redirect_url.endswith(f"/sandbox/uzum/pay/{at_bank.order_id}/")
    assert str(at_bank.order_id) == order.bank_order_id
    assert at_bank.terminal == connection.sandbox_terminal
    assert (at_bank.order_number, at_bank.amount, at_bank.language) == (
        order.reference,
        10_000_000,
        "ru-RU",
    )
    assert at_bank.success_url == f"{ROOT}/pay/{link.token}/return/{order.reference}"
    assert at_bank.failure_url == f"{ROOT}/pay/{link.token}/return/{order.reference}?failed=1"
    assert at_bank.cart is None
    assert Transaction.objects.filter(business=salon_a.business).count() == 0

    # Pressing again while the bank's page is open sends the client back to the same order.
    again = client.post(card_url(link))
    assert again["Location"] == order.redirect_url
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1


def test_an_auto_fiscal_terminal_gets_the_cart(client, salon_a, connect_uzum):
    connect_uzum(salon_a, auto_fiscal=True)
    link = link_of(salon_a)
    assert client.post(card_url(link)).status_code == 302
    cart = BankOrder.objects.get().cart
    assert cart["total"] == 10_000_000
    assert [item["receiptParams"]["spic"] for item in cart["items"]] == ["10305001001000000"]


def test_the_card_form_is_csrf_protected(salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(card_url(link)).status_code == 403
    assert PaymentOrder.objects.count() == 0


def test_a_bank_answering_5xx_is_a_clear_message_and_nothing_is_charged(
    client, salon_a, connect_uzum
):
    connection = connect_uzum(salon_a)
    terminal = connection.sandbox_terminal
    terminal.faults = {"payment/register": {"mode": "error_5xx"}}
    terminal.save()
    link = link_of(salon_a)

    response = client.post(card_url(link))

    assert response.status_code == 200
    page = text(response)
    assert 'id="pay-error">The bank is not answering. Try again in a minute.<' in page
    assert 'id="pay-card">Pay by card<' in page
    order = PaymentOrder.objects.get()
    assert order.state == "cancelled"
    assert order.failure_reason == "The bank is not answering. Try again in a minute."
    assert BankOrder.objects.count() == 0
    assert books(salon_a, salon_a.appointments[0]) == []


def test_an_unreachable_bank_is_a_clear_message(client, salon_a, connect_uzum, monkeypatch):
    connect_uzum(salon_a)
    link = link_of(salon_a)

    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.MockTransport(refuse))
    response = client.post(card_url(link))
    assert response.status_code == 200
    assert "The bank is not answering. Try again in a minute." in text(response)
    assert PaymentOrder.objects.get().state == "cancelled"
    assert Transaction.objects.filter(business=salon_a.business).count() == 0


def test_a_refusal_by_the_bank_is_shown(client, salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    terminal = connection.sandbox_terminal
    terminal.pay_types = ["TWO_STEP"]  # the terminal refuses our one-step payment (3004)
    terminal.save()
    link = link_of(salon_a)
    page = text(client.post(card_url(link)))
    assert 'id="pay-error">The bank refused the payment: 3004' in page
    assert PaymentOrder.objects.get().state == "cancelled"


# ---- back from the bank ---------------------------------------------------------------------


def test_back_from_the_bank_paid_shows_success_and_the_books_once(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    link = link_of(salon_a)
    order = start(client, link)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)

    response = client.get(return_url(link, order))

    assert response.status_code == 200
    page = text(response)
    assert 'id="outcome-title">Payment completed successfully<' in page
    assert 'id="amount-paid">100 000 so\'m<' in page
    assert 'id="card-used">Uzcard 860000******0018<' in page
    assert "Salon A" in page
    assert "hx-get" not in page
    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.fee_amount, order.fee_rate_bp) == (
        "paid",
        10_000_000,
        100_000,
        100,
    )
    expected = [
        (TransactionKind.SALE_PAYMENT, 10_000_000, "Uzum Bank"),
        (TransactionKind.BANK_FEE, 100_000, "Uzum Bank"),
    ]
    assert books(salon_a, appointment) == expected

    # Coming back again, polling, the page itself: the receipt, never a second charge.
    assert "Payment completed successfully" in text(client.get(return_url(link, order)))
    assert "Payment completed successfully" in text(client.get(status_url(link, order)))
    receipt = text(client.get(page_url(link)))
    assert 'id="outcome-title">Payment completed successfully<' in receipt
    assert "pay-card" not in receipt
    assert client.post(card_url(link)).status_code == 200
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1
    assert books(salon_a, appointment) == expected


def test_a_paid_link_shows_the_receipt(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    link = link_of(salon_a)
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)
    page = text(client.get(page_url(link)))
    assert 'id="outcome-title">Payment completed successfully<' in page
    assert 'id="amount-paid">100 000 so\'m<' in page
    assert "<dt>Appointment</dt>" in page  # the payable's own label
    assert "pay-card" not in page
    response = client.post(card_url(link))
    assert 'id="pay-error">This is already paid.<' in text(response)
    assert PaymentOrder.objects.count() == 0


def test_the_receipt_names_what_was_paid_by_the_payables_label(
    client, salon_a, connect_uzum, monkeypatch
):
    """payments does not know what an appointment is: the receipt says what its payable
    kind calls itself."""
    connect_uzum(salon_a)
    link = link_of(salon_a)
    monkeypatch.setattr(payables.get(link.payable_kind), "label", "Visit")
    take_desk_payment(
        appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=10_000_000
    )
    page = text(client.get(page_url(link)))
    assert 'id="outcome-title">Payment completed successfully<' in page
    assert "<dt>Visit</dt>" in page
    assert "<dt>Appointment</dt>" not in page


def test_a_declined_card_shows_the_reason_and_try_again(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    order = start(client, link)
    bank.pay(order_id=order.bank_order_id, card_number=DECLINES)

    page = text(client.get(return_url(link, order, failed=True)))

    assert 'id="outcome-title">The payment did not go through<' in page
    assert 'id="failure-reason">The bank declined the card (code 3008).<' in page
    assert f'action="/pay/{link.token}/card"' in page
    assert 'id="pay-card">Try again<' in page
    assert books(salon_a, salon_a.appointments[0]) == []
    # Try again: the bank keeps the order open after a decline, so the client goes back to it.
    again = client.post(card_url(link))
    assert again.status_code == 302
    assert again["Location"] == order.redirect_url
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    back_later(order)
    assert "Payment completed successfully" in text(client.get(return_url(link, order)))
    assert len(books(salon_a, salon_a.appointments[0])) == 2


def test_an_expired_order_can_be_paid_again(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(client, link)
    PaymentOrder.objects.filter(pk=first.pk).update(state="expired")
    page = text(client.get(return_url(link, first)))
    assert 'id="outcome-title">The payment did not go through<' in page
    assert 'id="pay-card">Try again<' in page
    second_response = client.post(card_url(link))
    second = PaymentOrder.objects.exclude(pk=first.pk).get()
    assert second_response["Location"] == second.redirect_url
    assert second.bank_order_id != first.bank_order_id


def test_waiting_for_the_bank_polls_and_then_shows_success(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    order = start(client, link)

    page = text(client.get(return_url(link, order)))  # back before the bank settled

    assert 'id="outcome-title">Waiting for the bank\'s confirmation…<' in page
    assert f'hx-get="/pay/{link.token}/status/{order.reference}"' in page
    assert 'hx-trigger="every 2s"' in page
    order.refresh_from_db()
    assert order.checks == 1  # the return asked the bank once

    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    # Within the pause the poll does not ask the bank again: still waiting.
    poll = text(client.get(status_url(link, order)))
    assert "Waiting for the bank" in poll and 'hx-trigger="every 2s"' in poll
    assert "<html" not in poll
    order.refresh_from_db()
    assert order.checks == 1

    back_later(order)
    poll = text(client.get(status_url(link, order)))
    assert 'id="outcome-title">Payment completed successfully<' in poll
    assert "hx-trigger" not in poll
    order.refresh_from_db()
    assert (order.state, order.checks) == ("paid", 2)


def test_a_bank_that_cannot_answer_keeps_the_page_waiting(client, salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    link = link_of(salon_a)
    order = start(client, link)
    terminal = connection.sandbox_terminal
    terminal.faults = {"payment/getOrderStatus": {"mode": "error_5xx"}}
    terminal.save()
    response = client.get(return_url(link, order))
    assert response.status_code == 200
    assert "Waiting for the bank's confirmation…" in text(response)
    order.refresh_from_db()
    assert order.state == "pending"


def test_another_links_reference_is_not_found(client, salon_a, salon_b, connect_uzum):
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    link_a = link_of(salon_a)
    other_a = link_of(salon_a, salon_a.appointments[1])
    link_b = link_of(salon_b)
    order_b = start(client, link_b)
    order_a2 = start(client, other_a)
    for order in (order_b, order_a2):
        for path in (return_url(link_a, order), status_url(link_a, order)):
            response = client.get(path)
            assert response.status_code == 404
            assert "Payment link not found" in text(response)
    bad = f"/pay/{link_a.token}/return/not-a-reference"
    assert client.get(bad).status_code == 404


def test_the_new_pages_are_registered_under_pay():
    assert reverse("pay:page", kwargs={"token": "t"}) == "/pay/t"
    assert reverse("pay:card", kwargs={"token": "t"}) == "/pay/t/card"
    assert reverse("pay:return", kwargs={"token": "t", "reference": "r"}) == "/pay/t/return/r"
    assert reverse("pay:status", kwargs={"token": "t", "reference": "r"}) == "/pay/t/status/r"


def test_the_views_that_call_the_bank_are_outside_the_request_transaction():
    """The service commits the order before it calls the bank; ATOMIC_REQUESTS would hold
    that commit (and the row lock) until the bank answered."""
    from django.urls import resolve

    for path in ("/pay/t/card", "/pay/t/return/r", "/pay/t/status/r"):
        assert resolve(path).func._non_atomic_requests == {"default"}


def test_the_page_and_its_watch_only_read_outside_a_request_transaction(
    client, salon_a, connect_uzum
):
    """They are what phones poll: no BEGIN and COMMIT round trips, and nothing written."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import resolve

    for path in ("/pay/t", "/pay/t/watch"):
        assert resolve(path).func._non_atomic_requests == {"default"}
    connect_uzum(salon_a)
    link = link_of(salon_a)
    with CaptureQueriesContext(connection) as seen:
        assert client.get(page_url(link)).status_code == 200
        assert client.get(f"/pay/{link.token}/watch").status_code == 204
    assert {q["sql"].split()[0] for q in seen} == {"SELECT"}


def test_link_previews_may_ask_for_the_head(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    assert client.head(page_url(link)).status_code == 200
    assert client.put(page_url(link)).status_code == 405
    assert client.get(card_url(link)).status_code == 405
    assert PaymentOrder.objects.count() == 0
