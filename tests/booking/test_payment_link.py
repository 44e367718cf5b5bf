"""F2 in the appointment window: the "Payment link" action, what it shows, who may use it,
and the online payments and overpayment notice the window and the client's record show."""

import base64
import html
from urllib.parse import quote, urlencode

import pytest
from django.urls import reverse
from django.utils import dateformat

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.kit.timeutil import to_local
from navbat.payments import services as payments
from navbat.payments.models import PaymentLink, PaymentOrder
from navbat.uzum_sandbox import bank

pytestmark = pytest.mark.django_db

TZ = "Asia/Tashkent"
HTMX = {"HTTP_HX_REQUEST": "true"}


def action(appointment) -> str:
    return reverse("booking:appointment_payment_link", args=[appointment.pk])


def window(appointment) -> str:
    return reverse("booking:appointment", args=[appointment.pk])


def text(response) -> str:
    return html.unescape(response.content.decode())


def stamp(moment) -> str:
    return dateformat.format(to_local(moment, TZ), "j M Y, H:i")


def pay_online(salon, appointment, card="8600000000000018") -> PaymentOrder:
    link = payments.link_for(business=salon.business, kind="appointment", payable_id=appointment.pk)
    order = payments.start_card_payment(
        link=link,
        language="en",
        success_url="http://127.0.0.1:8000/pay/x/return/REFERENCE",
        failure_url="http://127.0.0.1:8000/pay/x/return/REFERENCE?failed=1",
    )
    bank.pay(order_id=order.bank_order_id, card_number=card)
    return payments.refresh(order=order)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_managers_get_the_link_with_copy_share_and_qr(salon_a, login, connect_uzum, role, settings):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example.uz"
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    client = login(getattr(salon_a, role))

    response = client.post(action(appointment), **HTMX)

    assert response.status_code == 200
    link = PaymentLink.objects.get()
    assert (link.business, link.payable_kind, link.payable_id) == (
        salon_a.business,
        "appointment",
        appointment.pk,
    )
    assert link.created_by == getattr(salon_a, role)
    assert link.client == salon_a.clients[0]
    url = f"https://navbat.example.uz/pay/{link.token}"
    body = text(response)
    assert 'id="payment-link-amount">100 000 so\'m<' in body
    assert f'id="payment-link-url" value="{url}"' in body
    message = f"Salon A: payment link for 100 000 so'm {url}"
    assert f'href="sms:?&body={quote(message, safe="")}"' in body
    telegram = urlencode({"url": url, "text": "Salon A: payment link for 100 000 so'm"})
    assert f'href="https://t.me/share/url?{telegram}"' in body
    assert f'href="https://wa.me/?{urlencode({"text": message})}"' in body
    assert body.count("<svg") == 1 and 'class="segno"' in body
    assert 'id="copy-payment-link"' in body
    who = getattr(salon_a, role).email
    assert (
        f'<p id="payment-link-sent" hx-swap-oob="true">Payment link sent '
        f"{stamp(link.created_at)} by {who}</p>"
    ) in body


def test_the_link_has_at_least_128_random_bits_and_one_per_appointment(
    salon_a, login, connect_uzum
):
    connect_uzum(salon_a)
    client = login(salon_a.owner)
    first, second = salon_a.appointments
    client.post(action(first), **HTMX)
    client.post(action(first), **HTMX)  # a second press
    client.post(action(second), **HTMX)
    assert PaymentLink.objects.count() == 2
    tokens = [link.token for link in PaymentLink.objects.order_by("payable_id")]
    assert tokens[0] != tokens[1]
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        assert len(raw) == payments.TOKEN_BYTES


