"""The sandbox's Checkout API: ``<root>/sandbox/uzum/checkout/api/v1/<endpoint>``.

Exactly the protocol of uzum-bank.md §1: every call POST JSON with ``X-Terminal-Id`` and
``X-API-Key``; every answer HTTP 200 with ``{"errorCode", "message", "result"}``; request
rules answered with 2000 and a message naming the field; ``X-Operation-Id`` makes complete,
reverse and refund idempotent. A wrong terminal id or API key answers 1006 (the bank's own
answer is unknown; adopted from the table); a path the bank does not have answers HTTP 403;
the endpoints navbat does not use answer the envelope with a code of the table. A localhost
or private successUrl/failureUrl marks the order (shown on the dashboard), or is refused
with 2000 on a terminal created with ``"strictUrls": true``. The rules of the order live in
``bank.py``; this module checks the request, authenticates it, applies the fault switches
(``faults.py``) and shapes the answer. Each call runs in its own transaction (committed
before any ``work_then_timeout`` pause).
"""

import hashlib
import hmac
import ipaddress
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from navbat.kit import crypto
from navbat.kit.jsonbody import BadJSON, loads_bounded

from . import bank, faults
from .bank import BankError
from .models import IdempotentCall, Operation, Order, PayType, Terminal

LANGUAGES = ("ru-RU", "uz-UZ", "en-EN")
VIEW_TYPES = ("REDIRECT", "WEB_VIEW", "IFRAME")
RECEIPT_TYPES = ("PURCHASE", "PREPAID")
CURRENCY = 860
MAX_AMOUNT = 999_999_999_999
MAX_URL = 2083
SESSION_TIMEOUT = (600, 1800)
MAX_BODY = 1_000_000  # a cart of a few hundred lines fits many times over

AUTH_MESSAGE = "Access denied: invalid X-Terminal-Id or X-API-Key"


@cache
def _stored_no_key(keys: tuple[str, ...]) -> str:
    """What an unknown terminal's key is compared against, encrypted like a real one (one
    per key ring)."""
    return crypto.encrypt("0" * 64)


class Invalid(BankError):
    """A request rule is broken (2000); the message names the field."""

    def __init__(self, message: str):
        super().__init__(bank.VALIDATION, message)


def envelope(result: dict | None = None, *, code: int = 0, message: str | None = None):
    return {"errorCode": code, "message": message, "result": result}


def _answer(result: dict | None = None, *, code: int = 0, message: str | None = None, status=200):
    return JsonResponse(envelope(result, code=code, message=message), status=status)


# --------------------------------------------------------------------------- field rules


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _amount(value: Any, name: str = "amount") -> int:
    if not _is_int(value):
        raise Invalid(f"{name} must be an integer number of tiyin")
    if not 1 <= value <= MAX_AMOUNT:
        raise Invalid(f"{name} must be between 1 and {MAX_AMOUNT}")
    return value


def _string(
    body: dict, name: str, *, where: str = "", min_len: int = 1, max_len: int | None = None
) -> str:
    label = where + name
    value = body.get(name)
    if value is None:
        raise Invalid(f"{label} is required")
    if not isinstance(value, str):
        raise Invalid(f"{label} must be a string")
    if len(value) < min_len:
        raise Invalid(f"{label} must not be empty")
    if max_len is not None and len(value) > max_len:
        raise Invalid(f"{label} must be at most {max_len} characters")
    return value


def _optional_string(body: dict, name: str, *, max_len: int) -> str:
    if body.get(name) is None:
        return ""
    return _string(body, name, min_len=0, max_len=max_len)


def _url(body: dict, name: str, *, required: bool) -> str:
    value = body.get(name)
    if value is None:
        if required:
            raise Invalid(f"{name} is required with viewType REDIRECT")
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a string")
    if len(value) > MAX_URL:
        raise Invalid(f"{name} must be at most {MAX_URL} characters")
    if not is_absolute_http_url(value):
        raise Invalid(f"{name} must be an absolute http(s) URL")
    return value


def is_absolute_http_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
        host = parts.hostname
        parts.port  # noqa: B018 - a bad port raises ValueError
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https") and bool(host) and not any(ch.isspace() for ch in value)
    )


