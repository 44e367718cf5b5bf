"""Cancelling an online booking (F6, issue 14 item 5): by the client until the salon's
cut-off with its refund policy (never, always, up to N hours before) — the
``refund_cancelled`` job refunds card payments, a payment in the app is left to the salon,
nothing goes back outside the refund window, and past the cut-off nothing changes at all; by
the salon from the appointment window, which asks whether the money goes back. Exact
amounts in the books."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from navbat.booking import cancellation
from navbat.booking.models import (
    Appointment,
    BookingSettings,
    CancelledBy,
    LatePayment,
    OnlineBooking,
    RefundPolicy,
    Status,
)
from navbat.booking.selectors import money_of
from navbat.booking.tasks import refund_cancelled
from navbat.finance.models import TransactionKind
from navbat.kit.errors import Refused
from navbat.payments.models import Refund, RefundRoute, RefundState, State
from navbat.uzum_sandbox.models import Operation
from tests.booking.prepaid import (
    CANCEL_JOB,
    FEE,
    LATE_JOB,
    PREPAYMENT,
    app_pays,
    ask_thirty_percent,
    book,
    books_of,
    card_page,
    card_pays,
    widget_on,
)
from tests.payments.jobs import run_due, waiting
from tests.uzum.merchant import App, connect_app

pytestmark = pytest.mark.django_db

PAID = [(TransactionKind.SALE_PAYMENT, PREPAYMENT), (TransactionKind.BANK_FEE, FEE)]
REFUNDED = [*PAID, (TransactionKind.REFUND, PREPAYMENT)]


@pytest.fixture
def connection(salon_a, connect_uzum):
    widget_on(salon_a, change_cutoff_hours=2)
    ask_thirty_percent(salon_a)
    return connect_app(connect_uzum, salon_a)


def policy(salon, value: str, hours: int = 24) -> None:
    BookingSettings.objects.filter(location=salon.location).update(
        refund_policy=value, refund_before_hours=hours
    )


def prepaid_by_card(salon):
    booked = book(salon)
    order = card_pays(card_page(booked))
    booked.appointment.refresh_from_db()
    assert booked.appointment.status == Status.CONFIRMED
    return booked, order


def snapshot(appointment) -> dict:
    """Everything a cancellation could change."""
    appointment.refresh_from_db()
    extra = OnlineBooking.objects.get(appointment=appointment)
    return {
        "status": appointment.status,
        "occupies": appointment.occupies_time,
        "online": (extra.cancelled_by, extra.cancelled_at, extra.refund_decided),
        "books": books_of(appointment),
        "refunds": Refund.objects.count(),
        "jobs": DBTaskResult.objects.filter(task_path__in=[CANCEL_JOB, LATE_JOB]).count(),
    }


def sandbox_refunds(order) -> list[tuple[str, int]]:
    rows = Operation.objects.filter(order__order_id=order.bank_order_id, operation_type="REFUND")
    return list(rows.values_list("state", "amount"))


# ------------------------------------------------------------------------ by the client


@pytest.mark.parametrize(
    ("rule", "hours_before", "given"),
    [
        (RefundPolicy.ALWAYS, 3, PREPAYMENT),
        (RefundPolicy.BEFORE, 25, PREPAYMENT),  # inside "up to 24 hours before"
        (RefundPolicy.BEFORE, 24, PREPAYMENT),  # at the very deadline
        (RefundPolicy.BEFORE, 23, 0),  # outside it, still before the cut-off
        (RefundPolicy.NEVER, 40, 0),
    ],
)
def test_a_client_cancelling_gets_back_what_the_policy_says(
    salon_a, connection, rule, hours_before, given
):
    policy(salon_a, rule)
    booked, order = prepaid_by_card(salon_a)
    appointment = booked.appointment
    now = appointment.starts_at - timedelta(hours=hours_before)

    assert cancellation.cancel_by_client(online=booked.online, now=now) == given

    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    extra = OnlineBooking.objects.get(appointment=appointment)
    assert (extra.cancelled_by, extra.cancelled_at, extra.refund_decided) == (
        CancelledBy.CLIENT,
        now,
        given,
    )
    assert waiting(CANCEL_JOB).count() == (1 if given else 0)
    run_due(CANCEL_JOB)
    order.refresh_from_db()
    if given:
        assert (order.state, order.refunded_amount) == (State.REFUNDED, PREPAYMENT)
        assert books_of(appointment) == REFUNDED
        assert sandbox_refunds(order) == [("SUCCESS", PREPAYMENT)]
        refund = Refund.objects.get()
        assert (refund.automatic, refund.idempotency_key) == (
            True,
            cancellation.cancel_key(appointment.pk, order.pk),
        )
    else:
        assert (order.state, order.refunded_amount) == (State.PAID, 0)
        assert books_of(appointment) == PAID
        assert sandbox_refunds(order) == []
        assert Refund.objects.count() == 0
    assert money_of(appointment).paid == PREPAYMENT - given


def test_the_refund_job_run_twice_refunds_once(salon_a, connection):
    policy(salon_a, RefundPolicy.ALWAYS)
    booked, order = prepaid_by_card(salon_a)
    cancellation.cancel_by_client(online=booked.online)
    refund_cancelled.enqueue(booked.appointment.pk)

    assert run_due(CANCEL_JOB) == 2
    assert cancellation.give_back_cancelled(appointment_id=booked.appointment.pk) == 0

    assert Refund.objects.count() == 1
    assert sandbox_refunds(order) == [("SUCCESS", PREPAYMENT)]
    assert books_of(booked.appointment) == REFUNDED


def test_a_client_past_the_cut_off_is_refused_and_nothing_changes(salon_a, connection):
    policy(salon_a, RefundPolicy.ALWAYS)
    booked, _order = prepaid_by_card(salon_a)
    appointment = booked.appointment
    before = snapshot(appointment)
    late = appointment.starts_at - timedelta(hours=2) + timedelta(seconds=1)

    with pytest.raises(Refused) as refused:
        cancellation.cancel_by_client(online=booked.online, now=late)

    assert refused.value.reason == "too_late"
    assert snapshot(appointment) == before
    # At the cut-off itself it still may.
    at = appointment.starts_at - timedelta(hours=2)
    assert cancellation.cancel_by_client(online=booked.online, now=at) == PREPAYMENT


def test_a_cancelled_booking_cannot_be_cancelled_again(salon_a, connection):
    policy(salon_a, RefundPolicy.ALWAYS)
    booked, _order = prepaid_by_card(salon_a)
    cancellation.cancel_by_client(online=booked.online)
    before = snapshot(booked.appointment)
    with pytest.raises(Refused):
        cancellation.cancel_by_client(online=booked.online)
    assert cancellation.cancel_by_salon(appointment=booked.appointment, refund=True) == 0
    assert snapshot(booked.appointment) == before


def test_a_payment_in_the_app_is_left_to_the_salon_to_give_back(salon_a, connection, login):
    policy(salon_a, RefundPolicy.ALWAYS)
    booked = book(salon_a)
    order = app_pays(App(connection), booked)
    appointment = booked.appointment

    assert cancellation.cancel_by_client(online=booked.online) == PREPAYMENT
    assert run_due(CANCEL_JOB) == 1

    assert Refund.objects.count() == 0  # the bank has no refund call for its app
    assert books_of(appointment) == PAID
    page = login(salon_a.owner).get(reverse("booking:appointment", args=[appointment.pk]))
    html = page.content.decode()
    assert 'id="give-back-notice"' in html
    assert "give 30 000 so&#x27;m back to the client" in html
    assert f'id="give-back-{order.pk}"' in html
    assert reverse("payments:refund", args=[order.pk]) in html
    assert "Cancelled by the client on the booking page." in html


def test_money_that_arrives_after_the_client_cancelled_goes_back(salon_a, connection):
    policy(salon_a, RefundPolicy.NEVER)
    booked = book(salon_a)
    order = card_page(booked)  # on the bank's page
    assert cancellation.cancel_by_client(online=booked.online) == 0  # nothing held yet

    order = card_pays(order)

    appointment = booked.appointment
    appointment.refresh_from_db()
    assert appointment.status == Status.CANCELLED
    extra = OnlineBooking.objects.get(appointment=appointment)
    assert (extra.late_payment, extra.refund_decided) == (LatePayment.REFUNDING, PREPAYMENT)
    assert waiting(LATE_JOB).count() == 1
    assert run_due(LATE_JOB) == 1
    assert books_of(appointment) == REFUNDED
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, PREPAYMENT)


# ------------------------------------------------------------------------- by the salon


def window(client, appointment) -> str:
    return client.get(reverse("booking:appointment", args=[appointment.pk])).content.decode()


def test_the_window_asks_whether_to_refund_and_does_nothing_without_an_answer(
    salon_a, connection, login
):
    booked, _order = prepaid_by_card(salon_a)
    appointment = booked.appointment
    client = login(salon_a.owner)
    html = window(client, appointment)
    assert 'id="cancel-online"' in html
    assert 'name="refund" value="refund"' in html and 'name="refund" value="keep"' in html
    assert 'name="status" value="cancelled" class="danger"' not in html  # no plain button
    before = snapshot(appointment)

    url = reverse("booking:appointment_status", args=[appointment.pk])
    response = client.post(url, {"status": "cancelled"}, follow=True)

    assert "Say whether the prepayment goes back to the client." in response.content.decode()
    assert snapshot(appointment) == before
    response = client.post(url, {"status": "cancelled", "refund": "maybe"})
    assert snapshot(appointment) == before


def test_the_salon_cancels_and_gives_the_prepayment_back(salon_a, connection, login):
    booked, order = prepaid_by_card(salon_a)
    appointment = booked.appointment
    client = login(salon_a.owner)
    url = reverse("booking:appointment_status", args=[appointment.pk])

    response = client.post(url, {"status": "cancelled", "refund": "refund"}, follow=True)

    assert "30 000 so&#x27;m goes back to the client." in response.content.decode()
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    extra = OnlineBooking.objects.get(appointment=appointment)
    assert (extra.cancelled_by, extra.refund_decided) == (CancelledBy.SALON, PREPAYMENT)
    assert waiting(CANCEL_JOB).count() == 1
    assert Refund.objects.count() == 0  # the page called no bank
    assert 'id="giving-back"' in window(client, appointment)

    assert run_due(CANCEL_JOB) == 1

    refund = Refund.objects.get()
    assert (refund.state, refund.amount, refund.route) == (
        RefundState.DONE,
        PREPAYMENT,
        RefundRoute.BANK,
    )
    assert books_of(appointment) == REFUNDED
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, PREPAYMENT)
    html = window(client, appointment)
    assert "Cancelled by the salon." in html
    assert 'id="give-back-notice"' not in html and 'id="giving-back"' not in html
    # Pressing it again changes nothing.
    client.post(url, {"status": "cancelled", "refund": "refund"})
    assert Refund.objects.count() == 1
    assert waiting(CANCEL_JOB).count() == 0


def test_the_salon_cancels_and_keeps_the_prepayment(salon_a, connection, login):
    booked, order = prepaid_by_card(salon_a)
    appointment = booked.appointment
    client = login(salon_a.owner)
    url = reverse("booking:appointment_status", args=[appointment.pk])

    response = client.post(url, {"status": "cancelled", "refund": "keep"}, follow=True)

    assert "The prepayment of 30 000 so&#x27;m is kept." in response.content.decode()
    extra = OnlineBooking.objects.get(appointment=appointment)
    assert (extra.cancelled_by, extra.refund_decided) == (CancelledBy.SALON, 0)
    assert waiting(CANCEL_JOB).count() == 0
    assert books_of(appointment) == PAID
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)
    html = window(client, appointment)
    assert "The cancellation kept 30 000 so&#x27;m of the prepayment." in html


def test_an_online_booking_without_money_and_a_desk_booking_cancel_at_once(
    salon_a, connection, login
):
    booked = book(salon_a)  # awaiting its prepayment: nothing held
    desk = salon_a.appointments[0]
    client = login(salon_a.owner)
    html = window(client, booked.appointment)
    assert 'id="cancel-online"' not in html
    assert 'name="status" value="cancelled" class="danger"' in html
    assert "Book without prepayment" in html
    assert 'id="cancel-online"' not in window(client, desk)

    for appointment in (booked.appointment, desk):
        url = reverse("booking:appointment_status", args=[appointment.pk])
        assert client.post(url, {"status": "cancelled"}).status_code == 302
        appointment.refresh_from_db()
        assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    extra = OnlineBooking.objects.get(appointment=booked.appointment)
    assert (extra.cancelled_by, extra.refund_decided) == (CancelledBy.SALON, 0)
    assert not OnlineBooking.objects.filter(appointment=desk).exists()
    assert waiting(CANCEL_JOB).count() == 0


def test_a_specialist_cannot_cancel(salon_a, connection, login):
    booked, _order = prepaid_by_card(salon_a)
    appointment = booked.appointment
    before = snapshot(appointment)
    client = login(salon_a.specialist_user)
    url = reverse("booking:appointment_status", args=[appointment.pk])
    response = client.post(url, {"status": "cancelled", "refund": "refund"})
    assert response.status_code in (403, 404)
    assert snapshot(appointment) == before
    assert Appointment.objects.filter(pk=appointment.pk, status=Status.CONFIRMED).exists()


def test_a_cancelled_online_booking_restored_by_the_desk_reads_booked(salon_a, connection, login):
    booked = book(salon_a)
    cancellation.cancel_by_salon(appointment=booked.appointment, refund=False)
    client = login(salon_a.owner)
    assert "Cancelled by the salon." in window(client, booked.appointment)
    url = reverse("booking:appointment_status", args=[booked.appointment.pk])
    assert client.post(url, {"status": "booked"}).status_code == 302
    booked.appointment.refresh_from_db()
    assert (booked.appointment.status, booked.appointment.occupies_time) == (Status.BOOKED, True)
    assert "Cancelled by the salon." not in window(client, booked.appointment)
