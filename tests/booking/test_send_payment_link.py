"""booking.services.send_payment_link: the one place the page and the API get an
appointment's payment link from (F2), and book_for_phone, the desk's booking."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from navbat.booking import selectors, services
from navbat.booking.services import cancel_appointment
from navbat.payments.models import PaymentLink
from navbat.salons.models import Client

pytestmark = pytest.mark.django_db


def test_the_first_press_makes_the_link_and_the_second_gives_it_again(salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    first = services.send_payment_link(appointment=appointment, author=salon_a.admin)
    second = services.send_payment_link(appointment=appointment)
    assert (first.created, second.created) == (True, False)
    assert first.link.pk == second.link.pk
    assert first.link.created_by == salon_a.admin
    assert (first.refusal_code, first.refusal, first.connected) == ("", "", True)
    assert first.money.due == selectors.money_of(appointment).due
    assert PaymentLink.objects.filter(business=salon_a.business).count() == 1


def test_without_a_connection_there_is_no_link(salon_a):
    sent = services.send_payment_link(appointment=salon_a.appointments[0])
    assert (sent.link, sent.created, sent.connected) == (None, False, False)
    assert sent.refusal_code == selectors.LINK_NOT_CONNECTED
    assert sent.refusal == "Connect a bank to send payment links."
    assert PaymentLink.objects.filter(business=salon_a.business).count() == 0


def test_a_cancelled_appointment_gets_no_link(salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = cancel_appointment(appointment=salon_a.appointments[0])
    sent = services.send_payment_link(appointment=appointment)
    assert (sent.link, sent.refusal_code) == (None, selectors.LINK_CANCELLED)
    assert PaymentLink.objects.filter(business=salon_a.business).count() == 0


def test_a_refused_booking_leaves_no_new_client_behind(salon_a):
    taken = salon_a.appointments[0]
    before = Client.objects.filter(business=salon_a.business).count()
    with pytest.raises(ValidationError):
        services.book_for_phone(
            business=salon_a.business,
            location=taken.location,
            specialist=taken.specialist,
            client_phone="+998901112233",
            client_name="New client",
            starts_at=taken.starts_at,
            ends_at=taken.ends_at,
            lines=[],
        )
    assert Client.objects.filter(business=salon_a.business).count() == before


def test_a_change_without_an_end_keeps_the_length(salon_a):
    appointment = salon_a.appointments[0]
    length = appointment.ends_at - appointment.starts_at
    moved = services.book_for_phone(
        business=salon_a.business,
        location=appointment.location,
        specialist=appointment.specialist,
        client_phone=appointment.client.phone,
        starts_at=appointment.starts_at + timedelta(days=7),
        ends_at=None,
        lines=[
            services.LineInput(kind=line.kind, item_id=line.service_id or line.product_id)
            for line in appointment.lines.all()
        ],
        appointment=appointment,
    )
    assert moved.pk == appointment.pk
    assert moved.ends_at - moved.starts_at == length
    assert moved.client_id == appointment.client_id
