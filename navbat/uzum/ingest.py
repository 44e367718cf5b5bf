"""The edge of the Checkout callback URLs: what happens before a callback is stored.

The address of a connection's callbacks is no secret, so every request is counted first,
in the database so that every web process counts against one limit: per source address
and per connection, or per order when it names a live order of this connection (a flood of
forged callbacks then cannot shut out the bank's callbacks about a payment in progress).
Past the limit: 429, nothing stored. Then the body (bounded in size and depth) is stored
once per identical body, with its job, in the same transaction as the count: one commit.
"""

import hashlib
import ipaddress
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseNotAllowed, JsonResponse
from django.utils import timezone

from navbat.kit import ratelimit
from navbat.kit.jsonbody import BadJSON, loads_bounded
from navbat.kit.net import client_ip
from navbat.payments.models import PaymentOrder, State
from navbat.payments.states import OPEN_STATES

from .models import Callback, CallbackKind, Connection, RateCounter, StatusPull
from .provider import NAME
from .tasks import PRIORITY_FRESH, PRIORITY_OURS

security_log = logging.getLogger("navbat.security")

# A real callback is a few hundred bytes (the receipt's URL is the longest field).
MAX_BODY_BYTES = 8 * 1024
# Callbacks accepted per minute (NAVBAT_CALLBACK_LIMIT_* settings): per source address and
# per connection for callbacks that name no live order of the connection, per order for
# those that do (the bank repeats a callback at most 5 times).
LIMIT_WINDOW = 60
PER_ADDRESS, PER_CONNECTION, PER_ORDER = 300, 120, 300
# Orders a callback can still change: open, or declined with the payment form still open.
LIVE_STATES = OPEN_STATES | {State.DECLINED}
WAITING = "waiting for the status pull"
# A pending pull older than this lost its job (a worker that failed it): start afresh.
STALE_PULL = timedelta(minutes=15)

# public id → (valid until, monotonic seconds; the connection or None), per process. One
# cache for both of the bank's entries: the callbacks and the Merchant API's /check.
CONNECTION_CACHE_SECONDS = 60.0
CONNECTION_CACHE_SIZE = 4096


@dataclass(frozen=True)
class Entry:
    id: int
    business_id: int
    public_id: uuid.UUID


_connections: dict[uuid.UUID, tuple[float, Connection | None]] = {}


def cached_connection(public_id: uuid.UUID) -> Connection | None:
    """The connection at this address (with its business, fee schedule and register), read
    at most once a minute per process; a change saved in this process is seen at once (the
    receiver below), in other processes within the minute. Callers only read it: the same
    object serves every thread of the process. The address is the entry: no business is
    known yet, so this is an unscoped read."""
    now = time.monotonic()
    cached = _connections.get(public_id)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = (
        Connection.objects.filter(public_id=public_id)
        .select_related("business", "fee_schedule", "register")
        .first()
    )
    if len(_connections) >= CONNECTION_CACHE_SIZE:
        _connections.clear()  # random ids in a flood must not grow the cache without end
    _connections[public_id] = (now + CONNECTION_CACHE_SECONDS, row)
    return row


def connection_entry(public_id: uuid.UUID) -> Entry | None:
    row = cached_connection(public_id)
    return Entry(row.pk, row.business_id, public_id) if row else None


@receiver(post_save, sender=Connection)
@receiver(post_delete, sender=Connection)
def _forget_connection(sender, instance, **kwargs):
    # Now, and again at the commit: a request in between may have cached the row as it was.
    public_id = instance.public_id
    _connections.pop(public_id, None)
    transaction.on_commit(lambda: _connections.pop(public_id, None), robust=True)


def _error(status: int, error: str) -> JsonResponse:
    return JsonResponse({"ok": False, "error": error}, status=status)


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
    try:
        body = loads_bounded(raw, max_bytes=MAX_BODY_BYTES)
    except BadJSON as error:
        reason = str(error)
        return (
            reason
            if reason == "body too large"
            else (
                "body is nested too deeply" if reason == "nested too deeply" else "body is not JSON"
            )
        )
    if not isinstance(body, dict):
        return "body is not a JSON object"
    return body


