"""Checkout callbacks: what Uzum Bank POSTs to ``uzum/checkout/<connection>/...``.

A callback carries no signature, no amount and no status (uzum-bank.md §1), so it is only a
trigger. The view stores it once per identical body and queues one job in the same
transaction, then answers 200 at once (else the bank repeats it). The job finds our order
of *this* connection and asks the bank for the order's status; only that answer is applied.
"""

import hashlib
import json
import logging
import random
import uuid
from datetime import datetime, timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.http import HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from navbat.kit.tenancy import scoped
from navbat.payments.models import PaymentOrder
from navbat.payments.providers import ProviderError, ProviderUnavailable
from navbat.payments.services import apply_bank_view

from .models import Callback, CallbackKind, Connection
from .provider import NAME, UzumProvider
from .services import connection_at

log = logging.getLogger("navbat.uzum")
security_log = logging.getLogger("navbat.security")

MAX_BODY_BYTES = 64 * 1024
# Status pulls caused by callbacks, per connection: a flood of (forged or real) callbacks
# must not turn into a flood of calls to the bank with the salon's keys.
PULLS_PER_WINDOW = 60
PULL_WINDOW = timedelta(minutes=1)
# The same order asked about this recently: the answer is fresh, ask again a little later.
MIN_PULL_GAP = timedelta(seconds=2)
# The order may not be committed yet (a callback overtaking our register call); waits in
# seconds before each new look.
NOT_FOUND_WAITS = (2, 5, 15)
# The bank did not answer the status pull; after these waits the order is left to the
# reconciliation job (pending orders) and the daily check.
UNAVAILABLE_WAITS = (10, 30, 120, 600)


# ------------------------------------------------------------------------------ views


def _error(status: int, error: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": error}, status=status)


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "?")


def _order_id(value) -> str | None:
    """The bank's order id as we store it (canonical UUID), or None when it is not one."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _references(kind: str, body: dict) -> tuple[str, str] | None:
    """(bank order id, our order number) named by the body, or None when it is malformed."""
    raw_id, number = body.get("orderId"), body.get("orderNumber")
    order_id = _order_id(raw_id) if raw_id is not None else ""
    if order_id is None:
        return None
    if number is None:
        number = ""
    if not isinstance(number, str) or len(number) > 64:
        return None
    if kind == CallbackKind.RECEIPT:
        return (order_id, number) if order_id else None
    return (order_id, number) if (order_id or number) else None


def _parse(request: HttpRequest) -> dict | str:
    """The JSON object of the body, or what is wrong with it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return "bad Content-Length"
    if declared > MAX_BODY_BYTES:
        return "body too large"
    try:
        raw = request.body
    except RequestDataTooBig:
        return "body too large"
    if len(raw) > MAX_BODY_BYTES:
        return "body too large"
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return "body is not JSON"
    if not isinstance(body, dict):
        return "body is not a JSON object"
    return body


