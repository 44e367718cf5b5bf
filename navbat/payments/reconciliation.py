"""The daily check (F8): hold the last days' payment orders against the bank's answers and
list every difference for the owner. It never changes money by itself."""

import logging
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from navbat.kit.timeutil import local_datetime, to_local

from . import providers
from .models import Difference, PaymentOrder, State
from .providers import ProviderError
from .states import OPEN_STATES

log = logging.getLogger("navbat.payments")

LOOK_BACK = timedelta(days=3)
RUN_AT = time(4, 0)  # Tashkent night, after the bank's day closes
RUN_ZONE = "Asia/Tashkent"


def run_daily(*, now: datetime | None = None) -> int:
    """Compare every order of the last days that reached the bank; return how many
    differences were listed."""
    now = now or timezone.now()
    today = to_local(now, RUN_ZONE).date()
    orders = (
        PaymentOrder.objects.filter(created_at__gte=now - LOOK_BACK)
        .exclude(bank_order_id="")
        .exclude(state__in=OPEN_STATES)
        .select_related("business")
        .order_by("pk")
    )
    found = 0
    for order in orders.iterator():
        try:
            view = providers.get(order.provider).fetch(order=order)
        except ProviderError as error:
            found += _note(order, today, "unreachable", order.state, error.message)
            continue
        found += compare(order=order, view=view, day=today)
    return found


def compare(*, order: PaymentOrder, view: providers.BankView, day) -> int:
    found = 0
    if view.state != order.state and not (
        view.state == State.PENDING
        and order.state in (State.EXPIRED, State.DECLINED, State.CANCELLED)
    ):
        found += _note(order, day, "state", order.state, view.state)
    ours_paid = order.paid_amount if order.state not in OPEN_STATES else 0
    bank_paid = (
        view.paid_amount if view.state in (State.PAID, State.PARTLY_REFUNDED, State.REFUNDED) else 0
    )
    if ours_paid != bank_paid:
        found += _note(order, day, "paid_amount", str(ours_paid), str(bank_paid))
    if order.refunded_amount != view.refunded_amount:
        found += _note(
            order, day, "refunded_amount", str(order.refunded_amount), str(view.refunded_amount)
        )
    return found


def _note(order: PaymentOrder, day, what: str, ours: str, bank: str) -> int:
    _row, created = Difference.objects.get_or_create(
        business=order.business,
        order=order,
        found_on=day,
        what=what,
        defaults={"ours": ours[:200], "bank": bank[:200]},
    )
    if created:
        log.warning("reconciliation: %s %s ours=%s bank=%s", order.reference, what, ours, bank)
    return int(created)


def next_run_at(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    today = to_local(now, RUN_ZONE).date()
    candidate = local_datetime(today, RUN_AT, RUN_ZONE)
    return (
        candidate
        if candidate > now
        else local_datetime(today + timedelta(days=1), RUN_AT, RUN_ZONE)
    )


def schedule_next_daily() -> None:
    from .tasks import daily_reconciliation

    with transaction.atomic():
        daily_reconciliation.using(run_after=next_run_at()).enqueue()


def ensure_daily_scheduled() -> bool:
    """Seed the daily job once (the worker calls this at start); True when it seeded."""
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from .tasks import daily_reconciliation

    waiting = DBTaskResult.objects.filter(
        task_path=daily_reconciliation.module_path,
        status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
    )
    if waiting.exists():
        return False
    schedule_next_daily()
    return True
