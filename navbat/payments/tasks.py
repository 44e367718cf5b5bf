"""Background jobs of payments: the pending-order checks and the daily reconciliation."""

from django_tasks import task


@task()
def check_payment(order_id: int) -> None:
    """Ask the bank about one pending order; reschedules itself with a growing interval."""
    from .services import check_pending

    check_pending(order_id=order_id)


@task()
def daily_reconciliation() -> None:
    """Hold the last days' payments against the bank; list differences, change no money.
    Reschedules itself for the next night."""
    from . import reconciliation

    reconciliation.run_daily()
    reconciliation.schedule_next_daily()