# Special-use names (RFC 6761, 6762, 8375) and names without a dot never reach the bank's
# form from the internet.
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa")


def is_public_url(value: str) -> bool:
    """Whether an absolute http(s) URL names a public host, as Uzum's test host requires of
    successUrl and failureUrl (it refuses localhost and private addresses with 2000). Judged
    from the URL alone: the sandbox resolves nothing."""
    host = (urlsplit(value).hostname or "").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    if host == "localhost" or host.endswith(_PRIVATE_SUFFIXES):
        return False
    return "." in host


def _uuid(body: dict, name: str) -> uuid.UUID:
    value = body.get(name)
    if value is None:
        raise Invalid(f"{name} is required")
    if not isinstance(value, str):
        raise Invalid(f"{name} must be a UUID string")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid(f"{name} must be a UUID") from None


def _object(body: dict, name: str, where: str = "") -> dict:
    value = body.get(name)
    if not isinstance(value, dict):
        raise Invalid(f"{where}{name} must be an object")
    return value


def clean_cart(cart: Any, where: str) -> dict:
    """The shape of a fiscal cart (register's merchantParams.cart, refund's cart), and
    Σ items.total == total."""
    if not isinstance(cart, dict):
        raise Invalid(f"{where} must be an object")
    prefix = where + "."
    _string(cart, "cartId", where=prefix, max_len=128)
    if cart.get("receiptType") not in RECEIPT_TYPES:
        raise Invalid(f"{prefix}receiptType must be PURCHASE or PREPAID")
    total = cart.get("total")
    if not _is_int(total) or total < 0:
        raise Invalid(f"{prefix}total must be an integer number of tiyin")
    items = cart.get("items")
    if not isinstance(items, list) or not items:
        raise Invalid(f"{prefix}items must be a non-empty list")
    for index, item in enumerate(items):
        at = f"{prefix}items[{index}]"
        if not isinstance(item, dict):
            raise Invalid(f"{at} must be an object")
        at += "."
        _string(item, "title", where=at, max_len=255)
        _string(item, "productId", where=at, max_len=128)
        for name, least in (("quantity", 1), ("unitPrice", 0), ("total", 0)):
            value = item.get(name)
            if not _is_int(value) or value < least or value > MAX_AMOUNT:
                raise Invalid(f"{at}{name} must be an integer, at least {least}")
        params = _object(item, "receiptParams", at)
        at += "receiptParams."
        spic = params.get("spic")
        if not isinstance(spic, str) or len(spic) != 17:
            raise Invalid(f"{at}spic must be a string of exactly 17 characters")
        _string(params, "packageCode", where=at, max_len=32)
        vat = params.get("vatPercent")
        if not _is_int(vat) or not 0 <= vat <= 100:
            raise Invalid(f"{at}vatPercent must be an integer 0…100")
        has_tin, has_pinfl = params.get("TIN") is not None, params.get("PINFL") is not None
        if has_tin == has_pinfl:
            raise Invalid(f"{at}TIN or PINFL: exactly one is required")
        if has_tin:
            _string(params, "TIN", where=at, max_len=9)
        else:
            _string(params, "PINFL", where=at, max_len=14)
    if sum(item["total"] for item in items) != total:
        raise Invalid(f"{prefix}total must equal the sum of items[].total")
    return cart


