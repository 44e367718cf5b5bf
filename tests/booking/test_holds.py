"""Holds of online bookings awaiting a prepayment (F6, issue 14 item 5): the hold job queued
at booking for the hold's end, an unpaid hold cancelling itself then (controlled clocks:
``now=`` for the services, bookings made in the past for the job, which reads the clock),
the time offered again; a hold ended while its payment is at the bank; the desk letting a
booking through without its prepayment."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from navbat.booking import availability, holds, online
from navbat.booking.models import Appointment, CancelledBy, OnlineBooking, Status
from navbat.kit.errors import Conflict, Refused
from navbat.payments import services as payments
from navbat.payments.models import State
from navbat.payments.services import PaymentRefused
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.booking.prepaid import (
    END_HOLD_JOB,
    HOLD,
    PREPAYMENT,
    UZCARD,
    ask_thirty_percent,
    book,
    booked_in_the_past,
    card_page,
    card_pays,
    widget_on,
)
from tests.payments.jobs import run_due, waiting

pytestmark = pytest.mark.django_db


@pytest.fixture
def salon(salon_a, connect_uzum):
    widget_on(salon_a)
    ask_thirty_percent(salon_a)
    connect_uzum(salon_a)
    return salon_a


def offered(salon, *, now, specialist=None) -> list:
    """The haircut's free times of the booking's day with the first specialist."""
    location = salon.location
    settings = availability.settings_of(location)
    day = salon.at(15, 0, days=2).date()
    slots = availability.free_times(
        location=location,
        rules=availability.Rules.of(location=location, settings=settings),
        specialists=[specialist or salon.specialists[0]],
        duration=60,
        day=day,
        now=now,
    )
    return [slot.start for slot in slots]


def state_of(appointment) -> tuple:
    appointment.refresh_from_db()
    extra = OnlineBooking.objects.get(appointment=appointment)
    return appointment.status, appointment.occupies_time, extra.cancelled_by


def test_booking_queues_the_hold_job_for_the_end_of_the_hold(
    salon, django_capture_on_commit_callbacks
):
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        booked = book(salon, now=now)
    appointment = booked.appointment
    assert (appointment.status, appointment.prepayment) == (Status.AWAITING_PAYMENT, PREPAYMENT)
    assert appointment.hold_until == now + HOLD
    job = waiting(END_HOLD_JOB).get()
    assert job.run_after == appointment.hold_until
    assert job.args_kwargs == {"args": [appointment.pk], "kwargs": {}}
    assert run_due(END_HOLD_JOB) == 0  # not due before the hold ends
    assert state_of(appointment) == (Status.AWAITING_PAYMENT, True, "")


def test_an_unpaid_hold_holds_its_time_until_its_end_then_cancels_itself_and_frees_it(
    salon, django_capture_on_commit_callbacks
):
    # Booked 16 minutes ago: the 15-minute hold ended a minute ago.
    with django_capture_on_commit_callbacks(execute=True):
        booked = booked_in_the_past(salon, ago=HOLD + timedelta(minutes=1))
    appointment = booked.appointment
    start, end = appointment.starts_at, appointment.hold_until
    assert end < timezone.now()
    # While the hold lasts the time is not offered, and the hold cannot be ended.
    assert start not in offered(salon, now=end - timedelta(seconds=1))
    assert holds.end_hold(appointment_id=appointment.pk, now=end - timedelta(seconds=1)) is False
    assert state_of(appointment) == (Status.AWAITING_PAYMENT, True, "")
    # From its end, availability offers the time even before the job passes.
    assert start in offered(salon, now=end)

    assert run_due(END_HOLD_JOB) == 1

    assert state_of(appointment) == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)
    extra = OnlineBooking.objects.get(appointment=appointment)
    assert extra.cancelled_at is not None and extra.late_payment == ""
    assert start in offered(salon, now=timezone.now())
    assert DBTaskResult.objects.get(task_path=END_HOLD_JOB).status == "SUCCESSFUL"
    # The job again (a retry, a sweep) changes nothing.
    assert holds.end_hold(appointment_id=appointment.pk) is False
    assert holds.end_overdue_holds() == 0
    assert state_of(appointment) == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)
    # The payment page no longer takes the prepayment.
    with pytest.raises(PaymentRefused) as refused:
        card_page(booked)
    assert refused.value.reason == "closed"
    # And another client books the time.
    again = book(salon, phone="+998905551239")
    assert again.appointment.starts_at == start
    assert again.appointment.status == Status.AWAITING_PAYMENT


def test_a_hold_job_also_ends_a_hold_whose_own_job_was_lost(
    salon, django_capture_on_commit_callbacks
):
    # Its job was never queued (the process stopped between the commit and the queueing).
    lost = booked_in_the_past(
        salon, ago=HOLD + timedelta(minutes=2), starts_at=salon.at(17, 0, days=2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        booked = booked_in_the_past(salon, ago=HOLD + timedelta(minutes=1))
    assert waiting(END_HOLD_JOB).count() == 1

    assert run_due(END_HOLD_JOB) == 1

    assert state_of(booked.appointment) == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)
    assert state_of(lost.appointment) == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)


def test_the_sweep_ends_only_the_holds_that_are_over(salon):
    now = timezone.now()
    over = book(salon, now=now - HOLD - timedelta(minutes=1)).appointment
    running = book(salon, now=now, starts_at=salon.at(17, 0, days=2)).appointment
    assert holds.overdue(now=now) == [over.pk]
    assert holds.end_overdue_holds(now=now) == 1
    assert state_of(over)[0] == Status.CANCELLED
    assert state_of(running)[0] == Status.AWAITING_PAYMENT


def test_a_hold_that_is_over_gives_way_to_a_new_booking_before_the_job_passes(salon):
    now = timezone.now()
    first = book(salon, now=now).appointment
    with pytest.raises(Conflict) as taken:
        book(salon, phone="+998905551239", now=first.hold_until - timedelta(seconds=1))
    assert taken.value.code == "slot_taken"
    assert Appointment.objects.filter(starts_at=first.starts_at).count() == 1

    second = book(salon, phone="+998905551239", now=first.hold_until)

    assert state_of(first) == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)
    assert second.appointment.starts_at == first.starts_at
    assert second.appointment.occupies_time is True


def test_a_hold_ended_while_its_payment_is_at_the_bank_then_the_bank_completes_it(
    salon, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booked = booked_in_the_past(salon, ago=timedelta(minutes=10))
    order = card_page(booked)
    assert (order.state, order.amount) == (State.PENDING, PREPAYMENT)
    # The hold ends while the client is on the bank's page: the booking is cancelled, the
    # bank's order stays open (the bank cannot be told no).
    ended_at = booked.appointment.hold_until
    assert holds.end_hold(appointment_id=booked.appointment.pk, now=ended_at) is True
    assert state_of(booked.appointment) == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)
    order.refresh_from_db()
    assert order.state == State.PENDING
    assert BankOrder.objects.get(order_id=order.bank_order_id).status == "REGISTERED"

    order = card_pays(order)

    # Its time still free and ahead: the booking is on again, confirmed and prepaid.
    assert (order.state, order.paid_amount) == (State.PAID, PREPAYMENT)
    appointment = booked.appointment
    assert state_of(appointment) == (Status.CONFIRMED, True, "")
    assert appointment.hold_until is None
    assert OnlineBooking.objects.get(appointment=appointment).late_payment == "reinstated"
    # Its job, when it comes, finds nothing to end.
    assert run_due(END_HOLD_JOB, now=ended_at) == 1
    assert state_of(appointment) == (Status.CONFIRMED, True, "")


def test_a_prepayment_in_time_ends_the_hold_and_the_job_leaves_it_alone(
    salon, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        booked = booked_in_the_past(salon, ago=timedelta(minutes=10))
    card_pays(card_page(booked))
    appointment = booked.appointment
    assert state_of(appointment) == (Status.CONFIRMED, True, "")
    assert appointment.hold_until is None
    assert holds.end_hold(appointment_id=appointment.pk, now=timezone.now() + HOLD) is False
    assert state_of(appointment) == (Status.CONFIRMED, True, "")
    assert OnlineBooking.objects.get(appointment=appointment).late_payment == ""


@pytest.mark.parametrize("status", [Status.BOOKED, Status.CONFIRMED])
def test_the_desk_lets_an_awaiting_booking_through_without_its_prepayment(salon, status):
    booked = book(salon)
    appointment = holds.book_without_prepayment(appointment=booked.appointment, status=status)
    assert (appointment.status, appointment.hold_until, appointment.occupies_time) == (
        status,
        None,
        True,
    )
    # The hold is over: no job or sweep cancels it, its time stays taken.
    later = timezone.now() + HOLD + timedelta(minutes=1)
    assert holds.end_hold(appointment_id=appointment.pk, now=later) is False
    assert holds.end_overdue_holds(now=later) == 0
    assert appointment.starts_at not in offered(salon, now=later)
    with pytest.raises(Conflict):
        book(salon, phone="+998905551239", now=later)
    # The prepayment is still what the payment page asks, and paying it confirms the visit.
    order = card_pays(card_page(booked))
    assert order.paid_amount == PREPAYMENT
    assert state_of(appointment)[0] == Status.CONFIRMED
    # A repeat changes nothing.
    again = holds.book_without_prepayment(appointment=appointment, status=Status.CONFIRMED)
    assert again.status == Status.CONFIRMED


def test_the_desk_cannot_let_through_a_booking_whose_hold_ended(salon):
    booked = book(salon)
    appointment = booked.appointment
    holds.end_hold(appointment_id=appointment.pk, now=appointment.hold_until)
    before = state_of(appointment)
    with pytest.raises(Refused) as refused:
        holds.book_without_prepayment(appointment=appointment)
    assert refused.value.reason == "not_awaiting"
    assert state_of(appointment) == before == (Status.CANCELLED, False, CancelledBy.HOLD_ENDED)


def test_the_window_books_an_awaiting_booking_without_its_prepayment(salon, login):
    from django.urls import reverse

    booked = book(salon)
    client = login(salon.owner)
    url = reverse("booking:appointment_status", args=[booked.appointment.pk])
    assert client.post(url, {"status": "booked"}).status_code == 302
    appointment = booked.appointment
    appointment.refresh_from_db()
    assert (appointment.status, appointment.hold_until) == (Status.BOOKED, None)


def test_booking_awaits_nothing_without_a_bank_and_queues_no_hold(
    salon_a, django_capture_on_commit_callbacks
):
    widget_on(salon_a)
    ask_thirty_percent(salon_a)
    with django_capture_on_commit_callbacks(execute=True):
        booked = book(salon_a)
    assert (booked.appointment.status, booked.appointment.hold_until) == (Status.BOOKED, None)
    assert waiting(END_HOLD_JOB).count() == 0
    assert online.find_booking(booked.online.manage_token).appointment_id == booked.appointment.pk


# ------------------------------------------------ lock order (PostgreSQL's real row locks)

on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (SQLite has none)"
)
ROW = re.compile(r'FROM "(\w+)" WHERE .*?"\1"\."id" = (\d+)')


def rows_locked_anew(queries) -> list[str]:
    """The tables of the ``FOR UPDATE`` statements that lock a row not already held (a
    service locking again a row its caller holds waits for nothing)."""
    held, tables = set(), []
    for query in queries:
        sql = query["sql"]
        if "FOR UPDATE" not in sql:
            continue
        row = ROW.search(sql)
        if row is not None and row.groups() in held:
            continue
        if row is not None:
            held.add(row.groups())
        tables.append(row[1] if row else sql)
    return tables


def in_lock_order(tables: list[str]) -> list[str]:
    from tests.payments.test_locks import rank

    places = rank()
    assert [places[table] for table in tables] == sorted(places[table] for table in tables), tables
    return tables


@pytest.mark.postgres
@on_postgres
def test_a_late_prepayment_locks_link_order_appointment_then_specialist(salon):
    from tests.payments.test_locks import assert_in_lock_order

    booked = book(salon)
    order = card_page(booked)
    holds.end_hold(appointment_id=booked.appointment.pk, now=booked.appointment.hold_until)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    with CaptureQueriesContext(connection) as seen:
        payments.refresh(order=order)
    assert state_of(booked.appointment)[0] == Status.CONFIRMED  # booked again
    assert assert_in_lock_order(seen.captured_queries) == [
        "payments_paymentlink",
        "payments_paymentorder",
        "booking_appointment",
        "salons_specialist",
    ]


@pytest.mark.postgres
@on_postgres
def test_any_specialist_ends_the_holds_in_its_way_before_any_specialist_lock(salon, monkeypatch):
    """The first specialist offered is taken once their lock is held; the second has an
    expired hold at that time: it is ended (an appointment lock) before the first
    specialist's lock, never after it."""
    from tests.payments.test_locks import assert_in_lock_order

    first, second = salon.specialists[:2]
    now = timezone.now()
    stale = book(salon, specialist_id=second.pk, now=now - HOLD - timedelta(minutes=1))
    offered_at_first = availability.offered_specialists

    def taken_under_the_lock(**kwargs):
        if [s.pk for s in kwargs["specialists"]] == [first.pk]:
            return []  # someone booked the first specialist just before
        return offered_at_first(**kwargs)

    monkeypatch.setattr(availability, "offered_specialists", taken_under_the_lock)
    with CaptureQueriesContext(connection) as seen:
        booked = book(salon, specialist_id=None, phone="+998905551239", now=now)
    assert booked.appointment.specialist_id == second.pk
    assert state_of(stale.appointment)[0] == Status.CANCELLED
    assert_in_lock_order(seen.captured_queries)


@pytest.mark.postgres
@on_postgres
def test_a_client_moving_their_booking_locks_it_before_the_specialist(salon):
    booked = book(salon)
    with CaptureQueriesContext(connection) as seen:
        online.reschedule_by_client(online=booked.online, starts_at=salon.at(17, 0, days=2))
    booked.appointment.refresh_from_db()
    assert booked.appointment.starts_at == salon.at(17, 0, days=2)
    assert in_lock_order(rows_locked_anew(seen.captured_queries)) == [
        "booking_appointment",
        "salons_specialist",
    ]
