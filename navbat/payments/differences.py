"""Where our books and the bank disagree (payments.models.Difference): listed for the owner,
never settled by changing money. The daily reconciliation writes them, and so does the
application of a bank's answer that our books cannot follow (payments.bank_states)."""

import logging
from datetime import datetime

from django.utils import timezone

from navbat.kit.timeutil import to_local

from .models import Difference, PaymentOrder

log = logging.getLogger("navbat.payments")

# The day a difference is found on, whatever the salon's zone: the bank's day (Tashkent).
DAY_ZONE = "Asia/Tashkent"

# What a difference is about (Difference.what).
STATE, PAID_AMOUNT, REFUNDED_AMOUNT, UNREACHABLE, UNKNOWN_AT_BANK = (
    "state",
    "paid_amount",
    "refunded_amount",
    "unreachable",
    "unknown_at_bank",
)


def day_of(now: datetime | None = None):
    return to_local(now or timezone.now(), DAY_ZONE).date()


def note(order: PaymentOrder, day, what: str, ours: str, bank: str) -> int:
    """List one difference (once per order, day and subject); 1 when it is new."""
    _row, created = Difference.objects.get_or_create(
        business_id=order.business_id,
        order=order,
        found_on=day,
        what=what,
        defaults={"ours": ours[:200], "bank": bank[:200]},
    )
    if created:
        log.warning("reconciliation: %s %s ours=%s bank=%s", order.reference, what, ours, bank)
    return int(created)
