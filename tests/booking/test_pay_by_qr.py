""" "Pay by QR" in the appointment window: choosing the point (the last used preselected),
the confirm step when the point waits for another appointment, the waiting panel polling to
paid, release, and who may use it."""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.kit.timeutil import to_local
from navbat.payments import qr
from navbat.payments.models import PointBinding
from navbat.salons.checkout_points import create_checkout_point, retire_checkout_point

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    return html.unescape(response.content.decode())


def window(appointment) -> str:
    return reverse("booking:appointment", args=[appointment.pk])


def bind_url(appointment) -> str:
    return reverse("booking:appointment_qr", args=[appointment.pk])


def release_url(appointment) -> str:
    return reverse("booking:appointment_qr_release", args=[appointment.pk])


def in_force(salon) -> list[tuple[int, int]]:
    rows = PointBinding.objects.filter(business=salon.business, ended_at=None)
    return [(b.point_id, b.link.payable_id) for b in rows]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_the_window_offers_the_locations_active_points(salon_a, login, role):
    second = create_checkout_point(business=salon_a.business, location=salon_a.location, name="Bar")
    gone = create_checkout_point(business=salon_a.business, location=salon_a.location, name="Old")
    retire_checkout_point(point=gone)
    page = text(login(getattr(salon_a, role)).get(window(salon_a.appointments[0])))
    form = page.split('id="pay-by-qr-form"')[1].split("</form>")[0]
    # Nothing bound before: the first point (by name) is preselected.
    assert f'<option value="{second.pk}" selected>Bar</option>' in form
    assert f'<option value="{salon_a.checkout_point.pk}">Desk</option>' in form
    assert "Old" not in form


def test_binding_shows_waiting_and_the_panel_polls(salon_a, login):
    appointment = salon_a.appointments[0]
    client = login(salon_a.admin)
    response = client.post(
        bind_url(appointment), {"checkout_point": salon_a.checkout_point.pk}, **HTMX
    )
    assert response.status_code == 200
    binding = PointBinding.objects.get(business=salon_a.business)
    until = to_local(binding.expires_at, "Asia/Tashkent").strftime("%H:%M")
    panel = text(response)
    assert f"Waiting for payment at Desk until {until}" in panel
    assert f'hx-get="{bind_url(appointment)}" hx-trigger="every 2s"' in panel
    assert binding.bound_by == salon_a.admin
    # The window shows it as well, and the next appointment gets the last used point.
    other = create_checkout_point(business=salon_a.business, location=salon_a.location, name="Bar")
    qr.release(point=salon_a.checkout_point)
    client.post(bind_url(appointment), {"checkout_point": other.pk}, **HTMX)
    page = text(client.get(window(salon_a.appointments[1])))
    assert f'<option value="{other.pk}" selected>Bar</option>' in page
    assert "Waiting for payment at Bar" in text(client.get(window(appointment)))


def test_a_point_waiting_for_another_appointment_asks_first(salon_a, login):
    first, second = salon_a.appointments
    client = login(salon_a.admin)
    point = salon_a.checkout_point.pk
    client.post(bind_url(first), {"checkout_point": point}, **HTMX)
    asked = text(client.post(bind_url(second), {"checkout_point": point}, **HTMX))
    assert f"Desk is waiting for the payment of Appointment #{first.pk}." in asked
    assert 'name="confirm" value="1"' in asked
    assert in_force(salon_a) == [(point, first.pk)]
    replaced = text(
        client.post(bind_url(second), {"checkout_point": point, "confirm": "1"}, **HTMX)
    )
    assert "Waiting for payment at Desk" in replaced
    assert in_force(salon_a) == [(point, second.pk)]


def test_without_htmx_the_confirm_step_is_a_page(salon_a, login):
    first, second = salon_a.appointments
    client = login(salon_a.admin)
    point = salon_a.checkout_point.pk
    assert client.post(bind_url(first), {"checkout_point": point}).status_code == 302
    page = text(client.post(bind_url(second), {"checkout_point": point}))
    assert f"Desk is waiting for the payment of Appointment #{first.pk}." in page
    assert in_force(salon_a) == [(point, first.pk)]


def test_the_panel_turns_to_paid_and_refreshes_the_money(salon_a, login):
    appointment = salon_a.appointments[0]
    client = login(salon_a.admin)
    client.post(bind_url(appointment), {"checkout_point": salon_a.checkout_point.pk}, **HTMX)
    waiting = client.get(bind_url(appointment), **HTMX)
    assert "Waiting for payment at Desk" in text(waiting)
    assert "HX-Trigger" not in waiting
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)
    paid = client.get(bind_url(appointment), **HTMX)
    assert paid["HX-Trigger"] == "payment-received"
    panel = text(paid)
    assert 'id="pay-by-qr-paid"' in panel
    assert "hx-trigger" not in panel and "pay-by-qr-form" not in panel
    assert in_force(salon_a) == []


def test_paid_after_the_points_time_ran_out_still_reads_paid(salon_a, login):
    """The client was still in 3-D Secure when the point's time ran out: the money that
    arrives afterwards turns the panel to paid all the same."""
    from datetime import timedelta

    from django.utils import timezone

    from navbat.payments.models import PointBinding

    appointment = salon_a.appointments[0]
    client = login(salon_a.admin)
    client.post(bind_url(appointment), {"checkout_point": salon_a.checkout_point.pk}, **HTMX)
    PointBinding.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=10_000_000)

    paid = client.get(bind_url(appointment), **HTMX)

    assert paid["HX-Trigger"] == "payment-received"
    assert 'id="pay-by-qr-paid"' in text(paid)


def test_release_frees_the_point(salon_a, login):
    appointment = salon_a.appointments[0]
    client = login(salon_a.admin)
    client.post(bind_url(appointment), {"checkout_point": salon_a.checkout_point.pk}, **HTMX)
    panel = text(client.post(release_url(appointment), **HTMX))
    assert 'id="pay-by-qr-form"' in panel
    assert in_force(salon_a) == []
    assert PointBinding.objects.get(business=salon_a.business).end_reason == "released"


def test_paid_or_cancelled_appointments_are_refused_and_nothing_changes(salon_a, login):
    first, second = salon_a.appointments
    cancel_appointment(appointment=first)
    take_desk_payment(appointment=second, register_id=salon_a.cash.pk, amount=10_000_000)
    client = login(salon_a.admin)
    point = salon_a.checkout_point.pk
    assert "pay-by-qr-form" not in text(client.get(window(first)))
    refused = text(client.post(bind_url(first), {"checkout_point": point}, **HTMX))
    assert 'id="pay-by-qr-error"' in refused
    paid = text(client.post(bind_url(second), {"checkout_point": point}, **HTMX))
    assert "This is already paid." in paid
    assert PointBinding.objects.count() == 0


def test_specialists_and_other_businesses_cannot(salon_a, salon_b, login):
    appointment = salon_a.appointments[0]
    specialist = login(salon_a.specialist_user)
    assert (
        specialist.post(
            bind_url(appointment), {"checkout_point": salon_a.checkout_point.pk}
        ).status_code
        == 403
    )
    client = login(salon_b.admin)
    assert (
        client.post(
            bind_url(appointment), {"checkout_point": salon_b.checkout_point.pk}
        ).status_code
        == 404
    )
    client = login(salon_a.admin)
    assert (
        client.post(
            bind_url(appointment), {"checkout_point": salon_b.checkout_point.pk}
        ).status_code
        == 404
    )
    assert client.post(bind_url(appointment), {"checkout_point": "x"}).status_code == 404
    assert PointBinding.objects.count() == 0
    assert timezone.now()
