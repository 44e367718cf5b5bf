"""Checkout callbacks: what Uzum Bank POSTs to ``uzum/checkout/<connection>/...``.

A callback carries no signature, no amount and no status (uzum-bank.md §1), so it is only a
trigger, and its address (the connection's public id) is no secret: anyone can send one.
The views count, bound and store it (:mod:`navbat.uzum.ingest`: 429 past the limits,
nothing stored then) and queue one job in the same transaction.

The job asks the bank about the order the callback names (only that answer is applied),
at most once per order at a time: callbacks for an order whose status pull is pending wait
for that pull (:class:`~navbat.uzum.models.StatusPull`). Callbacks naming no order of this
connection never cost a status pull. Every retry is bounded; what is left over is settled
by reconciliation, which checks every open order anyway.
"""

import logging
import random
import uuid
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from navbat.kit import ratelimit
from navbat.payments import entry as payment_entry
from navbat.payments import selectors as payment_selectors
from navbat.payments.models import PaymentOrder
from navbat.payments.providers import ProviderError, ProviderUnavailable
from navbat.payments.services import apply_bank_view

from .ingest import LIVE_STATES, STALE_PULL, WAITING, receive
from .models import Callback, CallbackKind, Connection, RateCounter, StatusPull
from .provider import NAME, UzumProvider
from .tasks import PRIORITY_CLOSED, PRIORITY_OURS, PRIORITY_RETRY

log = logging.getLogger("navbat.uzum")
security_log = logging.getLogger("navbat.security")

# Status pulls per connection and minute: for live orders and for the others (settled,
# expired, cancelled: only a late success matters there).
PULL_WINDOW = 60
PULLS_PER_WINDOW, CLOSED_PULLS_PER_WINDOW = 60, 10
# One order is asked at most once per this gap; a callback meanwhile waits for the next pull.
MIN_PULL_GAP = timedelta(seconds=2)
# The order may not be committed yet (a callback overtaking our register call); waits in
# seconds before each new look, then the callback is ignored.
NOT_FOUND_WAITS = (2, 5, 15)
# The bank did not answer the status pull: waits before asking again; then the order is
# left to reconciliation (pending orders) and the daily check.
UNAVAILABLE_WAITS = (10, 30, 120, 600)
# The connection's pull budget was used up: a pull waits for the next window this often.
MAX_BUDGET_WAITS = 3


@csrf_exempt
@transaction.non_atomic_requests
def payment_view(request: HttpRequest, connection: uuid.UUID):
    return receive(request, connection, CallbackKind.PAYMENT)


@csrf_exempt
@transaction.non_atomic_requests
def event_view(request: HttpRequest, connection: uuid.UUID):
    return receive(request, connection, CallbackKind.EVENT)


@csrf_exempt
@transaction.non_atomic_requests
def receipt_view(request: HttpRequest, connection: uuid.UUID):
    return receive(request, connection, CallbackKind.RECEIPT)


# ------------------------------------------------------------------------------ the job


def _note(callback_ids, outcome: str, *, handled: bool) -> str:
    changes: dict = {"outcome": outcome[:200], "awaiting_pull": False}
    if handled:
        changes["handled_at"] = timezone.now()
    Callback.objects.filter(pk__in=list(callback_ids)).update(**changes)
    return outcome


def _later(callback: Callback, *, attempt: int, run_after: datetime, outcome: str) -> str:
    from .tasks import handle_callback

    with transaction.atomic():
        handle_callback.using(run_after=run_after, priority=PRIORITY_RETRY).enqueue(
            callback.pk, attempt=attempt
        )
        return _note([callback.pk], outcome, handled=False)


def _find_order(connection: Connection, callback: Callback) -> PaymentOrder | None:
    return payment_selectors.order_of_account(
        business=connection.business,
        provider=NAME,
        account_id=connection.pk,
        bank_order_id=callback.bank_order_id or "",
        reference=callback.order_number or "",
    )


def _names_foreign_order(connection: Connection, callback: Callback) -> bool:
    """Does the callback name an order of another connection or business?"""
    return payment_entry.names_order_elsewhere(
        provider=NAME,
        account_id=connection.pk,
        bank_order_id=callback.bank_order_id or "",
        reference=callback.order_number or "",
    )