def digest_of(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _receive(request: HttpRequest, public_id: uuid.UUID, kind: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = connection_at(public_id)
    if connection is None:
        security_log.warning(
            "uzum %s callback for unknown connection %s from %s",
            kind,
            public_id,
            _client_address(request),
        )
        return _error(404, "unknown connection")
    body = _parse(request)
    references = _references(kind, body) if isinstance(body, dict) else None
    if references is None:
        problem = body if isinstance(body, str) else "no valid orderId / orderNumber"
        security_log.warning(
            "uzum %s callback on connection %s from %s refused: %s",
            kind,
            connection.public_id,
            _client_address(request),
            problem,
        )
        return _error(400, problem)
    store(connection=connection, kind=kind, body=body, references=references)
    return JsonResponse({"ok": True})


def store(
    *, connection: Connection, kind: str, body: dict, references: tuple[str, str]
) -> Callback | None:
    """Keep the callback once and queue its job with it; a repeat only counts. Returns the
    new row, or None for a repeat."""
    from .tasks import handle_callback

    digest = digest_of(body)
    with transaction.atomic():
        try:
            with transaction.atomic():
                callback = Callback.objects.create(
                    business=connection.business,
                    connection=connection,
                    kind=kind,
                    digest=digest,
                    body=body,
                    bank_order_id=references[0],
                    order_number=references[1],
                )
        except IntegrityError:
            # The same body again (the bank repeats until it hears 200, maybe in parallel).
            scoped(Callback, connection.business).filter(
                connection=connection, kind=kind, digest=digest
            ).update(repeats=F("repeats") + 1)
            return None
        # The job row commits with the callback or not at all (the queue is in the database).
        handle_callback.enqueue(callback.pk)
    return callback


@csrf_exempt
def payment_view(request: HttpRequest, connection: uuid.UUID):
    return _receive(request, connection, CallbackKind.PAYMENT)


@csrf_exempt
def event_view(request: HttpRequest, connection: uuid.UUID):
    return _receive(request, connection, CallbackKind.EVENT)


@csrf_exempt
def receipt_view(request: HttpRequest, connection: uuid.UUID):
    return _receive(request, connection, CallbackKind.RECEIPT)


# ------------------------------------------------------------------------------ the job


def _note(callback: Callback, outcome: str, *, handled: bool) -> str:
    changes: dict = {"outcome": outcome[:200]}
    if handled:
        changes["handled_at"] = timezone.now()
    Callback.objects.filter(pk=callback.pk).update(**changes)
    return outcome


def _later(callback: Callback, *, attempt: int, run_after: datetime, outcome: str) -> str:
    from .tasks import handle_callback

    with transaction.atomic():
        handle_callback.using(run_after=run_after).enqueue(callback.pk, attempt=attempt)
        return _note(callback, outcome, handled=False)


def _orders_of(connection: Connection):
    return scoped(PaymentOrder, connection.business).filter(provider=NAME, account_id=connection.pk)


def _find_order(connection: Connection, callback: Callback) -> PaymentOrder | None:
    orders = _orders_of(connection)
    order = None
    if callback.bank_order_id:
        order = orders.filter(bank_order_id=callback.bank_order_id).first()
    if order is None and callback.order_number:
        order = orders.filter(reference=callback.order_number).first()
    return order


def _names_foreign_order(connection: Connection, callback: Callback) -> bool:
    """Does the callback name an order of another connection or business?"""
    named = Q(pk__in=[])
    if callback.bank_order_id:
        named |= Q(bank_order_id=callback.bank_order_id)
    if callback.order_number:
        named |= Q(reference=callback.order_number)
    others = PaymentOrder.objects.filter(named).exclude(provider=NAME, account_id=connection.pk)
    return others.exists()


def take_pull(connection: Connection) -> datetime | None:
    """Count one status pull against the connection's window: None when allowed, else the
    moment the window reopens."""
    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        now = timezone.now()
        started = row.pull_window_started_at
        if started is None or now >= started + PULL_WINDOW:
            row.pull_window_started_at, row.pull_window_count = now, 1
        elif row.pull_window_count >= PULLS_PER_WINDOW:
            return started + PULL_WINDOW
        else:
            row.pull_window_count += 1
        row.save(update_fields=["pull_window_started_at", "pull_window_count"])
    return None


def handle(*, callback_id: int, attempt: int = 0) -> str:
    """The body of the ``handle_callback`` job; returns the outcome it recorded."""
    callback = (
        Callback.objects.select_related("connection", "connection__business")
        .filter(pk=callback_id)
        .first()
    )
    if callback is None or callback.handled_at is not None:
        return ""
    connection = callback.connection
    if callback.kind == CallbackKind.RECEIPT:
        return _note(callback, "receipt stored", handled=True)
    order = _find_order(connection, callback)
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
        return _note(callback, "order id does not match: ignored", handled=True)
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
    now = timezone.now()
    if order.checked_at and now - order.checked_at < MIN_PULL_GAP:
        return _later(
            callback,
            attempt=attempt,
            run_after=order.checked_at + MIN_PULL_GAP,
            outcome="asked the bank just now: later",
        )
    reopens = take_pull(connection)
    if reopens is not None:
        # Spread the waiting jobs a little so they do not all wake in the same second.
        jitter = timedelta(milliseconds=random.randrange(5000))  # noqa: S311 - not a secret
        return _later(
            callback, attempt=attempt, run_after=reopens + jitter, outcome="rate limited: later"
        )
    try:
        view = UzumProvider().fetch_bank_order(connection=connection, bank_order_id=bank_order_id)
    except ProviderUnavailable:
        if attempt < len(UNAVAILABLE_WAITS):
            return _later(
                callback,
                attempt=attempt + 1,
                run_after=now + timedelta(seconds=UNAVAILABLE_WAITS[attempt]),
                outcome="bank unreachable: later",
            )
        log.warning("bank unreachable for callback %s; left to reconciliation", callback.pk)
        return _note(callback, "bank unreachable: left to reconciliation", handled=True)
    except ProviderError as error:
        security_log.warning(
            "uzum callback %s on connection %s names bank order %s; the bank says: %s",
            callback.pk,
            connection.public_id,
            bank_order_id,
            error.code,
        )
        return _note(callback, f"bank refused the status query ({error.code})", handled=True)
    before = order.state
    order = apply_bank_view(order_id=order.pk, view=view)
    return _note(callback, f"{before} → {order.state}", handled=True)


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
        return _note(callback, "order of another connection: ignored", handled=True)
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
    return _note(callback, f"{what}: ignored", handled=True)
