"""Background jobs of booking: the end of an unpaid hold, and giving back a prepayment that
came after its time was taken."""

from django_tasks import task


@task()
def end_hold(appointment_id: int) -> None:
    """Queued, when an online booking starts waiting for its prepayment, to run at the end
    of its hold: cancels it if it is still unpaid (:func:`navbat.booking.holds.end_hold`),
    then ends any other hold that is over (one whose job was lost: the job is queued after
    the booking commits), a bounded sweep through the index of holds."""
    from . import holds

    holds.end_hold(appointment_id=appointment_id)
    holds.end_overdue_holds()


@task()
def refund_late_prepayment(order_id: int) -> None:
    """Send back a prepayment recorded after its hold ended and its time was taken
    (:func:`navbat.booking.holds.give_back_late`)."""
    from .holds import give_back_late

    give_back_late(order_id=order_id)


@task()
def refund_cancelled(appointment_id: int) -> None:
    """Send back what a cancelled online booking's payments hold, as its cancellation
    decided (:func:`navbat.booking.cancellation.give_back_cancelled`)."""
    from .cancellation import give_back_cancelled

    give_back_cancelled(appointment_id=appointment_id)
