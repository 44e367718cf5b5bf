"""A prepayment that arrives after its hold ended (F6, issue 14 item 5), through the sandbox
bank: booked again when its time is still free; refunded automatically when it is not (a
card payment: the ``refund_late_prepayment`` job sends a Checkout refund), left to the salon
when the bank cannot send it (a payment in the Uzum Bank app) or fails the refund. The books
hold exactly the payment, its fee, the refund and (per the fee schedule) the fee returned;
a callback delivered twice decides once, and the job run twice refunds once."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from navbat.booking import holds
from navbat.booking.models import CancelledBy, LatePayment, OnlineBooking, Status
from navbat.booking.selectors import money_of
from navbat.booking.tasks import refund_late_prepayment
from navbat.finance.models import PaymentState, TransactionKind
from navbat.kit.errors import Conflict
from navbat.payments import refunds
from navbat.payments.models import Refund, RefundRoute, RefundState, State
from navbat.uzum import callbacks
from navbat.uzum.models import Callback
from navbat.uzum_sandbox.models import Operation, Terminal
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.booking.prepaid import (
    END_HOLD_JOB,
    FEE,
    HOLD,
    LATE_JOB,
    PREPAYMENT,
    UZCARD,
    app_pays,
    ask_thirty_percent,
    book,
    booked_in_the_past,
    books_of,
    card_page,
    card_pays,
    widget_on,
)
from tests.payments.jobs import CALLBACK_JOB, callbacks_in_process, run_due, waiting
from tests.uzum.merchant import App, connect_app

pytestmark = pytest.mark.django_db

PAID = [(TransactionKind.SALE_PAYMENT, PREPAYMENT), (TransactionKind.BANK_FEE, FEE)]
OTHER_PHONE = "+998905551239"


@pytest.fixture
def connection(salon_a, connect_uzum):
    widget_on(salon_a)
    ask_thirty_percent(salon_a)
    return connect_app(connect_uzum, salon_a)


def over_with_the_card_page_open(salon, django_capture_on_commit_callbacks):
    """Booked 16 minutes ago, the client went to the bank's page, and the hold ended a
    minute ago (its job ran): the booking is cancelled, the bank's order still open."""
    with django_capture_on_commit_callbacks(execute=True):
        booked = booked_in_the_past(salon, ago=HOLD + timedelta(minutes=1))
    order = card_page(booked)
    assert run_due(END_HOLD_JOB) == 1
    appointment = booked.appointment
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    return booked, order


def late_of(appointment) -> OnlineBooking:
    return OnlineBooking.objects.get(appointment=appointment)


def sandbox_refunds(order) -> list[tuple[str, int]]:
    rows = Operation.objects.filter(order__order_id=order.bank_order_id, operation_type="REFUND")
    return list(rows.values_list("state", "amount"))


def test_a_late_card_payment_books_the_visit_again_when_its_time_is_free(
    salon_a, connection, django_capture_on_commit_callbacks
):
    booked, order = over_with_the_card_page_open(salon_a, django_capture_on_commit_callbacks)

    order = card_pays(order)

    appointment = booked.appointment
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time, appointment.hold_until) == (
        Status.CONFIRMED,
        True,
        None,
    )
    late = late_of(appointment)
    assert (late.late_payment, late.cancelled_by, late.cancelled_at) == (
        LatePayment.REINSTATED,
        "",
        None,
    )
    assert (order.state, order.paid_amount, order.fee_amount) == (State.PAID, PREPAYMENT, FEE)
    assert books_of(appointment) == PAID
    assert money_of(appointment).paid == PREPAYMENT
    assert waiting(LATE_JOB).count() == 0
    assert Refund.objects.count() == 0
    # Its time is taken again.
    with pytest.raises(Conflict) as taken:
        book(salon_a, phone=OTHER_PHONE)
    assert taken.value.code == "slot_taken"


