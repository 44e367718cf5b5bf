"""Online bookings that wait for a prepayment (F6): the hold on their time ends when it is
not paid in time, and a prepayment that arrives later is settled.

An appointment AWAITING_PAYMENT holds its time until ``hold_until``. Availability stops
counting it at that moment; :func:`end_hold` cancels it (the hold job, or a booking of the
same time that finds it first). A prepayment recorded afterwards (the bank can finish
minutes later) books the visit again when its time is still free, otherwise the money goes
back by itself where the bank can send it (``tasks.refund_late_prepayment``) and stays on
the appointment for the salon to give back where it cannot.

Locks follow ``payments/locks.py``: the appointment, then its specialist.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from navbat.kit.tenancy import scoped
from navbat.salons.models import Specialist

from . import states
from .models import Appointment, CancelledBy, LatePayment, OnlineBooking, Status

log = logging.getLogger("navbat.booking")

BATCH = 200  # holds ended per pass of the job


def _online(appointment: Appointment) -> OnlineBooking | None:
    return scoped(OnlineBooking, appointment.business).filter(appointment=appointment).first()


def end_hold(*, appointment_id: int, now: datetime | None = None) -> bool:
    """Cancel one appointment whose hold is over and that is still unpaid; True when it
    was cancelled now. Anything else (paid meanwhile, moved by the desk) is left alone."""
    now = now or timezone.now()
    with transaction.atomic():
        appointment = (
            Appointment.objects.select_for_update(of=("self",))
            .filter(pk=appointment_id, status=Status.AWAITING_PAYMENT, hold_until__lte=now)
            .first()
        )
        if appointment is None:
            return False
        states.MACHINE.move(appointment, Status.CANCELLED, occupies_time=False)
        appointment.save(update_fields=["status", "occupies_time", "updated_at"])
        scoped(OnlineBooking, appointment.business).filter(appointment=appointment).update(
            cancelled_by=CancelledBy.HOLD_ENDED, cancelled_at=now
        )
    log.info("hold of appointment %s ended unpaid", appointment_id)
    return True


def overdue(*, now: datetime | None = None, business=None, limit: int = BATCH) -> list[int]:
    """Appointments whose hold is over and that still await their prepayment."""
    now = now or timezone.now()
    rows = Appointment.objects.filter(status=Status.AWAITING_PAYMENT, hold_until__lte=now)
    if business is not None:
        rows = scoped(Appointment, business).filter(pk__in=rows.values("pk"))
    return list(rows.order_by("hold_until", "pk").values_list("pk", flat=True)[:limit])


def end_overdue_holds(*, now: datetime | None = None) -> int:
    """The hold job's pass: end every hold that is over (each in its own transaction)."""
    now = now or timezone.now()
    return sum(end_hold(appointment_id=pk, now=now) for pk in overdue(now=now))


def end_overlapping(
    *, specialist_ids: list[int], starts_at: datetime, ends_at: datetime, now: datetime
) -> int:
    """End the holds that are over and stand in the way of a new booking of that time, so
    that the time availability offered can be booked before the job passes by. Called
    before the booking takes its specialist's lock (appointment before specialist)."""
    ids = Appointment.objects.filter(
        specialist_id__in=specialist_ids,
        status=Status.AWAITING_PAYMENT,
        hold_until__lte=now,
        starts_at__lt=ends_at,
        ends_at__gt=starts_at,
    ).values_list("pk", flat=True)
    return sum(end_hold(appointment_id=pk, now=now) for pk in list(ids))


def _time_is_free(appointment: Appointment) -> bool:
    Specialist.objects.select_for_update().filter(pk=appointment.specialist_id).first()
    return not (
        scoped(Appointment, appointment.business)
        .filter(
            specialist_id=appointment.specialist_id,
            occupies_time=True,
            starts_at__lt=appointment.ends_at,
            ends_at__gt=appointment.starts_at,
        )
        .exclude(pk=appointment.pk)
        .exists()
    )


def prepayment_arrived(*, appointment: Appointment, order) -> None:
    """Called by the payable's ``on_paid`` (the appointment locked, inside the transaction
    that records the payment) for an online booking awaiting its prepayment or cancelled."""
    now = timezone.now()
    if appointment.status == Status.AWAITING_PAYMENT:
        states.MACHINE.move(appointment, Status.CONFIRMED)
        appointment.hold_until = None
        appointment.save(update_fields=["status", "hold_until", "updated_at"])
        return
    online = _online(appointment)
    if online is None or online.late_payment:
        return
    if online.cancelled_by != CancelledBy.HOLD_ENDED:
        # Paid after the client or the salon cancelled: what to give back was decided, or
        # is decided, with that cancellation (``cancellation``); the books hold the money.
        return
    if appointment.starts_at > now and _time_is_free(appointment):
        states.MACHINE.move(appointment, Status.BOOKED, occupies_time=True)
        states.MACHINE.move(appointment, Status.CONFIRMED)
        appointment.hold_until = None
        appointment.save(update_fields=["status", "occupies_time", "hold_until", "updated_at"])
        online.late_payment = LatePayment.REINSTATED
        online.cancelled_by = ""
        online.cancelled_at = None
        online.save(update_fields=["late_payment", "cancelled_by", "cancelled_at"])
        log.info("late prepayment %s: appointment %s booked again", order.pk, appointment.pk)
        return
    from navbat.payments import providers

    refusal = providers.get(order.provider).refund_refusal(order=order, amount=order.paid_amount)
    online.late_payment = LatePayment.TO_GIVE_BACK if refusal else LatePayment.REFUNDING
    online.save(update_fields=["late_payment"])
    log.warning(
        "late prepayment %s: the time of appointment %s is taken, %s",
        order.pk,
        appointment.pk,
        "left for the salon to give back" if refusal else "refunded by a job",
    )
    if not refusal:
        from .tasks import refund_late_prepayment

        # In the recording transaction: the job exists exactly when the decision does.
        refund_late_prepayment.enqueue(order.pk)


def give_back_late(*, order_id: int):
    """The job's body: refund to the card what a late prepayment holds (no lock held:
    ``refund_payment`` calls the bank). A refusal or a failure leaves it for the salon,
    marked on the appointment."""
    from django.utils.translation import gettext as _

    from navbat.payments.models import PaymentOrder
    from navbat.payments.refunds import RefundConflict, refund_payment, refundable_amount

    order = PaymentOrder.objects.select_related("business").filter(pk=order_id).first()
    if order is None:
        return None
    amount = refundable_amount(order)
    if amount <= 0:
        return None
    try:
        requested = refund_payment(
            business=order.business,
            order_id=order.pk,
            amount=amount,
            reason=_("Prepayment came after the booking's time was taken: refunded automatically"),
            automatic=True,
        )
    except RefundConflict as refused:
        log.warning("late prepayment %s not refunded: %s", order.reference, refused.reason)
        scoped(OnlineBooking, order.business).filter(
            appointment_id=order.payable_id, late_payment=LatePayment.REFUNDING
        ).update(late_payment=LatePayment.TO_GIVE_BACK)
        return None
    return requested.refund
