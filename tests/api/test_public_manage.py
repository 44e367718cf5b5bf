"""The booking by its private token (the API twin of the client's booking page): reading
it, paid and due, and the client's cancellation with the salon's refund policy applied,
the refund sent through the sandbox bank."""

import pytest

from navbat.booking.models import Appointment, BookingSettings, OnlineBooking, RefundPolicy, Status
from navbat.payments import services as payments
from navbat.payments.models import PaymentLink, Refund, RefundState, State
from navbat.salons.models import Prepayment, PrepaymentAmount
from navbat.uzum_sandbox import bank
from tests.payments.jobs import run_due, waiting

from .conftest import assert_error
from .public_helpers import ROOT, Public, booking_body, local_iso, turn_on, written

pytestmark = pytest.mark.django_db

REFUND_JOB = "navbat.booking.tasks.refund_cancelled"
TOO_LATE = {
    "code": "too_late",
    "message": "This booking can no longer be cancelled online. Call the salon.",
    "details": None,
}


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


@pytest.fixture
def public(client):
    return Public(client)


def booked(public, salon, **fields) -> OnlineBooking:
    response = public.post(f"/{salon.location.public_slug}/bookings", booking_body(salon, **fields))
    assert response.status_code == 201, response.content
    return OnlineBooking.objects.select_related("appointment").get(
        appointment_id=response.json()["id"]
    )


def prepaid(salon, connect_uzum) -> None:
    connect_uzum(salon)
    haircut = salon.services[0]
    haircut.prepayment = Prepayment.REQUIRED
    haircut.prepayment_amount = PrepaymentAmount.PERCENT
    haircut.prepayment_value = 30
    haircut.save()


def pay(online: OnlineBooking):
    link = PaymentLink.objects.get(payable_id=online.appointment_id)
    order = payments.start_card_payment(
        link=link,
        language="en",
        success_url=f"{ROOT}/pay/x/return/REFERENCE",
        failure_url=f"{ROOT}/pay/x/return/REFERENCE?failed=1",
    )
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    return payments.refresh(order=order)


def test_a_booking_is_read_by_its_token(public, salon_a):
    turn_on(salon_a, change_cutoff_hours=6)
    online = booked(public, salon_a)
    response = public.get(f"/bookings/{online.manage_token}")
    assert response.status_code == 200
    assert response.json() == {
        "id": online.appointment_id,
        "status": "booked",
        "start": local_iso(salon_a, 15),
        "end": local_iso(salon_a, 16),
        "specialist": salon_a.specialists[0].pk,
        "specialist_name": "Specialist A0",
        "services": [{"id": salon_a.services[0].pk, "name": "Haircut A"}],
        "total": 10_000_000,
        "hold_until": None,
        "prepayment": {"amount": 0, "required": False},
        "payment_url": None,
        "manage_url": f"{ROOT}/book/b/{online.manage_token}/",
        "paid": 0,
        "due": 10_000_000,
        "cancellable": True,
        "cancellable_until": local_iso(salon_a, 9),
        "refund_on_cancel": 0,
        "cancelled_by": None,
    }


@pytest.mark.parametrize("token", ["no-such-token", "x" * 65, "bad token", "%00", "a.b", "-" * 64])
def test_an_unknown_or_malformed_token_is_404(public, salon_a, token):
    turn_on(salon_a)
    booked(public, salon_a)
    before = written()
    for method in ("GET", "DELETE"):
        response = public.send(method, f"/bookings/{token}")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Not found.", "details": None}
    assert written() == before
    assert Appointment.objects.filter(status=Status.CANCELLED).count() == 0


def test_a_prepaid_booking_shows_what_was_paid_and_what_cancelling_gives_back(
    public, salon_a, connect_uzum
):
    turn_on(salon_a, refund_policy=RefundPolicy.BEFORE, refund_before_hours=24)
    prepaid(salon_a, connect_uzum)
    online = booked(public, salon_a)
    waiting_body = public.get(f"/bookings/{online.manage_token}").json()
    assert waiting_body["status"] == "awaiting_payment"
    assert (waiting_body["paid"], waiting_body["due"]) == (0, 3_000_000)
    assert waiting_body["refund_on_cancel"] == 0
    order = pay(online)
    assert order.state == State.PAID
    body = public.get(f"/bookings/{online.manage_token}").json()
    link = PaymentLink.objects.get(payable_id=online.appointment_id)
    assert body["status"] == "confirmed"
    assert body["hold_until"] is None
    assert body["prepayment"] == {"amount": 3_000_000, "required": True}
    # The prepayment is paid; the rest is due, on the same payment page.
    assert (body["paid"], body["due"]) == (3_000_000, 7_000_000)
    assert body["payment_url"] == f"{ROOT}/pay/{link.token}"
    assert body["refund_on_cancel"] == 3_000_000