def test_a_late_payment_for_a_time_already_past_is_given_back(
    salon_a, connection, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks(execute=True):
        booked = booked_in_the_past(salon_a, ago=HOLD + timedelta(minutes=1))
    order = card_page(booked)
    assert holds.end_hold(appointment_id=booked.appointment.pk) is True
    # The bank finishes once the visit's time has gone by (the hook's clock moved on).
    later = booked.appointment.starts_at + timedelta(minutes=1)
    arrived = holds.prepayment_arrived
    monkeypatch.setattr(holds, "prepayment_arrived", lambda **kw: arrived(**kw, now=later))

    card_pays(order)

    appointment = booked.appointment
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    assert late_of(appointment).late_payment == LatePayment.REFUNDING
    assert waiting(LATE_JOB).count() == 1
    assert books_of(appointment) == PAID


@pytest.mark.parametrize("fee_comes_back", [False, True], ids=["fee-kept", "fee-returned"])
def test_a_late_card_payment_whose_time_was_taken_is_refunded_by_the_job_books_exact(
    salon_a, connection, django_capture_on_commit_callbacks, login, fee_comes_back
):
    schedule = connection.fee_schedule
    schedule.fee_returned_on_refund = fee_comes_back
    schedule.save()
    booked, order = over_with_the_card_page_open(salon_a, django_capture_on_commit_callbacks)
    other = book(salon_a, phone=OTHER_PHONE)  # the time is taken meanwhile
    assert other.appointment.starts_at == booked.appointment.starts_at

    order = card_pays(order)

    appointment = booked.appointment
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    late = late_of(appointment)
    assert (late.late_payment, late.cancelled_by) == (LatePayment.REFUNDING, CancelledBy.HOLD_ENDED)
    assert books_of(appointment) == PAID  # recorded as it came
    assert waiting(LATE_JOB).count() == 1
    assert Refund.objects.count() == 0  # no bank call in the recording transaction

    assert run_due(LATE_JOB) == 1

    refund = Refund.objects.get()
    assert (refund.state, refund.amount, refund.route, refund.automatic) == (
        RefundState.DONE,
        PREPAYMENT,
        RefundRoute.BANK,
        True,
    )
    assert refund.idempotency_key == holds.late_key(order.pk)
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, PREPAYMENT)
    fee_back = FEE if fee_comes_back else 0
    assert order.fee_returned_amount == fee_back
    expected = [*PAID, (TransactionKind.REFUND, PREPAYMENT)]
    if fee_comes_back:
        expected.append((TransactionKind.FEE_RETURN, FEE))
    assert books_of(appointment) == expected
    assert money_of(appointment).paid == 0
    assert money_of(appointment).state == PaymentState.UNPAID
    assert sandbox_refunds(order) == [("SUCCESS", PREPAYMENT)]
    assert BankOrder.objects.get(order_id=order.bank_order_id).status == "REFUNDED"
    # The other client's booking is untouched.
    other.appointment.refresh_from_db()
    assert (other.appointment.status, other.appointment.occupies_time) == (
        Status.AWAITING_PAYMENT,
        True,
    )

    # The job again (a retry, a second queueing) refunds nothing more.
    refund_late_prepayment.enqueue(order.pk)
    assert run_due(LATE_JOB) == 1
    assert holds.give_back_late(order_id=order.pk) is None
    assert Refund.objects.count() == 1
    assert books_of(appointment) == expected
    assert sandbox_refunds(order) == [("SUCCESS", PREPAYMENT)]

    # The window and the journal say what happened.
    client = login(salon_a.owner)
    page = client.get(reverse("booking:appointment", args=[appointment.pk])).content.decode()
    assert 'id="late-payment"' in page and "late-refunded" in page
    assert "The prepayment came after the booking was cancelled and was given back." in page
    day = appointment.starts_at.astimezone(timezone.get_default_timezone()).date()
    journal = client.get(reverse("booking:journal"), {"date": day.isoformat()}).content.decode()
    assert "late prepayment refunded" in journal


def test_the_late_refund_job_run_twice_at_once_refunds_once(
    salon_a, connection, django_capture_on_commit_callbacks
):
    booked, order = over_with_the_card_page_open(salon_a, django_capture_on_commit_callbacks)
    book(salon_a, phone=OTHER_PHONE)
    order = card_pays(order)
    refund_late_prepayment.enqueue(order.pk)  # the same job queued twice
    assert waiting(LATE_JOB).count() == 2

    assert run_due(LATE_JOB) == 2

    assert Refund.objects.filter(order=order).count() == 1
    assert sandbox_refunds(order) == [("SUCCESS", PREPAYMENT)]
    assert books_of(booked.appointment) == [*PAID, (TransactionKind.REFUND, PREPAYMENT)]


