"""Cancelling an online booking (F6): by the client from their booking page, within the
salon's cut-off, with the salon's refund policy applied; by the salon from the appointment
window, which decides whether to give the prepayment back.

What is given back goes back the way it came: a card payment through the bank by a job
after the cancellation commits (a refund is a bank call, never inside the cancelling
transaction); a payment the bank cannot send back (the Uzum Bank app) stays on the
appointment for the salon to give back, which the window shows.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Refused
from navbat.kit.tenancy import scoped
from navbat.payments.models import PaymentOrder, State

from . import states
from .availability import settings_of
from .models import Appointment, CancelledBy, OnlineBooking, RefundPolicy, Status
from .online import can_change

log = logging.getLogger("navbat.booking")

HOLDING_MONEY = (State.PAID, State.PARTLY_REFUNDED)


def online_paid(appointment: Appointment) -> list[PaymentOrder]:
    """The appointment's online payments that still hold money."""
    return list(
        scoped(PaymentOrder, appointment.business)
        .filter(payable_kind="appointment", payable_id=appointment.pk, state__in=HOLDING_MONEY)
        .order_by("paid_at", "pk")
    )


def holding(appointment: Appointment) -> int:
    return sum(o.paid_amount - o.refunded_amount for o in online_paid(appointment))


def refund_due_to_client(online: OnlineBooking, *, now: datetime) -> bool:
    """Whether the salon's policy gives a client who cancels now their money back."""
    settings = settings_of(online.appointment.location)
    if settings.refund_policy == RefundPolicy.ALWAYS:
        return True
    if settings.refund_policy == RefundPolicy.NEVER:
        return False
    deadline = online.appointment.starts_at - timedelta(hours=settings.refund_before_hours)
    return now <= deadline


def _cancel(appointment: Appointment, *, by: str, refund: bool, now: datetime) -> int:
    """Cancel the locked appointment and, when ``refund``, queue the refund of what its
    online payments hold; returns that amount."""
    states.MACHINE.move(appointment, Status.CANCELLED, occupies_time=False)
    appointment.save(update_fields=["status", "occupies_time", "updated_at"])
    amount = holding(appointment) if refund else 0
    scoped(OnlineBooking, appointment.business).filter(appointment=appointment).update(
        cancelled_by=by, cancelled_at=now, refund_decided=amount
    )
    if amount > 0:
        from .tasks import refund_cancelled

        # Queued in the cancelling transaction: the job exists exactly when the decision does.
        refund_cancelled.enqueue(appointment.pk)
    return amount


def cancel_by_client(*, online: OnlineBooking, now: datetime | None = None) -> int:
    """The client cancels from their booking page. Returns what is given back (tiyin).
    Raises Refused (``too_late``) past the salon's cut-off or when it is no longer open."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("location", "business")
            .get(pk=online.appointment_id)
        )
        online = OnlineBooking.objects.get(pk=online.pk)
        online.appointment = appointment
        if not can_change(online, now=now):
            raise Refused(
                _("This booking can no longer be cancelled online. Call the salon."),
                reason="too_late",
            )
        return _cancel(
            appointment,
            by=CancelledBy.CLIENT,
            refund=refund_due_to_client(online, now=now),
            now=now,
        )


def cancel_by_salon(*, appointment: Appointment, refund: bool, now: datetime | None = None) -> int:
    """The salon cancels an online booking and says whether the prepayment goes back."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Appointment.objects.select_for_update(of=("self",))
            .select_related("business")
            .get(pk=appointment.pk)
        )
        if not states.MACHINE.check(locked.status, Status.CANCELLED):
            return 0
        return _cancel(locked, by=CancelledBy.SALON, refund=refund, now=now)


def give_back_cancelled(*, appointment_id: int) -> int:
    """The job's body: refund to the card, payment by payment, what the cancellation
    decided (no lock held: each refund is a bank call). Returns what was sent."""
    from navbat.payments import providers
    from navbat.payments.refunds import RefundConflict, refund_payment, refundable_amount

    online = (
        OnlineBooking.objects.select_related("appointment", "business")
        .filter(appointment_id=appointment_id)
        .first()
    )
    if online is None or online.refund_decided <= 0:
        return 0
    left = online.refund_decided
    sent = 0
    for order in online_paid(online.appointment):
        amount = min(refundable_amount(order), left)
        if amount <= 0:
            continue
        if providers.get(order.provider).refund_refusal(order=order, amount=amount):
            continue  # the salon gives it back (the window lists it)
        try:
            refund_payment(
                business=online.business,
                order_id=order.pk,
                amount=amount,
                reason=_("Online booking cancelled: refunded by the salon's policy"),
                automatic=True,
            )
        except RefundConflict as refused:
            log.warning("cancelled booking %s: %s", appointment_id, refused.reason)
            continue
        left -= amount
        sent += amount
    return sent
