"""What trying online booking as an attacker and as a careless desk showed, each held here:
a second cancellation gives back the new payment, a prepayment taken at the desk ends the
hold, a move does not reopen a closed refund window, a typed phone does not reveal the name
the salon keeps, the payment page asks the whole rest once the visit is here, the way back
from the payment page is the booking's browser's alone, phone codes only where the salon
confirms phones, and each location counts its own visitors."""

from datetime import timedelta

import pytest
from django.test import Client as Browser
from django.urls import reverse

from navbat.booking import cancellation, holds, online, phone_checks, public_links, services
from navbat.booking.models import Appointment, BookingSettings, PhoneCheck, RefundPolicy, Status
from navbat.kit.models import PublicCounter
from navbat.payments import payables
from navbat.payments.models import State
from navbat.salons.models import Prepayment
from navbat.salons.services import create_client, create_location
from navbat.uzum_sandbox.models import Order as SandboxOrder
from tests.booking.prepaid import (
    CANCEL_JOB,
    PREPAYMENT,
    ask_thirty_percent,
    book,
    card_page,
    card_pays,
    widget_on,
)
from tests.payments.jobs import run_due
from tests.uzum.merchant import connect_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepaying(salon_a, connect_uzum):
    connect_app(connect_uzum, salon_a)
    ask_thirty_percent(salon_a)
    return salon_a


def test_a_restored_booking_cancelled_again_gives_back_its_new_payment(prepaying):
    salon = prepaying
    widget_on(salon, change_cutoff_hours=2, refund_policy=RefundPolicy.ALWAYS)
    booked = book(salon)
    first = card_pays(card_page(booked))
    assert cancellation.cancel_by_client(online=booked.online) == PREPAYMENT
    run_due(CANCEL_JOB)
    first.refresh_from_db()
    assert (first.state, first.refunded_amount) == (State.REFUNDED, PREPAYMENT)
    appointment = booked.appointment
    services.change_status(appointment=appointment, status=Status.BOOKED)
    second = card_pays(card_page(booked))
    assert cancellation.cancel_by_salon(appointment=appointment, refund=True) == PREPAYMENT
    run_due(CANCEL_JOB)
    second.refresh_from_db()
    assert (second.state, second.refunded_amount) == (State.REFUNDED, PREPAYMENT)
    first.refresh_from_db()
    assert first.refunded_amount == PREPAYMENT  # not given back twice


def test_a_prepayment_taken_at_the_desk_ends_the_hold(prepaying):
    salon = prepaying
    widget_on(salon)
    booked = book(salon)
    appointment = booked.appointment
    hold_until = appointment.hold_until
    services.take_desk_payment(
        appointment=appointment, register_id=salon.cash.pk, amount=PREPAYMENT - 1
    )
    appointment.refresh_from_db()
    assert appointment.status == Status.AWAITING_PAYMENT  # a part of it does not
    services.take_desk_payment(appointment=appointment, register_id=salon.cash.pk, amount=1)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.hold_until) == (Status.CONFIRMED, None)
    later = hold_until + timedelta(minutes=1)
    assert holds.end_hold(appointment_id=appointment.pk, now=later) is False
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CONFIRMED, True)


def test_moving_a_visit_ahead_does_not_reopen_a_closed_refund_window(prepaying):
    salon = prepaying
    widget_on(
        salon, change_cutoff_hours=2, refund_policy=RefundPolicy.BEFORE, refund_before_hours=24
    )
    booked = book(salon)
    order = card_pays(card_page(booked))
    start = booked.appointment.starts_at
    now = start - timedelta(hours=3)
    assert booked.online.refund_until == start - timedelta(hours=24)
    assert cancellation.refund_due_to_client(booked.online, now=now) is False
    online.reschedule_by_client(online=booked.online, starts_at=start + timedelta(days=3), now=now)
    fresh = online.find_booking(booked.online.manage_token)
    assert fresh.refund_until == start - timedelta(hours=24)
    assert cancellation.cancel_by_client(online=fresh, now=now) == 0
    assert run_due(CANCEL_JOB) == 0
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)


def test_moving_a_visit_earlier_brings_the_refund_deadline_earlier(prepaying):
    salon = prepaying
    widget_on(salon, change_cutoff_hours=2, refund_before_hours=24)
    booked = book(salon, starts_at=salon.at(15, 0, days=5))
    earlier = salon.at(15, 0, days=3)
    online.reschedule_by_client(online=booked.online, starts_at=earlier)
    fresh = online.find_booking(booked.online.manage_token)
    assert fresh.refund_until == earlier - timedelta(hours=24)


