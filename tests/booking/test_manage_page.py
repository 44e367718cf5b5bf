"""The client's booking page (F6), ``/book/b/<token>/``: what, when, where, paid and due,
pay what is due, the calendar file, cancel with the refund policy said before the click,
move until the cut-off, and what it says once the time was released."""

import html
import re
from datetime import UTC, time, timedelta

import pytest
from django.utils import timezone

from navbat.booking import online
from navbat.booking.models import (
    Appointment,
    CancelledBy,
    LatePayment,
    OnlineBooking,
    RefundPolicy,
    Status,
)
from navbat.kit import jobs
from navbat.kit.timeutil import local_datetime
from navbat.payments.models import PaymentLink
from navbat.salons.models import Prepayment, PrepaymentAmount
from tests.booking.test_payment_link import pay_online
from tests.booking.widget_helpers import TZ, day, turn_on_widget

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(salon_a):
    return turn_on_widget(salon_a)


def text(response) -> str:
    return html.unescape(response.content.decode())


def page_of(booked) -> str:
    return f"/book/b/{booked.online.manage_token}/"


def book(salon, *, days=2, hour=15, services=None, specialist=None, language="en"):
    return online.book_online(
        location=salon.location,
        service_ids=[s.pk for s in (services or [salon.services[0]])],
        specialist_id=specialist.pk if specialist else None,
        starts_at=local_datetime(day(days), time(hour), TZ),
        name="Dilnoza Karimova",
        phone="+998 90 555 12 34",
        comment="Near the window",
        language=language,
    )


def require_prepayment(service, percent=30):
    service.prepayment = Prepayment.REQUIRED
    service.prepayment_amount = PrepaymentAmount.PERCENT
    service.prepayment_value = percent
    service.save()


def test_the_page_says_what_when_where_and_the_money(client, salon_a, widget):
    booked = book(salon_a)
    body = text(client.get(page_of(booked)))
    start = booked.appointment.starts_at.astimezone(timezone.get_current_timezone())
    assert f'<dd id="when">{start:%A}, {start.day} {start:%B %Y}, 15:00–16:00' in body
    assert '<span id="address">Tashkent</span>' in body
    assert '<dd id="specialist">Specialist A0</dd>' in body
    assert re.findall(r'<span class="what">([^<]+)</span>', body) == ["Haircut A"]
    assert '<span class="amount" id="total">100 000 so\'m</span>' in body
    assert '<span class="amount" id="paid">0 so\'m</span>' in body
    assert '<span class="amount" id="due">100 000 so\'m</span>' in body
    assert "Near the window" in body
    # Nothing the salon keeps about whoever owns the phone.
    assert "Dilnoza" not in body and "555" not in body and "Client A" not in body
    # No bank connected: nothing to pay online.
    assert 'id="pay"' not in body
    assert 'id="cancel"' in body and 'id="move"' in body
    assert "Nothing has been paid: cancelling costs nothing." in body


def test_a_required_prepayment_shows_the_hold_and_leads_to_the_payment(
    client, salon_a, widget, connect_uzum, settings
):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example.uz"
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a)
    appointment = booked.appointment
    assert appointment.status == Status.AWAITING_PAYMENT
    body = text(client.get(page_of(booked) + "?new=1"))
    until = appointment.hold_until.astimezone(timezone.get_current_timezone())
    assert '<h1 id="status-title">Pay the prepayment to keep this time</h1>' in body
    assert f"Pay 30 000 so'm by {until:%H:%M} (15 minutes left)." in body
    # It asks again every few seconds, keeping what it showed (the private link, new).
    assert f'hx-get="{page_of(booked)}?new=1" hx-trigger="every 10s"' in body
    assert '<span class="amount" id="due">30 000 so\'m</span>' in body
    assert '<span class="amount" id="rest">70 000 so\'m</span>' in body
    assert '<button type="submit" class="big" id="pay">Pay 30 000 so\'m</button>' in body
    assert f'value="https://navbat.example.uz{page_of(booked)}" id="link"' in body

    paying = client.post(page_of(booked) + "pay")
    link = PaymentLink.objects.get(payable_id=appointment.pk)
    assert paying.status_code == 302
    assert paying["Location"] == f"https://navbat.example.uz/pay/{link.token}"
    assert link == booked.link


def test_once_the_prepayment_is_paid_the_page_says_confirmed(client, salon_a, widget, connect_uzum):
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a)
    pay_online(salon_a, booked.appointment)
    body = text(client.get(page_of(booked)))
    assert 'data-state="booked"' in body
    assert '<p id="status-text">Confirmed</p>' in body
    assert '<span class="amount" id="paid">30 000 so\'m</span>' in body
    assert '<span class="amount" id="due">70 000 so\'m</span>' in body
    assert "hx-trigger" not in body


