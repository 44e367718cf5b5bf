"""Cancelling an online booking (F6): by the client from their booking page, within the
salon's cut-off, with the salon's refund policy applied; by the salon from the appointment
window, which decides whether to give the prepayment back.

What is given back goes back the way it came: a card payment through the bank by a job
after the cancellation commits (a refund is a bank call, never inside the cancelling
transaction); a payment the bank cannot send back (the Uzum Bank app) stays on the
appointment for the salon to give back, which the window shows. Each payment is refunded
under its own key (:func:`cancel_key`), so the job may run again without sending anything
twice. A payment that arrives after the cancellation (one under way at the bank) goes back
too, whatever the policy (``holds.prepayment_arrived``): the policy is about money the
client had paid when they cancelled.

Locks: the appointment alone (``payments/locks.py``); its payments are read, not locked.
"""

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Refused
from navbat.kit.tenancy import scoped
from navbat.payments.duplicates import HOLDING_MONEY
from navbat.payments.models import PaymentOrder, Refund, RefundState

from . import states
from .availability import settings_of
from .models import Appointment, CancelledBy, OnlineBooking, RefundPolicy, Status
from .online import can_change
from .selectors import online_payments_of

log = logging.getLogger("navbat.booking")


def online_paid(appointment: Appointment) -> list[PaymentOrder]:
    """The appointment's online payments that still hold money, first paid first."""
    return list(
        online_payments_of(appointment=appointment)
        .filter(state__in=HOLDING_MONEY)
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
    if online.refund_until is not None:
        deadline = min(deadline, online.refund_until)
    return now <= deadline


def _cancel(appointment: Appointment, *, by: str, refund: bool, now: datetime) -> int:
    """Cancel the locked appointment and, when ``refund``, queue the refund of what its
    online payments hold; returns that amount."""
    states.MACHINE.move(appointment, Status.CANCELLED, occupies_time=False)
    appointment.save(update_fields=["status", "occupies_time", "updated_at"])
    amount = holding(appointment) if refund else 0
    # Added up over the booking's cancellations: the job gives back what was decided less
    # what earlier cancellations' refunds gave (a booking restored, paid again and
    # cancelled again gives back the new payment too).
    scoped(OnlineBooking, appointment.business).filter(appointment=appointment).update(
        cancelled_by=by, cancelled_at=now, refund_decided=F("refund_decided") + amount
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


def _keys_of(appointment_id: int) -> str:
    return f"cancelled:{appointment_id}:"


def cancel_key(appointment_id: int, order_id: int) -> str:
    """The idempotency key of the one refund a cancellation sends for one payment: the job
    run twice, or run while a first run is at the bank, sends it once."""
    return f"{_keys_of(appointment_id)}{order_id}"


def given_back_for(online: OnlineBooking) -> int:
    """What the cancellation's refunds gave back or are giving back (by their keys)."""
    from navbat.payments.states import REFUND_IN_FLIGHT

    return (
        scoped(Refund, online.business)
        .filter(
            idempotency_key__startswith=_keys_of(online.appointment_id),
            state__in=(RefundState.DONE, *REFUND_IN_FLIGHT),
        )
        .aggregate(total=Sum("amount"))["total"]
        or 0
    )


def give_back_cancelled(*, appointment_id: int) -> int:
    """The job's body: refund to the card, payment by payment, what the cancellation
    decided (no lock held, no transaction open: each refund is a bank call). Each payment
    is refunded under its own key, so a second run sends nothing again, a refund that
    failed is not sent again (the salon gives it back, the window says so), and never more
    than was decided goes back. Returns what was sent now."""
    from navbat.payments import providers
    from navbat.payments.refunds import RefundConflict, refund_payment, refundable_amount

    online = (
        OnlineBooking.objects.select_related("appointment", "business")
        .filter(appointment_id=appointment_id)
        .first()
    )
    if online is None or online.refund_decided <= 0:
        return 0
    if online.appointment.status != Status.CANCELLED:
        return 0  # the desk booked it again meanwhile: the money pays the visit
    left = online.refund_decided - given_back_for(online)
    sent = 0
    for order in online_paid(online.appointment):
        if left <= 0:
            break
        key = cancel_key(appointment_id, order.pk)
        if scoped(Refund, online.business).filter(idempotency_key=key).exists():
            continue  # sent by an earlier run (done, on its way, or failed)
        amount = min(refundable_amount(order), left)
        if amount <= 0:
            continue
        if providers.get(order.provider).refund_refusal(order=order, amount=amount):
            continue  # the salon gives it back (the window lists it)
        try:
            requested = refund_payment(
                business=online.business,
                order_id=order.pk,
                amount=amount,
                reason=_("Online booking cancelled: refunded as decided at the cancellation"),
                automatic=True,
                idempotency_key=key,
            )
        except RefundConflict as refused:
            log.warning("cancelled booking %s: %s", appointment_id, refused.reason)
            continue
        if requested.refund.state != RefundState.FAILED:
            left -= amount
            sent += amount
    return sent