def clean_register(body: dict, language: str) -> dict:
    """``payment/register`` by the table of uzum-bank.md §1, as the fields of an Order."""
    amount = _amount(body.get("amount"))
    client_id = _string(body, "clientId", min_len=0, max_len=100)
    currency = body.get("currency")
    if not _is_int(currency) or currency != CURRENCY:
        raise Invalid(f"currency must be {CURRENCY}")
    order_number = _string(body, "orderNumber", max_len=36)
    payment_details = _optional_string(body, "paymentDetails", max_len=1024)
    view_type = body.get("viewType")
    if view_type not in VIEW_TYPES:
        raise Invalid("viewType must be REDIRECT, WEB_VIEW or IFRAME")
    redirect = view_type == "REDIRECT"
    success_url = _url(body, "successUrl", required=redirect)
    failure_url = _url(body, "failureUrl", required=redirect)
    params = _object(body, "paymentParams")
    pay_type = params.get("payType")
    if pay_type not in PayType.values:
        raise Invalid("paymentParams.payType must be ONE_STEP or TWO_STEP")
    # The spec requires only payType; operationType defaults to PAYMENT.
    if params.get("operationType", "PAYMENT") != "PAYMENT":
        raise Invalid('paymentParams.operationType must be "PAYMENT"')
    force3ds = params.get("force3ds")
    if force3ds is not None and not isinstance(force3ds, bool):
        raise Invalid("paymentParams.force3ds must be a boolean")
    timeout = body.get("sessionTimeoutSecs")
    if timeout is None:
        raise Invalid("sessionTimeoutSecs is required")
    if not _is_int(timeout) or not SESSION_TIMEOUT[0] <= timeout <= SESSION_TIMEOUT[1]:
        raise Invalid("sessionTimeoutSecs must be an integer 600…1800")
    cart = None
    merchant_params = body.get("merchantParams")
    if merchant_params is not None:
        if not isinstance(merchant_params, dict):
            raise Invalid("merchantParams must be an object")
        if merchant_params.get("cart") is not None:
            cart = clean_cart(merchant_params["cart"], "merchantParams.cart")
            if cart["total"] != amount:
                raise Invalid("merchantParams.cart.total must equal amount")
    return {
        "private_urls": any(url and not is_public_url(url) for url in (success_url, failure_url)),
        "amount": amount,
        "client_id": client_id,
        "currency": currency,
        "order_number": order_number,
        "payment_details": payment_details,
        "view_type": view_type,
        "success_url": success_url,
        "failure_url": failure_url,
        "language": language,
        "pay_type": pay_type,
        "force3ds": bool(force3ds),
        "session_timeout_secs": timeout,
        "cart": cart,
    }


# ----------------------------------------------------------------------------- endpoints


@dataclass
class Call:
    request: HttpRequest
    terminal: Terminal
    endpoint: str
    body: dict
    operation_key: str = ""


def _order(call: Call) -> Order:
    order_id = _uuid(call.body, "orderId")
    order = Order.objects.filter(terminal=call.terminal, order_id=order_id).first()
    if order is None:
        raise BankError(bank.ORDER_NOT_FOUND, "Order not found")
    return order


def payment_redirect_url(request: HttpRequest, order: Order) -> str:
    # The sandbox root is wherever this Checkout host is mounted (…/sandbox/uzum/).
    root = request.path[: request.path.rindex("/checkout/api/v1/") + 1]
    return request.build_absolute_uri(f"{root}pay/{order.order_id}/")


def register(call: Call) -> dict:
    language = call.request.headers.get("Content-Language", "")
    if language not in LANGUAGES:
        raise Invalid("Content-Language header must be ru-RU, uz-UZ or en-EN")
    fields = clean_register(call.body, language)
    if fields["private_urls"] and call.terminal.strict_urls:
        # As Uzum's test host does; other terminals accept them (the embedded demo runs on
        # 127.0.0.1) and mark the order, which the dashboard shows with a warning.
        for name, url in (
            ("successUrl", fields["success_url"]),
            ("failureUrl", fields["failure_url"]),
        ):
            if url and not is_public_url(url):
                raise Invalid(f"{name} must be a public URL (not localhost or a private address)")
    with transaction.atomic():
        order = bank.register(terminal=call.terminal, fields=fields)
    return {
        "orderId": str(order.order_id),
        "paymentRedirectUrl": payment_redirect_url(call.request, order),
    }


def get_order_status(call: Call) -> dict:
    with transaction.atomic():
        order = _order(call)
        return bank.status_json(order)


def get_operation_state(call: Call) -> dict:
    operation_id = _uuid(call.body, "operationId")
    with transaction.atomic():
        operation = Operation.objects.filter(
            operation_id=operation_id, order__terminal=call.terminal
        ).first()
        if operation is None:
            raise BankError(bank.OPERATION_NOT_FOUND, "Operation not found")
        return {"operation": bank.operation_json(operation)}