def test_an_optional_prepayment_is_offered_on_a_booking_already_made(
    client, salon_a, widget, connect_uzum
):
    connect_uzum(salon_a)
    service = salon_a.services[0]
    service.prepayment = Prepayment.OPTIONAL
    service.prepayment_amount = PrepaymentAmount.FIXED
    service.prepayment_value = 2_000_000
    service.save()
    booked = book(salon_a)
    assert booked.appointment.status == Status.BOOKED
    body = text(client.get(page_of(booked)))
    assert '<button type="submit" class="big" id="pay">Pay 20 000 so\'m</button>' in body
    assert "Paying in advance is optional: the booking is already confirmed." in body


def test_the_calendar_file(client, salon_a, widget, settings):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example.uz"
    booked = book(salon_a, services=[salon_a.services[0], salon_a.services[1]])
    response = client.get(page_of(booked) + "calendar.ics")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    pk = booked.appointment.pk
    assert response["Content-Disposition"] == f'attachment; filename="booking-{pk}.ics"'
    body = response.content.decode()
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    lines = body.split("\r\n")
    start = booked.appointment.starts_at.astimezone(UTC)
    assert f"UID:appointment-{pk}@navbat.example.uz" in lines
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in lines
    assert f"DTEND:{start + timedelta(minutes=90):%Y%m%dT%H%M%SZ}" in lines
    assert "SUMMARY:Salon A: Haircut A\\, Colouring A" in lines
    assert "LOCATION:Salon A\\, Tashkent" in lines
    assert "DESCRIPTION:Haircut A\\, Colouring A\\nSpecialist: Specialist A0" in lines
    assert "STATUS:CONFIRMED" in lines
    assert lines[:2] == ["BEGIN:VCALENDAR", "VERSION:2.0"]


def test_cancelling_inside_the_refund_window_gives_the_prepayment_back(
    client, salon_a, widget, connect_uzum
):
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a, days=3)  # 24 h policy, the visit in about three days
    pay_online(salon_a, booked.appointment)
    body = text(client.get(page_of(booked)))
    assert "If you cancel now, 30 000 so'm is given back to you." in body
    response = client.post(page_of(booked) + "cancel")
    assert response.status_code == 303
    assert response["Location"] == page_of(booked) + "?done=cancelled"
    online_row = OnlineBooking.objects.get()
    assert (online_row.cancelled_by, online_row.refund_decided) == (CancelledBy.CLIENT, 3_000_000)
    assert Appointment.objects.get(pk=booked.appointment.pk).status == Status.CANCELLED
    from navbat.booking.tasks import refund_cancelled

    assert jobs.waiting(refund_cancelled).count() == 1
    after = text(client.get(response["Location"]))
    assert '<div class="notice ok" role="status" id="done">The booking is cancelled.</div>' in after
    assert "You cancelled this booking." in after
    assert "30 000 so'm is being given back to you, the way it was paid." in after
    assert 'id="cancel"' not in after and 'id="pay"' not in after


def test_cancelling_outside_the_refund_window_keeps_the_prepayment(
    client, salon_a, widget, connect_uzum
):
    widget.refund_before_hours = 24 * 5
    widget.save()
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a, days=3)
    pay_online(salon_a, booked.appointment)
    body = text(client.get(page_of(booked)))
    assert (
        "If you cancel now, the 30 000 so'm paid is not given back. If you cancel at least "
        "120 hours before the visit, the prepayment is given back."
    ) in body
    assert client.post(page_of(booked) + "cancel").status_code == 303
    online_row = OnlineBooking.objects.get()
    assert (online_row.cancelled_by, online_row.refund_decided) == (CancelledBy.CLIENT, 0)
    from navbat.booking.tasks import refund_cancelled

    assert jobs.waiting(refund_cancelled).count() == 0
    after = text(client.get(page_of(booked)))
    assert "The 30 000 so'm paid is not given back under the salon's terms." in after


def test_after_the_cut_off_the_page_says_call_the_salon(client, salon_a, widget):
    widget.change_cutoff_hours = 24 * 5
    widget.save()
    booked = book(salon_a, days=2)
    body = text(client.get(page_of(booked)))
    assert 'id="cancel"' not in body and 'id="move"' not in body
    assert "The booking can no longer be moved or cancelled online. Please call the salon." in body
    refused = client.post(page_of(booked) + "cancel")
    assert refused.status_code == 409
    assert "This booking can no longer be cancelled online. Call the salon." in text(refused)
    assert Appointment.objects.get(pk=booked.appointment.pk).status == Status.BOOKED
    assert OnlineBooking.objects.get().cancelled_by == ""
    assert client.get(page_of(booked) + "move").status_code == 302


