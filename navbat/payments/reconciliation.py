"""Reconciliation (F8).

Two jobs hold our books against the bank:

* :func:`check_pending`, one step of the recurring check of an order still open: ask the
  bank and apply its answer; then check again later with a growing interval, until the
  bank's payment session (plus a margin) is over, when the order expires after one last
  answer from the bank. A late success settles the order whenever it is seen.
* :func:`run_daily`, the nightly check: first settle the refunds still at the bank (each
  by its own path, from the bank's operation under its key: :func:`navbat.payments.refunds.
  settle`), then compare the last days' orders with the bank's status and amounts and list
  each difference for the owner. The comparison itself never changes money.
"""

import logging
from datetime import datetime, time, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit import jobs
from navbat.kit.bankcalls import bank_call
from navbat.kit.timeutil import local_datetime, to_local

from . import differences, locks, providers, refunds, services
from .checks import deadline_of, next_interval, schedule_check
from .differences import (
    PAID_AMOUNT,
    REFUNDED_AMOUNT,
    STATE,
    UNKNOWN_AT_BANK,
    UNREACHABLE,
    note,
)
from .models import PaymentOrder, State
from .providers import ProviderError, ProviderUnavailable
from .selectors import refunded_by_bank
from .states import OPEN_STATES, SETTLED_STATES, refunded_state, transition

log = logging.getLogger("navbat.payments")

LOOK_BACK = timedelta(days=3)
RUN_AT = time(4, 0)  # Tashkent night, after the bank's day closes
RUN_ZONE = differences.DAY_ZONE


# ---------------------------------------------------------------- pending orders (F8)


@bank_call
def check_pending(
    *, order_id: int, now: datetime | None = None, scheduled_for: datetime | None = None
) -> PaymentOrder | None:
    """One reconciliation step for an order still open. The ``check_payment`` job passes
    the time it was ``scheduled_for``: a job superseded by a later step does nothing, so an
    order has one chain of checks however many jobs were queued for it."""
    order = PaymentOrder.objects.filter(pk=order_id).select_related("business").first()
    if order is None or order.state not in OPEN_STATES:
        return order
    superseded = (
        scheduled_for is not None
        and order.next_check_at is not None
        and order.next_check_at > scheduled_for
    )
    if superseded:
        return order
    now = now or timezone.now()
    answered = False
    try:
        order = services.refresh(order=order)
        answered = True
    except ProviderUnavailable:
        log.info("bank unavailable while checking %s; will retry", order.reference)
    except ProviderError as error:
        # "Unknown order" is an answer too: nothing there can be paid any more.
        answered = error.code == "not_found"
        log.warning("bank refused a status check of %s: %s", order.reference, error.message)
    with transaction.atomic():
        order = locks.lock_order(pk=order_id)
        if order.state not in OPEN_STATES:
            return order
        deadline = deadline_of(order)
        if now >= deadline and answered:
            transition(
                order=order,
                to=State.EXPIRED,
                failure_reason=_("The payment was not completed in time."),
            )
            log.info("payment %s expired unpaid", order.reference)
            return order
        next_at = now + next_interval(order, now)
        if now < deadline:
            next_at = min(next_at, deadline)
        order.next_check_at = next_at
        order.save(update_fields=["next_check_at", "updated_at"])
        schedule_check(order)
    return order


# -------------------------------------------------------------------- the daily check


def _unpaid(state: str) -> bool:
    return state not in SETTLED_STATES


@bank_call
def run_daily(*, now: datetime | None = None, business=None) -> int:
    """Compare every order of the last days that reached the bank (of ``business``, or of
    every business); return how many new differences were listed."""
    now = now or timezone.now()
    today = differences.day_of(now)
    settle_refunds(business=business)
    orders = (
        PaymentOrder.objects.filter(created_at__gte=now - LOOK_BACK, created_at__lte=now)
        .exclude(bank_order_id="")
        .select_related("business")
        .order_by("pk")
    )
    if business is not None:
        orders = orders.filter(business=business)
    found = 0
    for order in orders.iterator():
        try:
            view = providers.get(order.provider).fetch(order=order)
        except ProviderError as error:
            what = UNKNOWN_AT_BANK if error.code == "not_found" else UNREACHABLE
            found += note(order, today, what, order.state, error.message)
            continue
        found += compare(order=order, view=view, day=today)
    log.info("daily reconciliation: %s new differences", found)
    return found


def settle_refunds(*, business=None) -> int:
    """Ask after every refund to the card still at the bank (or requested long ago and
    never heard of): done ones are booked, once, by the refund's own path. How many were
    asked after; a bank that does not answer leaves them for the next check."""
    asked = 0
    for refund_id in refunds.due_for_settling(business=business).values_list("pk", flat=True):
        try:
            refunds.settle(refund_id=refund_id)
        except Exception:  # one refund's trouble must not stop the night's check
            log.exception("daily reconciliation: refund %s not settled", refund_id)
        asked += 1
    return asked


def compare(*, order: PaymentOrder, view: providers.BankView, day) -> int:
    """List where ``order`` and the bank's ``view`` disagree about money. Open, declined,
    expired and cancelled are all "not paid": no money moved, nothing to list. The bank
    knows only its own refunds: ours are counted as it would see them."""
    found = 0
    ours_refunded = refunded_by_bank(order) if order.refunded_amount else 0
    ours_state = order.state
    if order.state in SETTLED_STATES:
        ours_state = refunded_state(
            PaymentOrder(paid_amount=order.paid_amount, refunded_amount=ours_refunded)
        )
    if view.state != ours_state and not (_unpaid(view.state) and _unpaid(ours_state)):
        found += note(order, day, STATE, ours_state, view.state)
    ours_paid = order.paid_amount if order.state in SETTLED_STATES else 0
    bank_paid = view.paid_amount if view.state in SETTLED_STATES else 0
    if ours_paid != bank_paid:
        found += note(order, day, PAID_AMOUNT, str(ours_paid), str(bank_paid))
    if ours_refunded != view.refunded_amount:
        found += note(order, day, REFUNDED_AMOUNT, str(ours_refunded), str(view.refunded_amount))
    return found


def next_run_at(now: datetime | None = None) -> datetime:
    now = now or timezone.now()
    today = to_local(now, RUN_ZONE).date()
    candidate = local_datetime(today, RUN_AT, RUN_ZONE)
    return (
        candidate
        if candidate > now
        else local_datetime(today + timedelta(days=1), RUN_AT, RUN_ZONE)
    )


def schedule_next_daily(*, now: datetime | None = None) -> bool:
    """Queue the next night's run, unless one is already waiting (two chains, say from two
    workers seeding at once, merge back into one). True when it queued."""
    from .tasks import daily_reconciliation

    with transaction.atomic():
        if jobs.is_waiting(daily_reconciliation):
            return False
        daily_reconciliation.using(run_after=next_run_at(now)).enqueue()
    return True


def ensure_daily_scheduled() -> bool:
    """Seed the nightly jobs once (the worker calls this at start): this check and the
    retention purge (payments.retention). True when it seeded the check."""
    from .retention import schedule_next_purge

    schedule_next_purge()
    return schedule_next_daily()
