"""The sandbox's control API: ``<root>/sandbox/uzum/control/``, JSON.

What Uzum's manager and a tester do by hand at the real bank: create terminals and Merchant
API services, read orders and app transactions, pay an order as the hosted page would, and
switch faults on and off (keys in ``faults.py``). It exists only where the sandbox is
mounted (``NAVBAT_SANDBOX``); production never routes here.

Every call speaks for one owner (``navbat.kit.sandbox_tokens``): a sandbox token in
``Authorization: Bearer``, or a logged-in navbat owner (whose unsafe calls then need the
CSRF token, as any form of theirs). It sees and changes only that owner's terminals and
services, and the orders and app transactions made through them; another owner's ids are
404, as unknown ones. Callback and Merchant API URLs must lie inside ``destinations.py``.

``POST token/rotate`` answers ``{"token": ..., "generation": N}``: the owner's new token;
the one the call was made with, and every earlier one, no longer work.

No owner: HTTP 401; a logged-in user who is not an owner: 403. Bad JSON or fields answer
HTTP 400 ``{"error": "..."}``; unknown ids 404 ``{"error": ...}``; a bank rule that refuses
a payment 409 ``{"error": ..., "errorCode": N}``.
"""

import re
import secrets
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt

from navbat.kit import sandbox_tokens
from navbat.kit.jsonbody import BadJSON, loads_bounded

from . import bank, destinations, faults, tokens
from .bank import BankError
from .checkout import is_absolute_http_url
from .models import AppTransaction, MerchantService, Order, PayType, Terminal

FIRST_SERVICE_ID = 100_001
MAX_BODY = 1_000_000
NO_OWNER = "Log in to navbat as the business owner, or send Authorization: Bearer <sandbox token>"
OWNERS_ONLY = "Only the business's owners use the sandbox bank"
ATTRIBUTE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")


class BadRequest(Exception):
    status = 400


class NotFound(Exception):
    status = 404


def _error(message: str, status: int, **extra) -> JsonResponse:
    return JsonResponse({"error": message, **extra}, status=status)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request, reason):
        return reason


def _csrf_failure(request: HttpRequest) -> str | None:
    """Why a logged-in user's unsafe call fails Django's CSRF check, or None when it passes
    (the views are exempt from the middleware because token calls carry no cookie)."""
    check = _CsrfCheck(lambda _request: None)
    check.process_request(request)
    return check.process_view(request, None, (), {})


def _owner(request: HttpRequest) -> str | JsonResponse:
    """The owner the call speaks for, or the refusal to answer."""
    token = sandbox_tokens.bearer_token(request)
    if token is not None:  # a token decides alone, whoever is logged in
        owner = sandbox_tokens.owner_of_token(token)
    else:
        owner = sandbox_tokens.owner_of_request(request)
        if owner is None and request.user.is_authenticated:
            return _error(OWNERS_ONLY, 403)
        if owner is not None and _csrf_failure(request):
            return _error("CSRF check failed: send the csrftoken cookie's value", 403)
    if owner is None:
        response = _error(NO_OWNER, 401)
        response["WWW-Authenticate"] = 'Bearer realm="navbat sandbox"'
        return response
    return owner


