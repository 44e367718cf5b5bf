"""Helpers for the tests of online bookings with a prepayment (holds, late payments,
cancellations, the journal): a salon's widget on, a service asking 30 % in advance, a
booking, and its prepayment paid on the sandbox bank by card or in the Uzum Bank app."""

import uuid
from datetime import timedelta

from django.utils import timezone

from navbat.booking import online
from navbat.booking.models import BookingSettings
from navbat.finance.models import Transaction
from navbat.payments import services as payments
from navbat.salons.models import Prepayment, PrepaymentAmount
from navbat.uzum.models import MerchantTransaction
from navbat.uzum_sandbox import bank
from tests.payments.jobs import RETURN_URL

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000  # Haircut: 100 000 so'm, 60 minutes
PREPAYMENT = 3_000_000  # 30 % of it
FEE = 30_000  # Uzcard, 1 % of the prepayment
HOLD = timedelta(minutes=15)  # the widget's default hold

END_HOLD_JOB = "navbat.booking.tasks.end_hold"
LATE_JOB = "navbat.booking.tasks.refund_late_prepayment"
CANCEL_JOB = "navbat.booking.tasks.refund_cancelled"
PHONE = "+998 90 555 12 34"


def widget_on(salon, **fields) -> BookingSettings:
    fields.setdefault("min_notice_minutes", 0)
    return BookingSettings.objects.create(
        business=salon.business, location=salon.location, enabled=True, **fields
    )


def ask_thirty_percent(salon):
    """The haircut asks 30 % of its price in advance, required."""
    service = salon.services[0]
    service.prepayment = Prepayment.REQUIRED
    service.prepayment_amount = PrepaymentAmount.PERCENT
    service.prepayment_value = 30
    service.save()
    return service


def book(salon, **fields) -> online.Booked:
    """An online booking of the haircut with the first specialist, two days ahead at 15:00."""
    fields.setdefault("service_ids", [salon.services[0].pk])
    fields.setdefault("specialist_id", salon.specialists[0].pk)
    fields.setdefault("starts_at", salon.at(15, 0, days=2))
    fields.setdefault("name", "Dilnoza Karimova")
    fields.setdefault("phone", PHONE)
    fields.setdefault("comment", "")
    return online.book_online(location=salon.location, **fields)


def booked_in_the_past(salon, *, ago: timedelta, **fields) -> online.Booked:
    """Booked ``ago`` before now: with the default hold, a hold that ended ``ago - HOLD``
    ago (the jobs, which read the real clock, find it over)."""
    return book(salon, now=timezone.now() - ago, **fields)


def card_page(booked):
    """The client pressed "Pay by card" on the Quick Payment page: an order open at the
    sandbox bank for the prepayment."""
    return payments.start_card_payment(
        link=booked.link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )


def card_pays(order):
    """The client pays on the bank's page; navbat asks the bank and records it."""
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return payments.refresh(order=order)


def app_pays(app, booked, *, between=None):
    """The Uzum Bank app pays the prepayment: /create, then /confirm. ``between`` runs
    after navbat's last look that the booking is still payable, before the payment is
    recorded (what a hold ending at that very moment does)."""
    trans_id = str(uuid.uuid4())
    created = app.create(booked.link.code, PREPAYMENT, trans_id)
    assert created.body["status"] == "CREATED", created.body
    if between is not None:
        from navbat.payments import app_payments

        original = app_payments.still_payable

        def then(**kwargs):
            original(**kwargs)
            between()

        app_payments.still_payable = then
        try:
            confirmed = app.confirm(trans_id)
        finally:
            app_payments.still_payable = original
    else:
        confirmed = app.confirm(trans_id)
    assert confirmed.body["status"] == "CONFIRMED", confirmed.body
    return MerchantTransaction.objects.get(trans_id=trans_id).order


def books_of(appointment) -> list[tuple[str, int]]:
    """The sale document's transactions, in order: kind and amount."""
    rows = Transaction.objects.filter(document=appointment.document).order_by("id")
    return [(row.kind, row.amount) for row in rows]