def test_a_failed_bank_refund_is_left_to_the_salon_and_not_sent_again(
    salon_a, connection, django_capture_on_commit_callbacks, login
):
    booked, order = over_with_the_card_page_open(salon_a, django_capture_on_commit_callbacks)
    book(salon_a, phone=OTHER_PHONE)
    order = card_pays(order)
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(
        faults={"acquiring/refund": {"mode": "error_5xx", "status": 503}}
    )

    assert run_due(LATE_JOB) == 1

    refund = Refund.objects.get()
    assert refund.state == RefundState.FAILED
    appointment = booked.appointment
    assert late_of(appointment).late_payment == LatePayment.TO_GIVE_BACK
    assert books_of(appointment) == PAID
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)
    assert sandbox_refunds(order) == []
    # The job again does not send it again: the salon decides now.
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(faults={})
    refund_late_prepayment.enqueue(order.pk)
    assert run_due(LATE_JOB) == 1
    assert list(Refund.objects.values_list("state", flat=True)) == [RefundState.FAILED]
    assert sandbox_refunds(order) == []
    # The window shows it, with the way to give it back.
    page = login(salon_a.owner).get(reverse("booking:appointment", args=[appointment.pk]))
    html = page.content.decode()
    assert "give 30 000 so&#x27;m back to the client" in html
    assert reverse("payments:refund", args=[order.pk]) in html
    assert "The automatic refund to the card did not go through." in html


def test_a_late_app_payment_whose_time_was_taken_is_left_to_the_salon_with_the_way_back(
    salon_a, connection, django_capture_on_commit_callbacks, login
):
    booked = booked_in_the_past(salon_a, ago=HOLD + timedelta(minutes=1))
    appointment = booked.appointment
    taken = {}

    def the_hold_ends_and_the_time_goes():
        # Between navbat's last look (still awaiting) and the recording of the payment.
        assert holds.end_hold(appointment_id=appointment.pk) is True
        taken["other"] = book(salon_a, phone=OTHER_PHONE)

    order = app_pays(App(connection), booked, between=the_hold_ends_and_the_time_goes)

    assert (order.state, order.method, order.paid_amount) == (State.PAID, "app", PREPAYMENT)
    appointment.refresh_from_db()
    assert (appointment.status, appointment.occupies_time) == (Status.CANCELLED, False)
    assert taken["other"].appointment.occupies_time is True
    assert late_of(appointment).late_payment == LatePayment.TO_GIVE_BACK
    assert books_of(appointment) == PAID
    assert waiting(LATE_JOB).count() == 0  # the bank has no refund call for the app
    html = login(salon_a.owner).get(reverse("booking:appointment", args=[appointment.pk]))
    html = html.content.decode()
    assert 'id="late-payment"' in html and "late-to-give-back" in html
    assert f'id="give-back-{order.pk}"' in html
    assert "Uzum Bank offers no refund call for payments made in its app" in html
    assert reverse("payments:refund", args=[order.pk]) in html

    # The salon gives it back from its cash drawer: the books and the window follow.
    refunds.refund_payment(
        business=salon_a.business,
        order_id=order.pk,
        amount=PREPAYMENT,
        reason="Paid after the booking was over",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )
    assert books_of(appointment) == [*PAID, (TransactionKind.REFUND, PREPAYMENT)]
    html = login(salon_a.owner).get(reverse("booking:appointment", args=[appointment.pk]))
    assert "late-refunded" in html.content.decode()


@pytest.fixture
def bank_calls_us(monkeypatch, settings):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(0))
    return callbacks_in_process(monkeypatch)


def test_a_callback_delivered_twice_decides_once(
    salon_a, connection, bank_calls_us, django_capture_on_commit_callbacks
):
    from navbat.uzum_sandbox import bank
    from navbat.uzum_sandbox.callbacks import deliver_due

    booked, order = over_with_the_card_page_open(salon_a, django_capture_on_commit_callbacks)
    book(salon_a, phone=OTHER_PHONE)
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(
        faults={"callbacks": {"mode": "duplicate", "count": 2}}
    )
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)

    assert deliver_due() == 1  # one callback, which the bank sends twice
    from navbat.uzum_sandbox.models import Callback as SentCallback

    assert SentCallback.objects.get().attempts == 2
    assert Callback.objects.get().repeats == 1  # stored once, the repeat counted
    run_due(CALLBACK_JOB)
    order.refresh_from_db()
    assert order.state == State.PAID
    # And navbat asks the bank again: a repeat of the recorded payment decides nothing.
    from navbat.payments import services as payments

    payments.refresh(order=order)
    payments.refresh(order=order)

    assert waiting(LATE_JOB).count() == 1
    assert late_of(booked.appointment).late_payment == LatePayment.REFUNDING
    assert books_of(booked.appointment) == PAID
    run_due(LATE_JOB)
    assert Refund.objects.filter(order=order).count() == 1
    assert books_of(booked.appointment) == [*PAID, (TransactionKind.REFUND, PREPAYMENT)]
    assert DBTaskResult.objects.filter(task_path=LATE_JOB).count() == 1
