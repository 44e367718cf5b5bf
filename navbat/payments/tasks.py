"""Background jobs of payments: the pending-order checks, refunds still at the bank, the
refund of a payment made twice, and the daily reconciliation."""

from django_tasks import task


@task(takes_context=True)
def check_payment(context, order_id: int) -> None:
    """Ask the bank about one pending order; reschedules itself with a growing interval
    until the order is settled or expired (see :mod:`navbat.payments.reconciliation`)."""
    from .reconciliation import check_pending

    check_pending(order_id=order_id, scheduled_for=context.task_result.task.run_after)


@task(takes_context=True)
def check_refund(context, refund_id: int) -> None:
    """Ask the bank what became of a refund still at the bank; reschedules itself until the
    refund is done or failed (:func:`navbat.payments.refunds.settle`)."""
    from .refunds import settle

    settle(refund_id=refund_id, scheduled_for=context.task_result.task.run_after)


@task()
def refund_duplicate(order_id: int) -> None:
    """Give back a payment that paid again what another payment of its link had paid
    (queued when it was recorded; :func:`navbat.payments.duplicates.give_back`)."""
    from .duplicates import give_back

    give_back(order_id=order_id)


@task()
def daily_reconciliation() -> None:
    """Hold the last days' payments against the bank; list differences, change no money.
    Reschedules itself for the next night, whatever happened tonight."""
    from . import reconciliation

    try:
        reconciliation.run_daily()
    finally:
        reconciliation.schedule_next_daily()


@task()
def purge_old_records() -> None:
    """Delete stored callbacks and finished jobs past the retention period; reschedules
    itself for the next night, whatever happened tonight."""
    from . import retention

    try:
        retention.purge()
    finally:
        retention.schedule_next_purge()