def handle(*, callback_id: int, attempt: int = 0) -> str:
    """The body of the ``handle_callback`` job; returns the outcome it recorded."""
    callback = (
        Callback.objects.select_related("connection", "connection__business", "order")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None or callback.handled_at is not None:
        return ""
    connection = callback.connection
    if callback.kind == CallbackKind.RECEIPT:
        return _note([callback.pk], "receipt stored", handled=True)
    order = callback.order or _find_order(connection, callback)
    if order is None:
        return _no_order(connection, callback, attempt)
    if callback.bank_order_id and order.bank_order_id not in ("", callback.bank_order_id):
        security_log.warning(
            "uzum callback %s on connection %s: order number %s is bank order %s, not %s: ignored",
            callback.pk,
            connection.public_id,
            callback.order_number,
            order.bank_order_id,
            callback.bank_order_id,
        )
        return _note([callback.pk], "order id does not match: ignored", handled=True)
    if callback.order_number and callback.order_number != order.reference:
        # Found by the bank's id; the bank's answer below is about that order only.
        security_log.warning(
            "uzum callback %s on connection %s: bank order %s is our %s, not %r",
            callback.pk,
            connection.public_id,
            callback.bank_order_id,
            order.reference,
            callback.order_number,
        )
    bank_order_id = callback.bank_order_id or order.bank_order_id
    if not bank_order_id:
        # Named by our reference only, before our register call stored the bank's id.
        return _no_order(connection, callback, attempt, what="bank order id not known yet")
    return _ask_bank(connection, callback, order, bank_order_id)


def _no_order(
    connection: Connection, callback: Callback, attempt: int, *, what: str = "order not found"
) -> str:
    if _names_foreign_order(connection, callback):
        security_log.warning(
            "uzum callback %s on connection %s names an order of another connection "
            "(bank order %r, number %r): ignored",
            callback.pk,
            connection.public_id,
            callback.bank_order_id,
            callback.order_number,
        )
        return _note([callback.pk], "order of another connection: ignored", handled=True)
    if attempt < len(NOT_FOUND_WAITS):
        return _later(
            callback,
            attempt=attempt + 1,
            run_after=timezone.now() + timedelta(seconds=NOT_FOUND_WAITS[attempt]),
            outcome=f"{what}: later",
        )
    security_log.warning(
        "uzum callback %s on connection %s: %s (bank order %r, number %r): ignored",
        callback.pk,
        connection.public_id,
        what,
        callback.bank_order_id,
        callback.order_number,
    )
    return _note([callback.pk], f"{what}: ignored", handled=True)


# ------------------------------------------------------------------- status pulls


def _ask_bank(connection: Connection, callback: Callback, order: PaymentOrder, bank_order_id):
    """Join the order's pending pull, or ask the bank now when the order's gap and the
    connection's budget allow, or leave one pending pull for later."""
    if _join_pending(order.pk, [callback.pk]):
        return WAITING
    now = timezone.now()
    live = order.state in LIVE_STATES
    if order.checked_at and now < order.checked_at + MIN_PULL_GAP:
        due = order.checked_at + MIN_PULL_GAP
        return _pend(connection, order, bank_order_id, [callback.pk], due=due, live=live)
    reopens = _take_budget(connection.pk, live=live)
    if reopens is not None:
        return _pend(
            connection,
            order,
            bank_order_id,
            [callback.pk],
            due=reopens,
            live=live,
            budget_waits=1,
            outcome="pull budget used up: later",
        )
    return _pull(connection, order, bank_order_id, [callback.pk], attempt=0)


def _take_budget(connection_id: int, *, live: bool) -> datetime | None:
    """Count one status pull against the connection's budget: None when allowed, else
    when the window reopens (with a little jitter, so that waiting pulls do not all wake
    in the same second)."""
    kind, limit = ("live", PULLS_PER_WINDOW) if live else ("closed", CLOSED_PULLS_PER_WINDOW)
    verdict = ratelimit.hit(
        RateCounter,
        [ratelimit.Limit(f"uzum:pulls:{connection_id}:{kind}", limit)],
        window=PULL_WINDOW,
    )
    if verdict.allowed:
        return None
    jitter = timedelta(milliseconds=random.randrange(5000))  # noqa: S311 - not a secret
    return timezone.now() + timedelta(seconds=verdict.retry_after) + jitter


def _join_pending(order_id: int, callback_ids: list[int], *, attempt: int = 0) -> bool:
    """Wait for the order's pending pull, if there is one (its row is locked while the
    callbacks join, so the pull's start cannot slip between)."""
    fresh_since = timezone.now() - STALE_PULL
    with transaction.atomic():
        joined = StatusPull.objects.filter(order_id=order_id, requested_at__gte=fresh_since).update(
            attempt=Greatest(F("attempt"), attempt)
        )
        if joined:
            Callback.objects.filter(pk__in=callback_ids).update(awaiting_pull=True, outcome=WAITING)
    return bool(joined)


def _pend(
    connection: Connection,
    order: PaymentOrder,
    bank_order_id: str,
    callback_ids: list[int],
    *,
    due: datetime,
    live: bool,
    attempt: int = 0,
    budget_waits: int = 0,
    outcome: str = WAITING,
) -> str:
    """Leave one pending pull of the order, due at ``due``, with its job; or join the one
    that is there already."""
    from .tasks import pull_status

    retry = attempt > 0 or budget_waits > 0
    priority = PRIORITY_RETRY if retry else (PRIORITY_OURS if live else PRIORITY_CLOSED)
    for _round in range(3):
        if _join_pending(order.pk, callback_ids, attempt=attempt):
            return outcome
        with transaction.atomic():
            stale = timezone.now() - STALE_PULL
            StatusPull.objects.filter(order_id=order.pk, requested_at__lt=stale).delete()
            pull = StatusPull.objects.bulk_create(
                [
                    StatusPull(
                        business_id=connection.business_id,
                        connection=connection,
                        order=order,
                        bank_order_id=bank_order_id,
                        requested_at=timezone.now(),
                        attempt=attempt,
                        budget_waits=budget_waits,
                    )
                ],
                ignore_conflicts=True,
            )
            created = StatusPull.objects.filter(
                order_id=order.pk, requested_at=pull[0].requested_at
            )
            row = created.first()
            if row is None:
                continue  # another job left one first: join it
            Callback.objects.filter(pk__in=callback_ids).update(
                awaiting_pull=True, outcome=outcome[:200]
            )
            pull_status.using(run_after=due, priority=priority).enqueue(row.pk)
        return outcome
    raise RuntimeError(f"no pending status pull could be left for order {order.pk}")


def _pull(
    connection: Connection,
    order: PaymentOrder,
    bank_order_id: str,
    callback_ids: list[int],
    *,
    attempt: int,
) -> str:
    """Ask the bank now (no row lock is held) and apply its answer."""
    live = order.state in LIVE_STATES
    try:
        view = UzumProvider().fetch_bank_order(connection=connection, bank_order_id=bank_order_id)
    except ProviderUnavailable:
        if attempt < len(UNAVAILABLE_WAITS):
            due = timezone.now() + timedelta(seconds=UNAVAILABLE_WAITS[attempt])
            return _pend(
                connection,
                order,
                bank_order_id,
                callback_ids,
                due=due,
                live=live,
                attempt=attempt + 1,
                outcome="bank unreachable: later",
            )
        log.warning("bank unreachable about order %s; left to reconciliation", order.reference)
        return _note(callback_ids, "bank unreachable: left to reconciliation", handled=True)
    except ProviderError as error:
        security_log.warning(
            "uzum callbacks %s on connection %s name bank order %s; the bank says: %s",
            callback_ids,
            connection.public_id,
            bank_order_id,
            error.code,
        )
        return _note(callback_ids, f"bank refused the status query ({error.code})", handled=True)
    before = order.state
    order = apply_bank_view(order_id=order.pk, view=view)
    return _note(callback_ids, f"{before} → {order.state}", handled=True)


def run_pull(*, pull_id: int) -> str:
    """The body of the ``pull_status`` job: start the pending pull (the callbacks waiting
    for it are answered by it; those that come later leave the next one), then ask."""
    from .tasks import pull_status

    pull = StatusPull.objects.select_related("connection", "order").filter(pk=pull_id).first()
    if pull is None:
        return ""
    connection, order = pull.connection, pull.order
    live = order.state in LIVE_STATES
    reopens = _take_budget(connection.pk, live=live)
    if reopens is not None and pull.budget_waits < MAX_BUDGET_WAITS:
        with transaction.atomic():
            StatusPull.objects.filter(pk=pull.pk).update(budget_waits=F("budget_waits") + 1)
            pull_status.using(run_after=reopens, priority=PRIORITY_RETRY).enqueue(pull.pk)
        return "pull budget used up: later"
    with transaction.atomic():
        if not StatusPull.objects.filter(pk=pull.pk).delete()[0]:
            return ""
        waiting = list(
            Callback.objects.filter(
                order_id=order.pk, awaiting_pull=True, handled_at__isnull=True
            ).values_list("pk", flat=True)
        )
        Callback.objects.filter(pk__in=waiting).update(awaiting_pull=False)
    if reopens is not None:
        log.warning("pull budget of connection %s used up; left to reconciliation", connection.pk)
        return _note(waiting, "pull budget used up: left to reconciliation", handled=True)
    return _pull(connection, order, pull.bank_order_id, waiting, attempt=pull.attempt)


# ------------------------------------------------------------------------------ retention


def purge_before(*, before: datetime) -> dict[str, int]:
    """Retention: callbacks received before ``before`` and pending pulls left from then go;
    rate counters go once their window is a day old."""
    from navbat.payments.retention import delete_in_batches

    return {
        "uzum callbacks": delete_in_batches(Callback.objects.filter(received_at__lt=before)),
        "uzum status pulls": delete_in_batches(StatusPull.objects.filter(requested_at__lt=before)),
        "rate counters": ratelimit.purge(RateCounter, older_than=24 * 3600),
    }