def test_a_typed_phone_does_not_reveal_the_name_the_salon_keeps(prepaying):
    salon = prepaying
    widget_on(salon)
    create_client(business=salon.business, name="Secret Person", phone="+998 91 777 66 55")
    booked = book(salon, name="Someone Else", phone="+998917776655")
    view = payables.describe(
        business=salon.business, kind="appointment", payable_id=booked.appointment.pk
    )
    assert view.headline == f"Online booking at {salon.business.name}"
    card_page(booked)
    details = list(SandboxOrder.objects.values_list("payment_details", flat=True))
    assert details == [f"Online booking at {salon.business.name}"]
    page = Browser().get(reverse("pay:page", args=[booked.link.token])).content.decode()
    assert "Secret Person" not in page


@pytest.mark.parametrize("status", [Status.ARRIVED, Status.COMPLETED])
def test_at_the_visit_the_payment_page_asks_all_that_is_due(prepaying, status):
    salon = prepaying
    widget_on(salon)
    service = salon.services[0]
    service.prepayment = Prepayment.OPTIONAL
    service.save()
    booked = book(salon)
    appointment = booked.appointment
    before = payables.describe(
        business=salon.business, kind="appointment", payable_id=appointment.pk
    )
    assert (before.due, before.rest, before.is_prepayment) == (PREPAYMENT, 10_000_000, True)
    Appointment.objects.filter(pk=appointment.pk).update(status=status)
    view = payables.describe(business=salon.business, kind="appointment", payable_id=appointment.pk)
    state = payables.due_state(
        business=salon.business, kind="appointment", payable_id=appointment.pk
    )
    assert (view.due, view.rest, view.is_prepayment) == (10_000_000, 10_000_000, False)
    assert state.due == 10_000_000


def test_after_its_time_the_payment_page_asks_all_that_is_due(prepaying):
    salon = prepaying
    widget_on(salon)
    booked = book(salon)
    Appointment.objects.filter(pk=booked.appointment.pk).update(
        starts_at=salon.at(9, 0, days=-1), ends_at=salon.at(10, 0, days=-1), status=Status.BOOKED
    )
    state = payables.due_state(
        business=salon.business, kind="appointment", payable_id=booked.appointment.pk
    )
    assert state.due == 10_000_000


def test_the_way_back_from_the_payment_page_is_the_booking_browsers_alone(prepaying):
    salon = prepaying
    widget_on(salon)
    booked = book(salon)
    pay_page = reverse("pay:page", args=[booked.link.token])
    manage = public_links.manage_url(booked.online.manage_token)
    stranger = Browser()
    assert 'id="back-to-payable"' not in stranger.get(pay_page).content.decode()
    client = Browser()
    assert (
        client.get(reverse("booking_public:manage", args=[booked.online.manage_token])).status_code
        == 200
    )
    page = client.get(pay_page).content.decode()
    assert f'id="back-to-payable" href="{manage}"' in page


def test_the_widget_gives_no_phone_codes_where_the_salon_confirms_none(salon_a):
    widget_on(salon_a, phone_confirmation=False)
    url = reverse("booking_public:details", args=[salon_a.location.public_slug])
    query = f"?s={salon_a.services[0].pk}&p=any"
    Browser().post(url + query, {"action": "code", "phone": "+998905551234"})
    assert PhoneCheck.objects.count() == 0


def test_the_salon_sees_the_codes_of_its_location_even_when_another_is_flooded(salon_a):
    other = create_location(business=salon_a.business, name="Yunusobod")
    mine = phone_checks.ask_code(location=salon_a.location, phone="+998905551234")
    for n in range(60):
        PhoneCheck.objects.create(
            business=salon_a.business,
            location=other,
            phone=f"+9989055{n:05d}",
            code="123456",
            nonce=f"flood-{n}",
            expires_at=mine.expires_at,
        )
    codes = phone_checks.waiting_codes(business=salon_a.business, location=salon_a.location)
    assert [check.pk for check in codes] == [mine.pk]


def test_each_location_counts_its_own_visitors(salon_a):
    widget_on(salon_a)
    other = create_location(business=salon_a.business, name="Yunusobod")
    BookingSettings.objects.create(business=salon_a.business, location=other, enabled=True)
    browser = Browser()
    browser.get(reverse("booking_public:widget", args=[salon_a.location.public_slug]))
    browser.get(reverse("booking_public:widget", args=[other.public_slug]))
    browser.get(reverse("booking_public:widget", args=["no-such-salon"]))
    browser.get(reverse("booking_public:widget", args=["no-such-salon-either"]))
    keys = sorted(PublicCounter.objects.values_list("key", flat=True))
    assert keys == sorted(
        [
            f"book:widget:{salon_a.location.public_slug}:ip:127.0.0.1",
            f"book:widget:{other.public_slug}:ip:127.0.0.1",
            "book:widget:-:ip:127.0.0.1",
        ]
    )