def control_view(*methods: str) -> Callable:
    """A control endpoint answering ``methods`` for one owner (given to the view as
    ``owner``); its refusals become JSON errors."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            owner = _owner(request)
            if isinstance(owner, JsonResponse):
                return owner
            if request.method not in methods:
                response = _error("Method not allowed", 405)
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, *args, owner=owner, **kwargs)
            except (BadRequest, NotFound, faults.FaultError) as error:
                return _error(str(error), getattr(error, "status", 400))

        return wrapper

    return decorate


def _body(request: HttpRequest) -> dict:
    if not request.body:
        return {}
    try:
        body = loads_bounded(request.body, max_bytes=MAX_BODY)
    except BadJSON:
        raise BadRequest("The body must be JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("The body must be a JSON object")
    return body


def _text(body: dict, name: str, *, max_len: int, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"{name} must be a non-empty string")
    if len(value) > max_len:
        raise BadRequest(f"{name} must be at most {max_len} characters")
    return value.strip()


def _url(body: dict, name: str, *, required: bool = False) -> str:
    """A URL the sandbox will send requests to: only inside ``destinations``."""
    value = body.get(name)
    if value in (None, ""):
        if required:
            raise BadRequest(f"{name} is required")
        return ""
    if not isinstance(value, str) or len(value) > 2083 or not is_absolute_http_url(value):
        raise BadRequest(f"{name} must be an absolute http(s) URL")
    if not destinations.is_allowed(value):
        raise BadRequest(
            f"{name} must point at this navbat ({destinations.public_root()}) or at an origin "
            f"allowed in {destinations.SETTING}"
        )
    return value


def _bool(body: dict, name: str) -> bool:
    value = body[name]
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false")
    return value


def _pay_types(body: dict) -> list[str]:
    value = body["payTypes"]
    if (
        not isinstance(value, list)
        or not value
        or any(item not in PayType.values for item in value)
    ):
        raise BadRequest("payTypes must be a non-empty list of ONE_STEP, TWO_STEP")
    return list(dict.fromkeys(value))


def _unknown_fields(body: dict, allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadRequest(f"unknown field {unknown[0]!r}")


def _uuid(value: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise NotFound(f"{what} not found") from None


# ---------------------------------------------------------------------------------- token


@control_view("POST")
def token_rotate(request: HttpRequest, *, owner: str) -> JsonResponse:
    """A new sandbox token for the owner; every earlier one stops working."""
    generation = tokens.rotate(owner)
    return JsonResponse({"token": sandbox_tokens.token_for(owner), "generation": generation})


# ------------------------------------------------------------------------------ terminals


TERMINAL_SETTINGS = {
    "merchantName",
    "payTypes",
    "autoFiscal",
    "strictUrls",
    "paymentCallbackUrl",
    "eventCallbackUrl",
    "receiptCallbackUrl",
}
_TERMINAL_URLS = {
    "paymentCallbackUrl": "payment_callback_url",
    "eventCallbackUrl": "event_callback_url",
    "receiptCallbackUrl": "receipt_callback_url",
}


def terminal_json(terminal: Terminal) -> dict:
    return {
        "terminalId": str(terminal.terminal_id),
        "apiKey": terminal.api_key,
        "merchantName": terminal.merchant_name,
        "payTypes": list(terminal.pay_types or [PayType.ONE_STEP]),
        "autoFiscal": terminal.auto_fiscal,
        "strictUrls": terminal.strict_urls,
        "paymentCallbackUrl": terminal.payment_callback_url or None,
        "eventCallbackUrl": terminal.event_callback_url or None,
        "receiptCallbackUrl": terminal.receipt_callback_url or None,
        "faults": terminal.faults or {},
        "createdAt": terminal.created_at.isoformat(),
    }


def _apply_terminal_settings(terminal: Terminal, body: dict) -> None:
    if "merchantName" in body:
        terminal.merchant_name = _text(body, "merchantName", max_len=150)
    if "payTypes" in body:
        terminal.pay_types = _pay_types(body)
    if "autoFiscal" in body:
        terminal.auto_fiscal = _bool(body, "autoFiscal")
    if "strictUrls" in body:
        terminal.strict_urls = _bool(body, "strictUrls")
    for name, field in _TERMINAL_URLS.items():
        if name in body:
            setattr(terminal, field, _url(body, name))
    if "faults" in body:
        terminal.faults = faults.merge_terminal_faults({}, body["faults"])


def _terminal(terminal_id: str, *, owner: str, lock: bool = False) -> Terminal:
    rows = Terminal.objects.select_for_update() if lock else Terminal.objects
    terminal = rows.filter(terminal_id=_uuid(terminal_id, "terminal"), owner=owner).first()
    if terminal is None:
        raise NotFound("terminal not found")
    return terminal


@control_view("GET", "POST")
def terminals(request: HttpRequest, *, owner: str) -> JsonResponse:
    """GET: the owner's terminals; POST: a new one (``terminalId``, ``apiKey`` optional)."""
    if request.method == "GET":
        rows = Terminal.objects.filter(owner=owner).order_by("-created_at", "-id")
        return JsonResponse({"terminals": [terminal_json(t) for t in rows]})
    body = _body(request)
    _unknown_fields(body, TERMINAL_SETTINGS | {"terminalId", "apiKey", "faults"})
    terminal = Terminal(owner=owner, pay_types=[PayType.ONE_STEP, PayType.TWO_STEP])
    if body.get("terminalId") is not None:
        try:
            terminal.terminal_id = uuid.UUID(str(body["terminalId"]))
        except ValueError:
            raise BadRequest("terminalId must be a UUID") from None
        if Terminal.objects.filter(terminal_id=terminal.terminal_id).exists():
            raise BadRequest("terminalId is taken")
    if body.get("apiKey") is not None:
        terminal.api_key = _text(body, "apiKey", max_len=256)
    _apply_terminal_settings(terminal, body)
    terminal.save()
    return JsonResponse(terminal_json(terminal), status=201)