def test_a_second_press_gives_the_same_link(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    client = login(salon_a.owner)
    appointment = salon_a.appointments[0]
    first = text(client.post(action(appointment), **HTMX))
    link = PaymentLink.objects.get()
    second = text(client.post(action(appointment), **HTMX))
    assert PaymentLink.objects.get() == link
    assert link.token in first and link.token in second


def test_without_htmx_the_window_shows_the_link_after_a_redirect(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    client = login(salon_a.admin)
    appointment = salon_a.appointments[0]
    response = client.post(action(appointment))
    assert response.status_code == 302
    assert response["Location"] == window(appointment) + "#online-payment"
    page = text(client.get(window(appointment)))
    link = PaymentLink.objects.get()
    assert "The payment link is ready: copy it or send it to the client." in page
    assert f"/pay/{link.token}" in page
    assert (
        f'id="payment-link-sent">Payment link sent {stamp(link.created_at)} by admin-a@example.uz<'
        in page
    )


def test_specialists_cannot_make_a_link(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    client = login(salon_a.specialist_user)
    appointment = salon_a.appointments[0]  # the specialist's own
    assert client.post(action(appointment), **HTMX).status_code == 403
    assert client.post(action(appointment)).status_code == 403
    page = text(client.get(window(appointment)))
    assert "payment-link-button" not in page
    assert PaymentLink.objects.count() == 0


def test_get_is_not_allowed(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    assert login(salon_a.owner).get(action(salon_a.appointments[0])).status_code == 405
    assert PaymentLink.objects.count() == 0


def test_another_business_appointment_is_not_found(salon_a, salon_b, login, connect_uzum):
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    response = login(salon_a.owner).post(action(salon_b.appointments[0]), **HTMX)
    assert response.status_code == 404
    assert PaymentLink.objects.count() == 0


def test_no_connection_hints_at_the_integration_and_creates_nothing(salon_a, login):
    client = login(salon_a.owner)
    appointment = salon_a.appointments[0]
    page = text(client.get(window(appointment)))
    assert "payment-link-button" not in page
    assert "Connect a bank to send payment links." in page
    assert 'href="/integrations/uzum/"' in page

    body = text(client.post(action(appointment), **HTMX))
    assert (
        'id="payment-link-refusal">Connect a bank to send payment links. '
        '<a href="/integrations/uzum/">' in body
    )
    response = client.post(action(appointment), follow=True)
    assert "Connect a bank to send payment links." in text(response)
    assert PaymentLink.objects.count() == 0


def test_a_cancelled_appointment_gets_no_link(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    cancel_appointment(appointment=appointment)
    client = login(salon_a.owner)
    page = text(client.get(window(appointment)))
    assert "payment-link-button" not in page
    assert "This appointment was cancelled: there is nothing to pay." in page
    body = text(client.post(action(appointment), **HTMX))
    assert "This appointment was cancelled: there is nothing to pay." in body
    assert "/pay/" not in body
    assert PaymentLink.objects.count() == 0


def test_nothing_due_gets_no_link(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)
    client = login(salon_a.owner)
    page = text(client.get(window(appointment)))
    assert "payment-link-button" not in page
    assert "Nothing is due on this appointment." in page
    body = text(client.post(action(appointment), **HTMX))
    assert "Nothing is due on this appointment." in body
    assert PaymentLink.objects.count() == 0


def test_the_window_shows_the_online_payment_with_card_and_fee(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = pay_online(salon_a, appointment)
    # Paid today (2026 or later): Uzcard 1 % of 100 000 so'm.
    assert (order.state, order.card_kind, order.fee_amount) == ("paid", "uzcard", 100_000)
    page = text(login(salon_a.owner).get(window(appointment)))
    assert 'id="paid">100 000 so\'m<' in page
    assert 'id="payment-state">Paid<' in page
    row = page.split(f'data-reference="{order.reference}"')[1].split("</tr>")[0]
    assert '<span class="badge paid">Paid</span>' in row
    assert "Uzcard" in row and order.masked_pan in row
    assert "100 000 so'm" in row
    assert "1 000 so'm" in row and "(1 %)" in row
    # Paid in full: no more link to press, but when it was sent stays visible.
    assert "payment-link-button" not in page
    assert 'id="payment-link-sent">Payment link sent' in page
    assert "overpaid-notice" not in page


def test_a_specialist_sees_the_online_payments_but_not_the_link(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = pay_online(salon_a, appointment)
    page = text(login(salon_a.specialist_user).get(window(appointment)))
    assert f'data-reference="{order.reference}"' in page
    assert "payment-link-panel" not in page
    assert f"/pay/{order.link.token}" not in page


def test_an_overpayment_is_shown_with_the_payment_to_refund(salon_a, login, connect_uzum):
    """The desk took the money while the client was paying the link: both are kept."""
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    link = payments.link_for(
        business=salon_a.business, kind="appointment", payable_id=appointment.pk
    )
    order = payments.start_card_payment(
        link=link,
        language="en",
        success_url="http://127.0.0.1:8000/pay/x/return/REFERENCE",
        failure_url="http://127.0.0.1:8000/pay/x/return/REFERENCE?failed=1",
    )
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)
    bank.pay(order_id=order.bank_order_id, card_number="9860000000000016")
    order = payments.refresh(order=order)
    assert order.state == "paid"
    page = text(login(salon_a.owner).get(window(appointment)))
    assert 'id="paid">200 000 so\'m<' in page
    assert 'id="payment-state">Overpaid<' in page
    notice = page.split('id="overpaid-notice"')[1].split("</div>")[0]
    assert "Paid 100 000 so'm more than due — refund the difference to the client." in notice
    assert "Humo" in notice and order.masked_pan in notice
    assert order.reference[:8] in notice


def test_an_overpayment_at_the_desk_names_the_latest_payment(salon_a, login):
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=12_000_000)
    page = text(login(salon_a.owner).get(window(appointment)))
    notice = page.split('id="overpaid-notice"')[1].split("</div>")[0]
    assert "Paid 20 000 so'm more than due — refund the difference to the client." in notice
    assert "Cash" in notice and "120 000 so'm" in notice


def test_the_clients_record_shows_links_sent_and_online_payments(salon_a, login, connect_uzum):
    connect_uzum(salon_a)
    first, second = salon_a.appointments  # clients 0 and 1
    client = login(salon_a.owner)
    client.post(action(first), **HTMX)
    order = pay_online(salon_a, first)
    client.post(action(second), **HTMX)

    page = text(client.get(reverse("salons:client", args=[salon_a.clients[0].pk])))
    links = page.split('id="payment-links"')[1].split("</table>")[0]
    link = PaymentLink.objects.get(payable_id=first.pk)
    assert links.count("<tr>") == 2  # the header and one link
    assert stamp(link.created_at) in links
    assert "owner-a@example.uz" in links
    assert f'href="{window(first)}"' in links
    assert stamp(first.starts_at) in links
    assert f'href="{window(second)}"' not in links
    paid = page.split('id="client-online-payments"')[1].split("</table>")[0]
    assert "Uzcard" in paid and order.masked_pan in paid and "1 000 so'm" in paid

    other = text(client.get(reverse("salons:client", args=[salon_a.clients[1].pk])))
    assert f'href="{window(second)}"' in other.split('id="payment-links"')[1]
    assert "client-online-payments" not in other


def test_a_client_without_links_shows_no_payment_link_section(salon_a, login):
    page = text(login(salon_a.owner).get(reverse("salons:client", args=[salon_a.clients[0].pk])))
    assert "payment-links" not in page
