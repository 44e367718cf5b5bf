"""Retention: what strangers made us store, and the job queue's finished rows, do not grow
without end. A daily job deletes them once older than ``NAVBAT_RETENTION_DAYS`` (30 by
default): finished jobs (succeeded or failed) here, and what each payment provider kept of
the requests it received (Uzum's callbacks, for one) through ``Provider.purge_before``.
Money rows (orders, transactions) are never purged."""

import logging
from datetime import datetime, time, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from navbat.kit import jobs, ratelimit
from navbat.kit.models import PublicCounter
from navbat.kit.timeutil import local_datetime, to_local

from . import providers

log = logging.getLogger("navbat.payments")

DEFAULT_DAYS = 30
BATCH = 5000  # rows per DELETE: no long lock, no huge transaction
RUN_AT = time(4, 30)  # Tashkent night, after the daily reconciliation
RUN_ZONE = "Asia/Tashkent"


def retention_days() -> int:
    return max(1, int(getattr(settings, "NAVBAT_RETENTION_DAYS", DEFAULT_DAYS)))


def delete_in_batches(queryset) -> int:
    """Delete the rows of ``queryset`` a batch at a time; how many went."""
    total = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        total += queryset.model._base_manager.filter(pk__in=ids).delete()[0]


def purge(*, now: datetime | None = None) -> dict[str, int]:
    """Delete what is older than the retention period; how many rows of each kind went."""
    now = now or timezone.now()
    before = now - timedelta(days=retention_days())
    counts = {"finished jobs": delete_in_batches(jobs.finished_before(before))}
    # The public pages' rate counters are worth a day at most (navbat.booking.limits).
    counts["public rate counters"] = ratelimit.purge(PublicCounter, older_than=24 * 3600, now=now)
    for provider in providers.registered():
        counts.update(provider.purge_before(before=before))
    log.info("retention: purged %s", ", ".join(f"{n} {what}" for what, n in counts.items()))
    return counts


def next_run_at(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    today = to_local(now, RUN_ZONE).date()
    candidate = local_datetime(today, RUN_AT, RUN_ZONE)
    if candidate > now:
        return candidate
    return local_datetime(today + timedelta(days=1), RUN_AT, RUN_ZONE)


def schedule_next_purge(*, now: datetime | None = None) -> bool:
    """Queue the next night's purge unless one is waiting already; True when it queued."""
    from .tasks import purge_old_records

    with transaction.atomic():
        if jobs.is_waiting(purge_old_records):
            return False
        purge_old_records.using(run_after=next_run_at(now)).enqueue()
    return True