@control_view("GET", "PATCH")
def terminal_detail(request: HttpRequest, terminal_id: str, *, owner: str) -> JsonResponse:
    """GET the terminal; PATCH its settings (``faults`` there replaces the whole set)."""
    if request.method == "GET":
        return JsonResponse(terminal_json(_terminal(terminal_id, owner=owner)))
    body = _body(request)
    _unknown_fields(body, TERMINAL_SETTINGS | {"faults"})
    terminal = _terminal(terminal_id, owner=owner, lock=True)
    _apply_terminal_settings(terminal, body)
    terminal.save()
    return JsonResponse(terminal_json(terminal))


@control_view("GET", "POST", "DELETE")
def terminal_faults(request: HttpRequest, terminal_id: str, *, owner: str) -> JsonResponse:
    """POST ``{key: switch | null}`` sets or clears switches; DELETE clears them all."""
    terminal = _terminal(terminal_id, owner=owner, lock=request.method != "GET")
    if request.method == "POST":
        terminal.faults = faults.merge_terminal_faults(terminal.faults, _body(request))
        terminal.save(update_fields=["faults"])
    elif request.method == "DELETE":
        terminal.faults = {}
        terminal.save(update_fields=["faults"])
    return JsonResponse({"terminalId": str(terminal.terminal_id), "faults": terminal.faults})


# ------------------------------------------------------------------------------- services


SERVICE_SETTINGS = {"merchantName", "merchantBaseUrl", "attributeName", "login", "password"}


def service_json(service: MerchantService) -> dict:
    return {
        "serviceId": service.service_id,
        "login": service.login,
        "password": service.password,
        "merchantName": service.merchant_name,
        "merchantBaseUrl": service.merchant_base_url,
        "attributeName": service.attribute_name,
        "faults": service.faults or {},
        "createdAt": service.created_at.isoformat(),
    }


def _apply_service_settings(service: MerchantService, body: dict) -> None:
    if "merchantName" in body:
        service.merchant_name = _text(body, "merchantName", max_len=150)
    if "merchantBaseUrl" in body:
        service.merchant_base_url = _url(body, "merchantBaseUrl", required=True).rstrip("/")
    if "attributeName" in body:
        name = body["attributeName"]
        if not isinstance(name, str) or not ATTRIBUTE_RE.fullmatch(name):
            raise BadRequest("attributeName must be a letter then letters, digits or _ (≤ 32)")
        service.attribute_name = name
    if "login" in body:
        service.login = _text(body, "login", max_len=64)
    if "password" in body:
        service.password = _text(body, "password", max_len=128)
    if "faults" in body:
        service.faults = faults.merge_service_faults({}, body["faults"])


def _service(service_id: str, *, owner: str, lock: bool = False) -> MerchantService:
    if not service_id.isdigit() or len(service_id) > 10:
        raise NotFound("service not found")
    rows = MerchantService.objects.select_for_update() if lock else MerchantService.objects
    service = rows.filter(service_id=int(service_id), owner=owner).first()
    if service is None:
        raise NotFound("service not found")
    return service


@control_view("GET", "POST")
def services(request: HttpRequest, *, owner: str) -> JsonResponse:
    """GET: the owner's Merchant API services; POST: a new one with a new integer serviceId."""
    if request.method == "GET":
        rows = MerchantService.objects.filter(owner=owner).order_by("-created_at", "-id")
        return JsonResponse({"services": [service_json(s) for s in rows]})
    body = _body(request)
    _unknown_fields(body, SERVICE_SETTINGS | {"faults"})
    if "merchantBaseUrl" not in body:
        raise BadRequest("merchantBaseUrl is required")
    for _attempt in range(5):
        last = MerchantService.objects.aggregate(last=Max("service_id"))["last"]
        service = MerchantService(
            owner=owner,
            service_id=max(FIRST_SERVICE_ID, (last or 0) + 1),
            password=secrets.token_urlsafe(18),
        )
        service.login = f"merchant{service.service_id}"
        _apply_service_settings(service, body)
        try:
            with transaction.atomic():
                service.save()
        except IntegrityError:  # a concurrent create took the number
            continue
        return JsonResponse(service_json(service), status=201)
    raise BadRequest("could not allocate a serviceId, try again")


