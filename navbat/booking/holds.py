"""Online bookings that wait for a prepayment (F6): the hold on their time ends when it is
not paid in time, the desk may let one through unpaid, and a prepayment that arrives late is
settled.

An appointment AWAITING_PAYMENT holds its time until ``hold_until``. Availability stops
counting it at that moment; :func:`end_hold` cancels it (the hold job queued at booking, or
a booking of the same time that finds it first). A prepayment recorded afterwards (the bank
can finish minutes later) books the visit again when its time is still free and ahead,
otherwise the money goes back: by a job through the bank where the bank can send it
(``tasks.refund_late_prepayment``), by the salon where it cannot (a payment in the bank's
app), which the appointment window shows with the way to do it. Money that arrives for a
booking the client or the salon cancelled goes back the same way: the booking's page no
longer takes payments, so it can only be a payment that was under way.

Locks follow ``payments/locks.py``: the appointment, then its specialist (the prepayment
hook runs under the payment's link and order, taken before both). No bank is called under a
lock: the job's refund (``payments.refunds.refund_payment``) runs outside any transaction.
"""

import logging
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Refused
from navbat.kit.tenancy import scoped
from navbat.salons.models import Specialist

from . import states
from .models import Appointment, CancelledBy, LatePayment, OnlineBooking, Status
from .payables import KIND as PAYABLE_KIND

log = logging.getLogger("navbat.booking")

BATCH = 200  # holds ended per pass of the sweep


def late_key(order_id: int) -> str:
    """The idempotency key of the one automatic refund of a late prepayment: a job run
    twice, or run while a first run is at the bank, sends it once."""
    return f"late-prepayment:{order_id}"


def _online(appointment: Appointment) -> OnlineBooking | None:
    return scoped(OnlineBooking, appointment.business).filter(appointment=appointment).first()


def end_hold(*, appointment_id: int, now: datetime | None = None) -> bool:
    """Cancel one appointment whose hold is over and that is still unpaid; True when it
    was cancelled now. Anything else (paid meanwhile, let through by the desk, a hold not
    over yet) is left alone, so the job may run any number of times."""
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
        OnlineBooking.objects.filter(business_id=appointment.business_id).filter(
            appointment=appointment
        ).update(cancelled_by=CancelledBy.HOLD_ENDED, cancelled_at=now)
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
    """A sweep: end every hold that is over (each in its own transaction); a hold whose job
    was lost is ended by the next sweep, or by the next booking of its time."""
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


def book_without_prepayment(*, appointment: Appointment, status: str = Status.BOOKED):
    """The desk lets a booking awaiting its prepayment through unpaid (``booked``, or
    ``confirmed`` when the client confirmed by phone): the hold ends, the time stays taken,
    the prepayment stays asked on the payment page. A repeat changes nothing; a booking
    that is no longer awaiting (its hold ended meanwhile, or it was paid) is refused."""
    if status not in (Status.BOOKED, Status.CONFIRMED):
        raise ValueError(status)
    with transaction.atomic():
        locked = (
            scoped(Appointment, appointment.business)
            .select_for_update(of=("self",))
            .get(pk=appointment.pk)
        )
        if locked.status == status and locked.hold_until is None:
            return locked
        if locked.status != Status.AWAITING_PAYMENT:
            raise Refused(
                _("This booking no longer awaits its prepayment: it is “%(status)s”.")
                % {"status": locked.get_status_display()},
                reason="not_awaiting",
                field="status",
                current=locked.status,
                to=status,
            )
        states.MACHINE.move(locked, status)
        locked.hold_until = None
        locked.save(update_fields=["status", "hold_until", "updated_at"])
    log.info("appointment %s booked by the desk without its prepayment", locked.pk)
    return locked


def _time_is_free(appointment: Appointment) -> bool:
    """Under its specialist's lock (appointment before specialist): nothing else occupies
    the appointment's time. An expired hold not yet ended still counts here, as it does for
    the desk's bookings (the database's no-overlap constraint would refuse the write)."""
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


