"""The checkout QR's public page (/q/<code>): a bound point leads to the payable's Quick
Payment page and the orders started there come by QR (card and app); nothing bound asks the
client to ask the administrator and polls; a retired code says it is no longer in use; a code
no point had is a plain 404."""

import html

import pytest
from django.test import Client

from navbat.booking.services import cancel_appointment
from navbat.payments import qr
from navbat.payments.models import Channel, PaymentOrder
from navbat.salons.checkout_points import regenerate_code, retire_checkout_point
from tests.uzum.merchant import App, connect_app

pytestmark = pytest.mark.django_db


def text(response) -> str:
    return html.unescape(response.content.decode())


def code_of(point) -> str:
    return point.codes.get(retired_at=None).code


def bind(salon, appointment, **options):
    return qr.bind(
        point=salon.checkout_point, kind="appointment", payable_id=appointment.pk, **options
    )


def test_a_bound_point_leads_to_the_payment_page_and_the_card_order_comes_by_qr(
    client, salon_a, connect_uzum
):
    connect_uzum(salon_a)
    binding = bind(salon_a, salon_a.appointments[0])
    code = code_of(salon_a.checkout_point)
    response = client.get(f"/q/{code}")
    assert (response.status_code, response["Location"]) == (302, f"/pay/{binding.link.token}")
    client.cookies["django_language"] = "ru"
    page = text(client.get(response["Location"]))
    assert '<html lang="ru">' in page
    assert 'id="due">100 000 сум<' in page
    assert client.post(f"/pay/{binding.link.token}/card").status_code == 302
    order = PaymentOrder.objects.get(link=binding.link)
    assert (order.channel, order.method) == (Channel.QR, "card")


def test_an_order_by_the_link_alone_is_not_by_qr(client, salon_a, connect_uzum):
    connect_uzum(salon_a)
    binding = bind(salon_a, salon_a.appointments[0])
    qr.release(point=salon_a.checkout_point)
    assert client.post(f"/pay/{binding.link.token}/card").status_code == 302
    assert PaymentOrder.objects.get(link=binding.link).channel == Channel.LINK


def test_an_app_order_made_while_the_point_leads_to_the_link_comes_by_qr(salon_a, connect_uzum):
    app = App(connect_app(connect_uzum, salon_a))
    binding = bind(salon_a, salon_a.appointments[0])
    assert app.create(binding.link.code, 10_000_000).status == 200
    order = PaymentOrder.objects.get(link=binding.link)
    assert (order.channel, order.method) == (Channel.QR, "app")


def test_nothing_bound_asks_the_administrator_and_polls(client, salon_a):
    code = code_of(salon_a.checkout_point)
    response = client.get(f"/q/{code}")
    assert response.status_code == 200
    page = text(response)
    assert "<h1>Salon A</h1>" in page
    assert "Ask the administrator to set up your payment" in page
    assert f'hx-get="/q/{code}/watch" hx-trigger="every 1s"' in page
    assert client.get(f"/q/{code}/watch").status_code == 204
    binding = bind(salon_a, salon_a.appointments[0])
    watched = client.get(f"/q/{code}/watch")
    assert (watched.status_code, watched["HX-Redirect"]) == (200, f"/pay/{binding.link.token}")


def test_the_ask_page_speaks_the_phones_language(salon_a):
    code = code_of(salon_a.checkout_point)
    phone = Client(HTTP_ACCEPT_LANGUAGE="ru")
    phone.cookies.clear()
    page = text(phone.get(f"/q/{code}"))
    assert '<html lang="ru">' in page


def test_a_paid_or_cancelled_appointment_is_never_offered(client, salon_a):
    first = salon_a.appointments[0]
    bind(salon_a, first)
    cancel_appointment(appointment=first)
    code = code_of(salon_a.checkout_point)
    response = client.get(f"/q/{code}")
    assert response.status_code == 200
    assert "Ask the administrator to set up your payment" in text(response)
    assert qr.in_force(point=salon_a.checkout_point) is None


def test_a_retired_code_or_point_is_no_longer_in_use(client, salon_a, salon_b):
    old = code_of(salon_a.checkout_point)
    bind(salon_a, salon_a.appointments[0])
    regenerate_code(point=salon_a.checkout_point)
    response = client.get(f"/q/{old}")
    assert response.status_code == 410
    page = text(response)
    assert "This code is no longer in use" in page
    assert "Salon A" in page
    assert "Salon B" not in page and "/pay/" not in page
    new = code_of(salon_a.checkout_point)
    assert client.get(f"/q/{new}").status_code == 302
    retire_checkout_point(point=salon_a.checkout_point)
    assert client.get(f"/q/{new}").status_code == 410
    assert client.get(f"/q/{new}/watch")["HX-Refresh"] == "true"


@pytest.mark.parametrize("code", ["A" * 22, "short", "x" * 40, "bad%20code%3F12345678"])
def test_an_unknown_code_is_a_plain_404(client, salon_a, code):
    response = client.get(f"/q/{code}")
    assert response.status_code == 404
    page = text(response)
    assert "Page not found" in page
    assert "Salon" not in page and "hx-get" not in page
    assert client.get(f"/q/{code}/watch").status_code == 404
