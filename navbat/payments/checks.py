"""When an open order is asked about next: the one scheduler of the recurring check (F8),
used by the start of a payment and by each step of reconciliation."""

from datetime import datetime, timedelta

from .models import PaymentOrder
from .states import EXPIRY_MARGIN

FIRST_CHECK_AFTER = timedelta(seconds=60)
MAX_CHECK_INTERVAL = timedelta(minutes=10)


def deadline_of(order: PaymentOrder):
    """After this the bank's session is surely over: an order still open then expires."""
    return (order.expires_at or order.created_at) + EXPIRY_MARGIN


def next_interval(order: PaymentOrder, now: datetime) -> timedelta:
    """As long as the order has existed, between a minute and MAX_CHECK_INTERVAL: checks
    at about 1, 2, 4, 8, 16 … minutes of age."""
    age = now - order.created_at
    return min(max(age, FIRST_CHECK_AFTER), MAX_CHECK_INTERVAL)


def schedule_check(order: PaymentOrder) -> None:
    """Queue the check of ``order`` at its ``next_check_at``."""
    from .tasks import check_payment

    check_payment.using(run_after=order.next_check_at).enqueue(order.pk)