def prepayment_arrived(*, appointment: Appointment, order, now: datetime | None = None) -> None:
    """Called by the payable's ``on_paid`` (inside the transaction that records the payment,
    under its link and order, the appointment locked) for an online booking awaiting its
    prepayment or cancelled. ``on_paid`` runs once per order (payments' state table), so a
    repeated callback or check decides nothing twice."""
    now = now or timezone.now()
    if appointment.status == Status.AWAITING_PAYMENT:
        # In time (or late, but the hold was not ended yet: no one could book its time
        # without ending it first, so the time is still the client's).
        states.MACHINE.move(appointment, Status.CONFIRMED)
        appointment.hold_until = None
        appointment.save(update_fields=["status", "hold_until", "updated_at"])
        return
    online = _online(appointment)
    if online is None or appointment.status != Status.CANCELLED:
        return
    if (
        online.cancelled_by == CancelledBy.HOLD_ENDED
        and not online.late_payment
        and appointment.starts_at > now
        and _time_is_free(appointment)
    ):
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
    _give_back(appointment=appointment, online=online, order=order)


def _give_back(*, appointment: Appointment, online: OnlineBooking, order) -> None:
    """Money for a cancelled booking goes back: queue the bank's refund where the provider
    can send it (the job and the decision commit together), else leave it to the salon."""
    from navbat.payments import providers

    refusal = providers.get(order.provider).refund_refusal(order=order, amount=order.paid_amount)
    if refusal:
        online.late_payment = LatePayment.TO_GIVE_BACK
    elif online.late_payment != LatePayment.TO_GIVE_BACK:
        online.late_payment = LatePayment.REFUNDING
    fields = ["late_payment"]
    if online.cancelled_by in (CancelledBy.CLIENT, CancelledBy.SALON):
        # What this cancellation gives back grows by the payment (the window reads it).
        online.refund_decided += order.paid_amount
        fields.append("refund_decided")
    online.save(update_fields=fields)
    log.warning(
        "prepayment %s came for appointment %s after it was cancelled (%s): %s",
        order.pk,
        appointment.pk,
        online.cancelled_by or "time taken",
        "left for the salon to give back" if refusal else "refunded by a job",
    )
    if not refusal:
        from .tasks import refund_late_prepayment

        refund_late_prepayment.enqueue(order.pk)


def _left_to_the_salon(order) -> None:
    OnlineBooking.objects.filter(
        business_id=order.business_id,
        appointment_id=order.payable_id,
        late_payment=LatePayment.REFUNDING,
    ).update(late_payment=LatePayment.TO_GIVE_BACK)


def give_back_late(*, order_id: int):
    """The job's body: refund to the card what a late prepayment holds, once (one key per
    order), outside any transaction (``refund_payment`` calls the bank). What is given back
    is worked out now: a salon that refunded meanwhile leaves less or nothing, a booking the
    desk restored meanwhile keeps its money. The bank refusing, or failing the refund,
    leaves it for the salon (``to_give_back``). Returns the refund, or None."""
    from navbat.payments.models import PaymentOrder, RefundState
    from navbat.payments.refunds import RefundConflict, refund_payment, refundable_amount

    order = PaymentOrder.objects.select_related("business").filter(pk=order_id).first()
    if order is None or order.payable_kind != PAYABLE_KIND:
        return None
    status = (
        scoped(Appointment, order.business)
        .filter(pk=order.payable_id)
        .values_list("status", flat=True)
        .first()
    )
    if status != Status.CANCELLED:
        log.info("late prepayment %s: the booking is on again, nothing given back", order_id)
        return None
    amount = refundable_amount(order)
    if amount <= 0:
        return None
    try:
        requested = refund_payment(
            business=order.business,
            order_id=order.pk,
            amount=amount,
            reason=_("Prepayment came after the booking was cancelled: refunded automatically"),
            automatic=True,
            idempotency_key=late_key(order.pk),
        )
    except RefundConflict as refused:
        log.warning("late prepayment %s not refunded: %s", order.reference, refused.reason)
        if refused.reason == "provider_cannot":
            _left_to_the_salon(order)
        return None
    refund = requested.refund
    if refund.state == RefundState.FAILED:
        log.warning("late prepayment %s: the bank failed the refund", order.reference)
        _left_to_the_salon(order)
    return refund