def test_moving_to_another_free_time(client, salon_a, widget):
    widget.slot_step_minutes = 60
    widget.save()
    booked = book(salon_a, specialist=salon_a.specialists[0], days=2, hour=15)
    target = day(3)
    page = client.get(page_of(booked) + f"move?d={target.isoformat()}")
    assert page.status_code == 200
    body = text(page)
    assert re.findall(r'data-time="([0-9:]+)"', body) == [f"{h:02d}:00" for h in range(9, 20)]
    assert f'data-day="{target.isoformat()}"' in body
    moved = client.post(page_of(booked) + "move", {"d": target.isoformat(), "t": "11:00"})
    assert moved.status_code == 303
    assert moved["Location"] == page_of(booked) + "?done=moved"
    appointment = Appointment.objects.get(pk=booked.appointment.pk)
    assert appointment.starts_at == local_datetime(target, time(11), TZ)
    assert appointment.specialist_id == salon_a.specialists[0].pk
    # A time no longer free: said, nothing moved.
    salon_a.book(specialist=salon_a.specialists[0], hour=13, days=3)
    taken = client.post(page_of(booked) + "move", {"d": target.isoformat(), "t": "13:00"})
    assert taken.status_code == 409
    assert "This time has just been taken. Choose another time." in text(taken)
    assert Appointment.objects.get(pk=booked.appointment.pk).starts_at == appointment.starts_at


def test_a_hold_that_ended_says_the_time_was_released(client, salon_a, widget, connect_uzum):
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a)
    Appointment.objects.filter(pk=booked.appointment.pk).update(
        hold_until=timezone.now() - timedelta(seconds=1)
    )
    body = text(client.get(page_of(booked)))
    assert '<h1 id="status-title">The time was released</h1>' in body
    assert 'id="pay"' not in body and 'id="cancel"' not in body
    assert client.post(page_of(booked) + "pay").status_code == 302
    assert PaymentLink.objects.filter(payable_id=booked.appointment.pk).count() == 1


@pytest.mark.parametrize(
    ("late", "status", "says"),
    [
        (LatePayment.REFUNDING, Status.CANCELLED, "the money is being returned to your card"),
        (LatePayment.TO_GIVE_BACK, Status.CANCELLED, "the salon will give the money back to you"),
        (
            LatePayment.REINSTATED,
            Status.CONFIRMED,
            "the time was still free, so the booking stands",
        ),
    ],
)
def test_a_late_payment_is_explained(client, salon_a, widget, late, status, says):
    booked = book(salon_a)
    cancelled_by = CancelledBy.HOLD_ENDED if status == Status.CANCELLED else ""
    OnlineBooking.objects.filter(pk=booked.online.pk).update(
        late_payment=late, cancelled_by=cancelled_by
    )
    Appointment.objects.filter(pk=booked.appointment.pk).update(
        status=status, occupies_time=status != Status.CANCELLED
    )
    assert says in text(client.get(page_of(booked)))


def test_a_wrong_token_is_not_found(client, salon_a, widget):
    book(salon_a)
    for token in ("x" * 43, "short", "bad*token-bad*token-bad*token", "a" * 200):
        response = client.get(f"/book/b/{token}/")
        assert response.status_code == 404, token
        assert "Booking not found" in text(response)
    assert client.post("/book/b/" + "x" * 43 + "/cancel").status_code == 404


def test_the_page_speaks_the_language_the_client_booked_in(client, salon_a, widget):
    booked = book(salon_a, language="ru")
    assert '<html lang="ru">' in text(client.get(page_of(booked)))
    switched = client.get(page_of(booked) + "?lang=uz")
    assert '<html lang="uz">' in text(switched)
    assert switched.cookies["django_language"].value == "uz"
    assert '<html lang="uz">' in text(client.get(page_of(booked)))


def test_a_policy_of_always_gives_back_until_the_cut_off(client, salon_a, widget, connect_uzum):
    widget.refund_policy = RefundPolicy.ALWAYS
    widget.save()
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a, days=2)
    pay_online(salon_a, booked.appointment)
    assert "If you cancel now, 30 000 so'm is given back to you." in text(
        client.get(page_of(booked))
    )


def test_the_payment_page_leads_back_to_the_booking_page(
    client, salon_a, widget, connect_uzum, settings
):
    settings.NAVBAT_PUBLIC_URL = "https://navbat.example.uz"
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a)
    # Only to the browser that opened the booking page (not to whoever holds the link).
    assert 'id="back-to-payable"' not in text(client.get(f"/pay/{booked.link.token}"))
    client.get(page_of(booked))
    body = text(client.get(f"/pay/{booked.link.token}"))
    assert (
        f'<a id="back-to-payable" href="https://navbat.example.uz{page_of(booked)}">'
        "Back to your booking</a>"
    ) in body
    # A desk appointment's payment page has no such page to lead to.
    from navbat.payments import services as payments

    desk = payments.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    assert 'id="back-to-payable"' not in text(client.get(f"/pay/{desk.token}"))


def test_the_pages_poll_gets_its_content_only(client, salon_a, widget, connect_uzum):
    connect_uzum(salon_a)
    require_prepayment(salon_a.services[0])
    booked = book(salon_a)
    part = text(client.get(page_of(booked), HTTP_HX_REQUEST="true"))
    assert part.startswith('<div id="booking" class="widget" data-state="awaiting"')
    assert "<html" not in part