def digest_of(body: dict) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _address_key(address: str) -> str:
    """One key per IPv4 address, one per IPv6 /64 (a single host often holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "cb:addr:?"
    if ip.version == 6:
        return f"cb:addr:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"cb:addr:{ip}"


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _named_order(entry: Entry, references: tuple[str, str]) -> tuple[int, str, bool] | None:
    """(id, state, has a pending status pull) of this connection's order the callback
    names, by the bank's id first. Written out in SQL: on this path the ORM's compiling of
    the query cost as much as running it."""
    bank_order_id, number = references
    named, params = [], []
    if bank_order_id:
        named.append("o.bank_order_id = %s")
        params.append(bank_order_id)
    if number:
        named.append("o.reference = %s")
        params.append(number)
    if not named:
        return None
    connection = connections[router.db_for_read(PaymentOrder)]
    since = StatusPull._meta.get_field("requested_at").get_db_prep_value(
        timezone.now() - STALE_PULL, connection
    )
    orders = connection.ops.quote_name(PaymentOrder._meta.db_table)
    pulls = connection.ops.quote_name(StatusPull._meta.db_table)
    sql = (
        "SELECT o.id, o.state, o.bank_order_id, EXISTS("  # noqa: S608 - quoted table names
        f"SELECT 1 FROM {pulls} p WHERE p.order_id = o.id AND p.requested_at >= %s) "
        f"FROM {orders} o WHERE o.business_id = %s AND o.provider = %s AND o.account_id = %s "
        f"AND ({' OR '.join(named)}) LIMIT 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, entry.business_id, NAME, entry.id, *params])
        rows = cursor.fetchall()
    found = sorted(rows, key=lambda row: row[2] != bank_order_id)
    return (found[0][0], found[0][1], bool(found[0][3])) if found else None


def _too_many(verdict: ratelimit.Verdict, limits: list[ratelimit.Limit], what: str):
    first_refusal = any(verdict.counts.get(lim.key) == lim.limit + 1 for lim in limits)
    if first_refusal:  # once per key and window: a flood must not flood the log too
        security_log.warning("uzum callbacks refused past the limit: %s", what)
    response = _error(429, "too many callbacks")
    response["Retry-After"] = str(verdict.retry_after)
    return response


def receive(request: HttpRequest, public_id: uuid.UUID, kind: str):
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    address = client_ip(request)
    per_address = ratelimit.Limit(
        _address_key(address), _limit("NAVBAT_CALLBACK_LIMIT_PER_ADDRESS", PER_ADDRESS)
    )
    entry = connection_entry(public_id)
    if entry is None:
        verdict = ratelimit.hit(RateCounter, [per_address], window=LIMIT_WINDOW)
        if not verdict.allowed:
            return _too_many(verdict, [per_address], f"{per_address.key} (unknown connections)")
        security_log.warning(
            "uzum %s callback for unknown connection %s from %s", kind, public_id, address
        )
        return _error(404, "unknown connection")
    body = _parse(request)
    references = _references(kind, body) if isinstance(body, dict) else None
    order = _named_order(entry, references) if references is not None else None
    live = order is not None and order[1] in LIVE_STATES
    if live:
        limits = [
            ratelimit.Limit(
                f"cb:order:{order[0]}", _limit("NAVBAT_CALLBACK_LIMIT_PER_ORDER", PER_ORDER)
            )
        ]
    else:
        per_connection = _limit("NAVBAT_CALLBACK_LIMIT_PER_CONNECTION", PER_CONNECTION)
        limits = [per_address, ratelimit.Limit(f"cb:conn:{entry.id}", per_connection)]
    # One transaction, one commit: the count, and the callback with its job when it is
    # under the limits. A connection's counter row stays locked until the commit, which
    # orders that connection's callbacks; its limit is far below what that costs.
    try:
        with transaction.atomic():
            verdict = ratelimit.hit(RateCounter, limits, window=LIMIT_WINDOW)
            if verdict.allowed and references is not None:
                store(
                    entry=entry,
                    kind=kind,
                    body=body,
                    references=references,
                    order_id=order[0] if order else None,
                    priority=PRIORITY_OURS if live else PRIORITY_FRESH,
                    join_pull=bool(order and order[2]) and kind != CallbackKind.RECEIPT,
                )
    except IntegrityError:
        _connections.pop(public_id, None)  # the connection went away under the cache
        raise
    if not verdict.allowed:
        return _too_many(verdict, limits, f"{', '.join(verdict.over)} from {address}")
    if references is None:
        problem = body if isinstance(body, str) else "no valid orderId / orderNumber"
        security_log.warning(
            "uzum %s callback on connection %s from %s refused: %s",
            kind,
            public_id,
            address,
            problem,
        )
        return _error(400, problem)
    return JsonResponse({"ok": True})


def store(
    *,
    entry: Entry,
    kind: str,
    body: dict,
    references: tuple[str, str],
    order_id: int | None = None,
    priority: int = PRIORITY_FRESH,
    join_pull: bool = False,
) -> int | None:
    """Keep the callback once and queue its job with it; a repeat only counts. Returns the
    new row's id, or None for a repeat. One statement stores or counts (no savepoint).

    ``join_pull``: the order has a pending status pull; then the callback waits for it and
    needs no job of its own (the pull's row is locked until the commit, so the pull cannot
    start between and miss it)."""
    from .tasks import handle_callback

    alias = router.db_for_write(Callback)
    connection = connections[alias]
    field = Callback._meta.get_field
    quote = connection.ops.quote_name
    table = quote(Callback._meta.db_table)
    columns = (
        "business_id",
        "connection_id",
        "kind",
        "digest",
        "body",
        "bank_order_id",
        "order_number",
        "received_at",
        "repeats",
        "outcome",
        "order_id",
        "awaiting_pull",
    )
    params = [
        entry.business_id,
        entry.id,
        kind,
        digest_of(body),
        field("body").get_db_prep_save(body, connection),
        references[0],
        references[1],
        field("received_at").get_db_prep_save(timezone.now(), connection),
        0,
        WAITING,
        order_id,
        True,
    ]
    sql = (
        f"INSERT INTO {table} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote('connection_id')}, {quote('kind')}, {quote('digest')}) "
        f"DO UPDATE SET {quote('repeats')} = {table}.{quote('repeats')} + 1 "
        f"RETURNING {quote('id')}, {quote('repeats')}"
    )
    # Inside the caller's transaction when there is one, never in a savepoint of its own.
    with transaction.atomic(using=alias, savepoint=False):
        joined = join_pull and bool(
            StatusPull.objects.filter(
                order_id=order_id, requested_at__gte=timezone.now() - STALE_PULL
            ).update(attempt=F("attempt"))
        )
        if not joined:
            params[-3], params[-1] = "", False
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            callback_id, repeats = cursor.fetchone()
        if repeats or joined:
            # The same body again (the bank repeats until it hears 200, maybe in parallel),
            # or one that the pending pull of its order answers.
            return None if repeats else callback_id
        # The job row commits with the callback or not at all (the queue is in the database).
        handle_callback.using(priority=priority).enqueue(callback_id)
    return callback_id