@control_view("GET", "PATCH")
def service_detail(request: HttpRequest, service_id: str, *, owner: str) -> JsonResponse:
    if request.method == "GET":
        return JsonResponse(service_json(_service(service_id, owner=owner)))
    body = _body(request)
    _unknown_fields(body, SERVICE_SETTINGS | {"faults"})
    service = _service(service_id, owner=owner, lock=True)
    _apply_service_settings(service, body)
    service.save()
    return JsonResponse(service_json(service))


@control_view("GET", "POST", "DELETE")
def service_faults(request: HttpRequest, service_id: str, *, owner: str) -> JsonResponse:
    service = _service(service_id, owner=owner, lock=request.method != "GET")
    if request.method == "POST":
        service.faults = faults.merge_service_faults(service.faults, _body(request))
        service.save(update_fields=["faults"])
    elif request.method == "DELETE":
        service.faults = {}
        service.save(update_fields=["faults"])
    return JsonResponse({"serviceId": service.service_id, "faults": service.faults})


# --------------------------------------------------------------------- orders, transactions


def order_json(order: Order) -> dict:
    """The Checkout order status plus what only the bank sees."""
    return {
        **bank.status_json(order),
        "terminalId": str(order.terminal.terminal_id),
        "orderNumber": order.order_number,
        "clientId": order.client_id,
        "payType": order.pay_type,
        "viewType": order.view_type,
        "language": order.language,
        "paymentDetails": order.payment_details,
        "successUrl": order.success_url or None,
        "failureUrl": order.failure_url or None,
        "privateUrls": order.private_urls,
        "authorizedAmount": order.authorized_amount,
        "force3ds": order.force3ds,
        "sessionTimeoutSecs": order.session_timeout_secs,
        "expiresAt": order.expires_at.isoformat(),
        "expired": bank.is_expired(order),
        "cart": order.cart,
        "createdAt": order.created_at.isoformat(),
    }


def _order(order_id: str, *, owner: str) -> Order:
    order = (
        Order.objects.select_related("terminal")
        .filter(order_id=_uuid(order_id, "order"), terminal__owner=owner)
        .first()
    )
    if order is None:
        raise NotFound("order not found")
    return order


@control_view("GET")
def order_detail(request: HttpRequest, order_id: str, *, owner: str) -> JsonResponse:
    return JsonResponse(order_json(_order(order_id, owner=owner)))


@control_view("POST")
def order_pay(request: HttpRequest, order_id: str, *, owner: str) -> JsonResponse:
    """Pay as the hosted page would: ``{"cardNumber": "...", "code": "777777"}``. A decline
    is not an error: the order answers with its actionCode."""
    order = _order(order_id, owner=owner)
    body = _body(request)
    _unknown_fields(body, {"cardNumber", "code"})
    card_number = _text(body, "cardNumber", max_len=32)
    code = body.get("code") or ""
    if not isinstance(code, str):
        raise BadRequest("code must be a string")
    try:
        order = bank.pay(order_id=order.order_id, card_number=card_number, code=code)
    except BankError as error:
        return _error(error.message, 409, errorCode=error.code)
    return JsonResponse(order_json(_order(str(order.order_id), owner=owner)))


def transaction_json(trans: AppTransaction) -> dict[str, Any]:
    return {
        "transId": str(trans.trans_id),
        "serviceId": trans.service.service_id,
        "params": trans.params,
        "amount": trans.amount,
        "paymentSource": trans.payment_source or None,
        "tariff": trans.tariff or None,
        "phone": trans.phone,
        "status": trans.status,
        "exchange": trans.exchange,
        "createdAt": trans.created_at.isoformat(),
    }


@control_view("GET")
def transaction_detail(request: HttpRequest, trans_id: str, *, owner: str) -> JsonResponse:
    trans = (
        AppTransaction.objects.select_related("service")
        .filter(trans_id=_uuid(trans_id, "transaction"), service__owner=owner)
        .first()
    )
    if trans is None:
        raise NotFound("transaction not found")
    return JsonResponse(transaction_json(trans))