def get_receipts(call: Call) -> dict:
    with transaction.atomic():
        order = _order(call)
        return bank.receipts_json(order)


def complete(call: Call) -> dict:
    order_id, amount = _uuid(call.body, "orderId"), _amount(call.body.get("amount"))
    return _once(
        call,
        lambda: bank.complete(
            terminal=call.terminal, order_id=order_id, amount=amount, key=call.operation_key
        ),
    )


def reverse(call: Call) -> dict:
    order_id, amount = _uuid(call.body, "orderId"), _amount(call.body.get("amount"))
    return _once(
        call,
        lambda: bank.reverse(
            terminal=call.terminal, order_id=order_id, amount=amount, key=call.operation_key
        ),
    )


def refund(call: Call) -> dict:
    order_id, amount = _uuid(call.body, "orderId"), _amount(call.body.get("amount"))
    cart = call.body.get("cart")
    if cart is not None:
        cart = clean_cart(cart, "cart")
    return _once(
        call,
        lambda: bank.refund(
            terminal=call.terminal,
            order_id=order_id,
            amount=amount,
            key=call.operation_key,
            cart=cart,
        ),
    )


# The endpoints of uzum-bank.md §1 that navbat does not use: saved cards, server-to-server
# payment, the merchant's certificate and fiscal receipts sent by the merchant. The sandbox
# never saves a card and offers none of the rest, so each checks what its request must carry
# and answers a code of the table: 3006 for a binding (none exists), 3005 for an unknown
# order, else 3037 ("required terminal settings missing"), as a real terminal without the
# feature would. Never HTTP 404: the paths exist at the bank.


def get_bindings(call: Call) -> dict:
    _string(call.body, "clientId", min_len=0, max_len=100)
    raise BankError(bank.BINDING_NOT_FOUND, "No card bindings: the sandbox does not save cards")


def unbind_card(call: Call) -> dict:
    _uuid(call.body, "bindingId")
    raise BankError(bank.BINDING_NOT_FOUND, "Binding not found")


def merchant_pay(call: Call) -> dict:
    raise BankError(
        bank.NOT_SET_UP, "Server-to-server payments (merchantPay) are not set up for the terminal"
    )


def get_merchant_certificate(call: Call) -> dict:
    raise BankError(bank.NOT_SET_UP, "The terminal has no merchant certificate in the sandbox")


def purchase_receipt(call: Call) -> dict:
    with transaction.atomic():
        _order(call)
    raise BankError(
        bank.NOT_SET_UP, "Fiscal receipts sent by the merchant are not set up for the terminal"
    )


