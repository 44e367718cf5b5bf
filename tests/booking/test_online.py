"""The online booking service (F6): booking an offered time, what it asks in advance, the
hold and its end, and a prepayment through the sandbox bank."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from navbat.booking import holds, online
from navbat.booking.models import Appointment, BookingSettings, OnlineBooking, Source, Status
from navbat.kit.errors import Conflict, Refused
from navbat.payments import services as payments
from navbat.payments.models import Channel
from navbat.salons.models import Prepayment, PrepaymentAmount
from navbat.uzum_sandbox import bank

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(salon_a):
    return BookingSettings.objects.create(
        business=salon_a.business, location=salon_a.location, enabled=True, min_notice_minutes=0
    )


def book(salon, **fields):
    fields.setdefault("service_ids", [salon.services[0].pk])
    fields.setdefault("specialist_id", None)
    fields.setdefault("starts_at", salon.at(15, 0, days=2))
    fields.setdefault("name", "Dilnoza Karimova")
    fields.setdefault("phone", "+998 90 555 12 34")
    return online.book_online(location=salon.location, **fields)


def test_an_offered_time_is_booked_online_with_nothing_asked(salon_a, widget):
    booked = book(salon_a, comment="Window seat")
    appointment = booked.appointment
    assert appointment.source == Source.ONLINE
    assert appointment.status == Status.BOOKED
    assert appointment.prepayment == 0
    assert appointment.comment == "Window seat"
    assert appointment.client.phone == "+998905551234"
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=60)
    assert booked.link is None
    assert len(booked.online.manage_token) >= 40


def test_the_same_time_twice_is_taken(salon_a, widget):
    first = book(salon_a, specialist_id=salon_a.specialists[0].pk)
    with pytest.raises(Conflict) as caught:
        book(salon_a, specialist_id=salon_a.specialists[0].pk, phone="+998905551235")
    assert caught.value.code == "slot_taken"
    # "Any specialist" still finds the other one free at that time.
    other = book(salon_a, phone="+998905551236")
    assert other.appointment.specialist_id == salon_a.specialists[1].pk
    assert first.appointment.specialist_id == salon_a.specialists[0].pk


def test_a_closed_widget_and_bad_input_store_nothing(salon_a, widget):
    before = Appointment.objects.count()
    with pytest.raises(ValidationError):
        book(salon_a, phone="12")
    with pytest.raises(ValidationError):
        book(salon_a, service_ids=[999999])
    with pytest.raises(Conflict):
        book(salon_a, starts_at=salon_a.at(3, 0, days=2))  # outside hours
    widget.enabled = False
    widget.save()
    with pytest.raises(Refused):
        book(salon_a)
    assert Appointment.objects.count() == before
    assert OnlineBooking.objects.count() == 0


def test_a_required_prepayment_holds_then_the_payment_confirms(salon_a, widget, connect_uzum):
    connect_uzum(salon_a)
    service = salon_a.services[0]
    service.prepayment = Prepayment.REQUIRED
    service.prepayment_amount = PrepaymentAmount.PERCENT
    service.prepayment_value = 30
    service.save()
    booked = book(salon_a)
    appointment = booked.appointment
    assert appointment.status == Status.AWAITING_PAYMENT
    assert appointment.prepayment == 3_000_000
    assert appointment.hold_until is not None
    order = payments.start_card_payment(
        link=booked.link,
        language="en",
        success_url="http://127.0.0.1:8000/pay/x/return/REFERENCE",
        failure_url="http://127.0.0.1:8000/pay/x/return/REFERENCE?failed=1",
    )
    assert order.amount == 3_000_000
    assert order.channel == Channel.BOOKING
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    payments.refresh(order=order)
    appointment.refresh_from_db()
    assert appointment.status == Status.CONFIRMED
    assert appointment.hold_until is None


def test_an_unpaid_hold_ends_and_the_time_is_offered_again(salon_a, widget, connect_uzum):
    connect_uzum(salon_a)
    salon_a.specialists[0].prepayment = Prepayment.REQUIRED
    salon_a.specialists[0].save()
    booked = book(salon_a, specialist_id=salon_a.specialists[0].pk)
    appointment = booked.appointment
    assert appointment.prepayment == 10_000_000
    later = appointment.hold_until + timedelta(seconds=1)
    assert holds.end_overdue_holds(now=later - timedelta(seconds=2)) == 0
    # Before the job passes, the time is already bookable by someone else.
    again = book(salon_a, specialist_id=salon_a.specialists[0].pk, phone="+998905551239", now=later)
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    assert appointment.occupies_time is False
    assert again.appointment.status == Status.AWAITING_PAYMENT