def test_the_client_cancels_inside_the_refund_window_and_the_card_gets_it_back(
    public, salon_a, connect_uzum
):
    turn_on(salon_a, refund_policy=RefundPolicy.BEFORE, refund_before_hours=24)
    prepaid(salon_a, connect_uzum)
    online = booked(public, salon_a)
    order = pay(online)
    response = public.delete(f"/bookings/{online.manage_token}")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "cancelled"
    assert body["cancelled_by"] == "client"
    assert body["refund"] == 3_000_000
    assert (body["cancellable"], body["refund_on_cancel"], body["payment_url"]) == (False, 0, None)
    assert (body["paid"], body["due"]) == (3_000_000, 0)
    online.refresh_from_db()
    assert online.refund_decided == 3_000_000
    assert online.appointment.status == Status.CANCELLED
    assert online.appointment.occupies_time is False
    # The refund is a job (a bank call, never inside the cancelling request).
    assert waiting(REFUND_JOB).count() == 1
    assert Refund.objects.count() == 0
    assert run_due(REFUND_JOB) == 1
    refund = Refund.objects.get()
    assert (refund.order_id, refund.amount, refund.state) == (order.pk, 3_000_000, RefundState.DONE)
    # The time is free again.
    times = public.get(
        f"/{salon_a.location.public_slug}/times",
        {
            "services": salon_a.services[0].pk,
            "specialist": salon_a.specialists[0].pk,
            "date": salon_a.at(15, days=2).date(),
        },
    ).json()
    assert local_iso(salon_a, 15) in [row["start"] for row in times]


def test_outside_the_refund_window_the_money_stays(public, salon_a, connect_uzum):
    turn_on(
        salon_a,
        refund_policy=RefundPolicy.BEFORE,
        refund_before_hours=72,
        change_cutoff_hours=2,
    )
    prepaid(salon_a, connect_uzum)
    online = booked(public, salon_a)
    pay(online)
    assert public.get(f"/bookings/{online.manage_token}").json()["refund_on_cancel"] == 0
    body = public.delete(f"/bookings/{online.manage_token}").json()
    assert (body["status"], body["refund"]) == ("cancelled", 0)
    assert waiting(REFUND_JOB).count() == 0
    online.refresh_from_db()
    assert online.refund_decided == 0


def test_past_the_cut_off_the_client_cannot_cancel(public, salon_a):
    turn_on(salon_a, change_cutoff_hours=72)
    online = booked(public, salon_a)
    body = public.get(f"/bookings/{online.manage_token}").json()
    assert body["cancellable"] is False
    assert body["cancellable_until"] == local_iso(salon_a, 15, days=-1)
    before = written()
    response = public.delete(f"/bookings/{online.manage_token}")
    assert response.status_code == 409
    assert response.json() == TOO_LATE
    assert written() == before
    online.appointment.refresh_from_db()
    assert online.appointment.status == Status.BOOKED


def test_a_cancelled_booking_cannot_be_cancelled_again(public, salon_a):
    turn_on(salon_a)
    online = booked(public, salon_a)
    assert public.delete(f"/bookings/{online.manage_token}").status_code == 200
    response = public.delete(f"/bookings/{online.manage_token}")
    assert response.status_code == 409
    assert response.json() == TOO_LATE
    online.refresh_from_db()
    assert online.cancelled_by == "client"


def test_a_booking_stays_manageable_when_the_widget_is_turned_off(public, salon_a):
    turn_on(salon_a)
    online = booked(public, salon_a)
    BookingSettings.objects.filter(location=salon_a.location).update(enabled=False)
    assert public.get(f"/bookings/{online.manage_token}").status_code == 200
    assert public.delete(f"/bookings/{online.manage_token}").status_code == 200


def test_a_hold_that_ended_unpaid_reads_as_cancelled(public, salon_a, connect_uzum):
    from navbat.booking import holds

    turn_on(salon_a)
    prepaid(salon_a, connect_uzum)
    online = booked(public, salon_a)
    hold_until = Appointment.objects.get(pk=online.appointment_id).hold_until
    assert holds.end_hold(appointment_id=online.appointment_id, now=hold_until) is True
    body = public.get(f"/bookings/{online.manage_token}").json()
    assert (body["status"], body["cancelled_by"], body["hold_until"]) == (
        "cancelled",
        "hold_ended",
        None,
    )
    assert (body["due"], body["payment_url"], body["cancellable"]) == (0, None, False)
    assert_error(public.delete(f"/bookings/{online.manage_token}"), 409, "too_late")
    # The salon's cut-off (24 hours by default) is still said.
    assert body["cancellable_until"] == local_iso(salon_a, 15, days=1)