def _body_hash(endpoint: str, body: dict) -> str:
    canonical = json.dumps([endpoint, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _once(call: Call, operate: Callable[[], Operation]) -> dict:
    """Run a money-moving call once per X-Operation-Id: the same key with the same body
    answers the first result again (no second operation); with another body, 3028. Only
    successful calls are remembered, in the same transaction as their operation."""
    digest = _body_hash(call.endpoint, call.body)
    for attempt in range(2):
        try:
            with transaction.atomic():
                earlier = (
                    IdempotentCall.objects.select_for_update()
                    .filter(terminal=call.terminal, operation_key=call.operation_key)
                    .first()
                )
                if earlier is not None:
                    if earlier.body_hash != digest:
                        raise BankError(
                            bank.OPERATION_ID_REUSED,
                            "X-Operation-Id was already used with another request",
                        )
                    return earlier.response
                operation = operate()
                result = {"operationId": str(operation.operation_id)}
                IdempotentCall.objects.create(
                    terminal=call.terminal,
                    operation_key=call.operation_key,
                    endpoint=call.endpoint,
                    body_hash=digest,
                    response=result,
                )
                return result
        except IntegrityError:
            # A concurrent call with the same key committed first; this one rolled back
            # whole. Read its answer.
            if attempt:
                raise
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Endpoint:
    handle: Callable[[Call], dict]
    operation_id: bool = False


ENDPOINTS = {
    "payment/register": Endpoint(register),
    "payment/getOrderStatus": Endpoint(get_order_status),
    "payment/getOperationState": Endpoint(get_operation_state),
    "payment/getReceipts": Endpoint(get_receipts),
    "acquiring/complete": Endpoint(complete, operation_id=True),
    "acquiring/reverse": Endpoint(reverse, operation_id=True),
    "acquiring/refund": Endpoint(refund, operation_id=True),
    "acquiring/getBindings": Endpoint(get_bindings),
    "acquiring/unBindCard": Endpoint(unbind_card),
    "payment/merchantPay": Endpoint(merchant_pay, operation_id=True),
    "acquiring/getMerchantCertificate": Endpoint(get_merchant_certificate),
    "acquiring/purchaseReceipt": Endpoint(purchase_receipt, operation_id=True),
}
assert set(ENDPOINTS) == set(faults.CHECKOUT_ENDPOINTS)


# ---------------------------------------------------------------------------------- views


def authenticate(request: HttpRequest) -> Terminal | None:
    """The terminal of a correct X-Terminal-Id + X-API-Key pair, else None. An unknown
    terminal and a wrong key look and take the same."""
    raw_id = request.headers.get("X-Terminal-Id", "")
    key = request.headers.get("X-API-Key", "")
    try:
        terminal_id = uuid.UUID(raw_id)
    except ValueError:
        terminal_id = None
    terminal = Terminal.objects.filter(terminal_id=terminal_id).first() if terminal_id else None
    # An unknown terminal decrypts a stored key too, so that both refusals take as long.
    expected = (
        terminal.api_key
        if terminal is not None
        else crypto.decrypt(_stored_no_key(tuple(settings.NAVBAT_ENCRYPTION_KEYS)))
    )
    matches = hmac.compare_digest(key.encode(), expected.encode())
    return terminal if (terminal is not None and matches and key) else None


def _operation_key(request: HttpRequest) -> str:
    raw = request.headers.get("X-Operation-Id", "")
    if not raw:
        raise Invalid("X-Operation-Id header is required")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise Invalid("X-Operation-Id header must be a UUID") from None


def _body(request: HttpRequest) -> dict:
    try:
        body = loads_bounded(request.body or b"", max_bytes=MAX_BODY)
    except BadJSON:
        raise Invalid("Request body must be JSON") from None
    if not isinstance(body, dict):
        raise Invalid("Request body must be a JSON object")
    return body


@csrf_exempt
@transaction.non_atomic_requests
def api(request: HttpRequest, endpoint: str) -> HttpResponse:
    spec = ENDPOINTS.get(endpoint)
    if spec is None:
        return forbidden(request)  # as any path the bank does not have
    if request.method != "POST":
        response = _answer(code=bank.VALIDATION, message="Method not allowed", status=405)
        response["Allow"] = "POST"
        return response
    terminal = authenticate(request)
    if terminal is None:
        return _answer(code=bank.AUTH_FAILED, message=AUTH_MESSAGE)
    fault = faults.take_checkout_fault(terminal, endpoint) or {}
    mode = fault.get("mode")
    if mode == faults.ERROR_5XX:
        return HttpResponse(
            "Service temporarily unavailable",
            status=fault.get("status", 503),
            content_type="text/plain",
        )
    if mode in (faults.HANG, faults.SLOW):
        faults.pause(fault.get("seconds"))
    try:
        call = Call(request=request, terminal=terminal, endpoint=endpoint, body={})
        if spec.operation_id:
            call.operation_key = _operation_key(request)
        call.body = _body(request)
        result = spec.handle(call)
    except BankError as error:
        response = _answer(code=error.code, message=error.message)
    else:
        response = _answer(result)
    if mode == faults.WORK_THEN_TIMEOUT:
        faults.pause(fault.get("seconds"))  # the work is committed: the client gives up
    return response


@csrf_exempt
@transaction.non_atomic_requests
def forbidden(request: HttpRequest, rest: str = "") -> HttpResponse:
    """Uzum answers HTTP 403 for any path it does not have, outside /api/v1/ or not."""
    return HttpResponse("Forbidden", status=403, content_type="text/plain")
