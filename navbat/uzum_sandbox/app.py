"""The sandbox's Uzum Bank app: ``<root>/sandbox/uzum/open-service?serviceId=..&<attr>=..``.

A phone-sized page that plays a logged-in test customer (phone 998901234567) who opened a
merchant's open-service link. It speaks the Merchant API (uzum-bank.md §2) to the merchant,
with HTTP Basic auth:

1. opening the link calls ``/check`` and shows what the merchant answered;
2. paying calls ``/create`` and then ``/confirm`` with the chosen funding source (a card,
   the Uzum balance, or installments): ``tariff`` is null but for installments,
   ``processingReferenceNumber`` null but for card sources;
3. when ``/confirm`` fails (not HTTP 200, a timeout, no connection), it asks ``/status`` up
   to 10 times and shows what that says;
4. the service's owner may send ``/reverse`` for a transaction (from the dashboard).

Like the real app, it needs no login: an open-service link is the customer's, and what it
pays is what the merchant's ``/check`` says the link's code is. Because anyone may open a
link, and each opening stores a transaction and calls the merchant, openings are limited per
client address (``NAVBAT_SANDBOX_APP_OPENS_PER_ADDRESS``, 30 a minute) and per service
(``NAVBAT_SANDBOX_APP_OPENS_PER_SERVICE``, 60 a minute): beyond that HTTP 429, nothing
stored, nothing sent. A service keeps only its ``NAVBAT_SANDBOX_APP_UNPAID_KEPT`` (100)
latest openings nobody paid; older ones are deleted when a new one is stored. It pays only through a
service that has an owner (made through the control API, whose URL lies inside
``destinations.py``); rows from before the sandbox had owners pay nothing. Merchant URLs
are checked again right before each call.

Every call and answer is kept in ``AppTransaction.exchange`` (the password never is). The
views make HTTP calls, often to navbat itself, so they run outside the request transaction
(a long SQLite write lock would block the merchant's own answer) and write in short steps.

Service fault switches (``MerchantService.faults``, see ``faults.py``) shape the calls:
``delay`` waits before sending, ``duplicate`` sends the same call again, ``timeout`` sends
it, waits for the merchant to finish, then ignores the answer as if it timed out.
"""

import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from navbat.kit.money import MoneyError, som_to_tiyin
from navbat.kit.net import client_ip

from . import destinations, faults
from .dashboard import owner_required
from .hosted import format_som
from .models import AppTransaction, AppTransactionStatus, MerchantService

PHONE = "998901234567"
TIMEOUT = 10.0  # seconds for one call to the merchant
STATUS_TRIES = 10
USER_AGENT = "navbat-uzum-sandbox/1 (Uzum Bank app)"

INSTALLMENT = "INSTALLMENT"
SOURCES = {
    "UZCARD": {"label": "Uzcard", "detail": "8600 31•• •••• 7175", "card": True},
    "HUMO": {"label": "Humo", "detail": "9860 09•• •••• 9724", "card": True},
    "UZUM_DEBIT_VISA": {"label": "Uzum Visa", "detail": "4916 99•• •••• 0014", "card": True},
    "ACCOUNT": {"label": "Uzum balance", "detail": "1 250 000 so'm", "card": False},
    INSTALLMENT: {"label": "Installments", "detail": "pay in parts", "card": False},
}
# Sources that carry a processingReferenceNumber (uzum-bank.md §2: Uzcard, Humo, the Visa
# cards of Uzum Bank and Kapital Bank). Which source names those Visa cards arrive under is
# not published; adopted: UZUM_DEBIT_VISA and VISAUZS. The app here offers Uzcard, Humo and
# Uzum Visa.
PROCESSING_REFERENCE_SOURCES = frozenset({"UZCARD", "HUMO", "UZUM_DEBIT_VISA", "VISAUZS"})
TARIFFS = {
    "003": "3 months",
    "006": "6 months",
    "012": "12 months",
    "024": "24 months",
    "15-0-4": "4 months, no overpayment (15-0-4)",
}
PERSONAL_CARD = 2  # cardType as in Checkout: 1 corporate, 2 personal
OPENS_WINDOW = 60  # seconds

S = AppTransactionStatus


@dataclass
class Answer:
    """The merchant's answer to one call."""

    status: int | None
    data: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == 200 and isinstance(self.data, dict)

    @property
    def state(self) -> str | None:
        return self.data.get("status") if isinstance(self.data, dict) else None

    @property
    def error_code(self) -> str | None:
        if isinstance(self.data, dict) and self.data.get("errorCode") is not None:
            return str(self.data["errorCode"])
        return None


def now_ms() -> int:
    return int(time.time() * 1000)


def merchant_url(service: MerchantService, endpoint: str) -> str:
    return f"{service.merchant_base_url.rstrip('/')}/{endpoint}"


def _send(service: MerchantService, endpoint: str, body: dict) -> Answer:
    url = merchant_url(service, endpoint)
    if not destinations.is_allowed(url):
        return Answer(None, error=destinations.refusal(url))
    try:
        response = httpx.post(
            url,
            json=body,
            auth=(service.login, service.password),
            timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return Answer(None, error=f"timeout after {TIMEOUT:g} s")
    except httpx.HTTPError as exc:
        return Answer(None, error=f"{type(exc).__name__}: {exc}"[:300])
    try:
        data = response.json()
    except ValueError:
        return Answer(response.status_code, " ".join(response.text.split())[:500], "not JSON")
    return Answer(response.status_code, data)


def _log(tx: AppTransaction, endpoint: str, body: dict, answer: Answer, **extra) -> None:
    """Keep the call and its answer on the transaction (never the Authorization header)."""
    entry = {
        "at": timezone.now().isoformat(),
        "endpoint": endpoint,
        "url": merchant_url(tx.service, endpoint),
        "request": body,
        "status": answer.status,
        "response": answer.data,
        "error": answer.error,
        **extra,
    }
    tx.exchange = [*(tx.exchange or []), entry]
    AppTransaction.objects.filter(pk=tx.pk).update(exchange=tx.exchange)


def call_merchant(tx: AppTransaction, endpoint: str, body: dict) -> Answer:
    """One Merchant API call for ``tx``, with the service's fault switch if any."""
    service = tx.service
    fault = faults.take_service_fault(service, endpoint) or {}
    mode = fault.get("mode")
    if mode == "delay":
        faults.pause(fault.get("seconds"))
    sends = fault.get("count", 2) if mode == "duplicate" else 1
    first: Answer | None = None
    for copy in range(sends):
        started = time.monotonic()
        answer = _send(service, endpoint, body)
        extra: dict[str, Any] = {"ms": round((time.monotonic() - started) * 1000)}
        if copy:
            extra["note"] = "duplicate (fault)"
        if mode == "timeout":
            extra["note"] = "answer ignored: timeout (fault)"
        _log(tx, endpoint, body, answer, **extra)
        if first is None:
            first = answer
        if mode == "timeout":
            faults.pause(max(0.0, float(fault.get("seconds") or 0) - extra["ms"] / 1000))
            first = Answer(None, error=f"timeout after {fault.get('seconds', 0):g} s (fault)")
    assert first is not None
    return first


def _set_status(tx: AppTransaction, status: str) -> None:
    tx.status = status
    AppTransaction.objects.filter(pk=tx.pk).update(status=status)


def _echo(tx: AppTransaction) -> dict:
    return {
        "serviceId": tx.service.service_id,
        "timestamp": now_ms(),
        "transId": str(tx.trans_id),
    }


def check(tx: AppTransaction) -> Answer:
    body = {"serviceId": tx.service.service_id, "timestamp": now_ms(), "params": tx.params}
    return call_merchant(tx, "check", body)


def run_payment(tx: AppTransaction) -> AppTransaction:
    """``/create`` then ``/confirm`` (then ``/status`` if need be) for a chosen source."""
    create = call_merchant(tx, "create", {**_echo(tx), "params": tx.params, "amount": tx.amount})
    if not (create.ok and create.state == "CREATED"):
        _set_status(tx, S.FAILED)
        return tx
    _set_status(tx, S.CREATED)
    # uzum-bank.md §2: both keys are always sent; tariff is null but for installments, the
    # processing reference null but for card sources.
    body = {
        **_echo(tx),
        "paymentSource": tx.payment_source,
        "phone": tx.phone,
        "tariff": tx.tariff if tx.payment_source == INSTALLMENT else None,
        "processingReferenceNumber": (
            f"{secrets.randbelow(10**12):012d}"
            if tx.payment_source in PROCESSING_REFERENCE_SOURCES
            else None
        ),
    }
    if SOURCES.get(tx.payment_source, {}).get("card"):
        body["cardType"] = PERSONAL_CARD
    confirm = call_merchant(tx, "confirm", body)
    if confirm.ok and confirm.state == "CONFIRMED":
        _set_status(tx, S.CONFIRMED)
        return tx
    _set_status(tx, ask_status(tx))
    return tx


def ask_status(tx: AppTransaction) -> str:
    """After a failed ``/confirm``: ``/status`` up to 10 times until it says something final."""
    pause = float(getattr(settings, "NAVBAT_SANDBOX_APP_STATUS_PAUSE", 1.0))
    for _try in range(STATUS_TRIES):
        if pause > 0:
            time.sleep(pause)
        answer = call_merchant(tx, "status", _echo(tx))
        if answer.ok and answer.state == "CONFIRMED":
            return S.CONFIRMED
        if answer.ok and answer.state == "REVERSED":
            return S.REVERSED
        if answer.status == 400 and isinstance(answer.data, dict):
            return S.FAILED  # the merchant answered: it failed (errorCode in the exchange)
    return S.FAILED


def reverse_payment(tx: AppTransaction) -> Answer:
    answer = call_merchant(tx, "reverse", _echo(tx))
    if answer.ok and answer.state == "REVERSED":
        _set_status(tx, S.REVERSED)
    return answer


def last_error_code(tx: AppTransaction) -> str | None:
    for entry in reversed(tx.exchange or []):
        response = entry.get("response")
        if isinstance(response, dict) and response.get("errorCode") is not None:
            return str(response["errorCode"])
    return None


def last_error(tx: AppTransaction) -> str:
    """What went wrong with the last call that failed, for the outcome page."""
    for entry in reversed(tx.exchange or []):
        if entry.get("status") != 200 or entry.get("error"):
            return entry.get("error") or f"HTTP {entry.get('status')}"
    return ""


# ----------------------------------------------------------------------------------- pages


def _page(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault("phone", PHONE)
    return render(request, f"uzum_sandbox/{template}", context, status=status)


def _message(request, heading: str, message: str, status: int) -> HttpResponse:
    return _page(request, "app_message.html", {"heading": heading, "message": message}, status)


def _safe_url(raw: str | None) -> str:
    raw = (raw or "").strip()
    return raw if urlsplit(raw).scheme in ("http", "https") else ""


def _positive_int(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10**12 else None


def _amount_from(data: dict) -> int | None:
    """An amount the merchant's /check answer carries (not in Uzum's spec, but common)."""
    amount = data.get("amount")
    if isinstance(amount, int) and not isinstance(amount, bool) and amount > 0:
        return amount
    fields = data.get("data")
    field = fields.get("amount") if isinstance(fields, dict) else None
    if isinstance(field, dict):
        return _positive_int(str(field.get("value", "")))
    return None


def _data_fields(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    fields = []
    for key, value in data.items():
        if isinstance(value, dict) and "value" in value:
            value = value["value"]
        fields.append((str(key), "" if value is None else str(value)))
    return fields


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def _too_many_openings(service: MerchantService, address: str) -> bool:
    """Whether this address or this service opened too many links in the last minute. The
    counts are of stored openings: two requests at once may both pass at the limit's edge,
    which bounds the flood all the same."""
    recent = AppTransaction.objects.filter(
        created_at__gte=timezone.now() - timedelta(seconds=OPENS_WINDOW)
    )
    per_address = _limit("NAVBAT_SANDBOX_APP_OPENS_PER_ADDRESS", 30)
    per_service = _limit("NAVBAT_SANDBOX_APP_OPENS_PER_SERVICE", 60)
    return (
        recent.filter(client_address=address).count() >= per_address
        or recent.filter(service=service).count() >= per_service
    )


def _forget_old_unpaid(service: MerchantService) -> None:
    """Keep only the service's latest openings nobody paid (they hold no money)."""
    kept = _limit("NAVBAT_SANDBOX_APP_UNPAID_KEPT", 100)
    unpaid = AppTransaction.objects.filter(service=service, payment_source="")
    newest = list(unpaid.order_by("-id").values_list("id", flat=True)[:kept])
    if len(newest) == kept:
        unpaid.filter(id__lt=newest[-1]).delete()


@transaction.non_atomic_requests
@require_GET
def open_service(request: HttpRequest) -> HttpResponse:
    raw_id = (request.GET.get("serviceId") or "").strip()
    service = None
    if raw_id.isdigit() and len(raw_id) < 12:
        service = MerchantService.objects.filter(service_id=int(raw_id)).exclude(owner="").first()
    if service is None:
        return _message(
            request,
            "Service not found",
            f"No merchant service has serviceId {raw_id or '(none)'}. Check the link.",
            404,
        )
    attribute = service.attribute_name
    value = (request.GET.get(attribute) or "").strip()
    if not value:
        return _message(
            request,
            "The link is incomplete",
            f"The link has no “{attribute}” parameter, so there is nothing to pay.",
            400,
        )
    address = client_ip(request)
    if _too_many_openings(service, address):
        response = _message(
            request,
            _("Too many requests"),
            _("This link was opened too often. Wait a minute and open it again."),
            429,
        )
        response["Retry-After"] = str(OPENS_WINDOW)
        return response
    query_amount = _positive_int(request.GET.get("amount"))
    tx = AppTransaction.objects.create(
        service=service,
        params={attribute: value},
        amount=query_amount or 0,
        phone=PHONE,
        client_address=address[:45],
    )
    _forget_old_unpaid(service)
    answer = check(tx)
    if not (answer.ok and answer.state == "OK"):
        _set_status(tx, S.FAILED)
        return redirect(_outcome_url(tx, _safe_url(request.GET.get("redirectUrl"))))
    amount = query_amount or _amount_from(answer.data)
    if amount and amount != tx.amount:
        tx.amount = amount
        AppTransaction.objects.filter(pk=tx.pk).update(amount=amount)
    context = {
        "service": service,
        "tx": tx,
        "attribute": attribute,
        "value": value,
        "fields": _data_fields(answer.data.get("data")),
        "amount": format_som(amount) if amount else "",
        "amount_tiyin": amount or "",
        "sources": SOURCES,
        "tariffs": TARIFFS,
        "redirect_url": _safe_url(request.GET.get("redirectUrl")),
    }
    return _page(request, "app_pay.html", context)


def _outcome_url(tx: AppTransaction, redirect_url: str = "") -> str:
    url = reverse("sandbox-app-outcome", args=[tx.trans_id])
    return f"{url}?{urlencode({'redirectUrl': redirect_url})}" if redirect_url else url


def _transaction(trans_id, *, owner: str | None = None) -> AppTransaction | None:
    rows = AppTransaction.objects.select_related("service").filter(trans_id=trans_id)
    if owner is not None:
        rows = rows.filter(service__owner=owner)
    return rows.first()


@csrf_exempt  # the bank's app, not a navbat form; a double tap is stopped by the claim below
@transaction.non_atomic_requests
@require_POST
def pay(request: HttpRequest, trans_id) -> HttpResponse:
    tx = _transaction(trans_id)
    if tx is None:
        return _message(request, "Payment not found", "This payment does not exist.", 404)
    redirect_url = _safe_url(request.POST.get("redirectUrl"))
    source = request.POST.get("source", "")
    tariff = request.POST.get("tariff", "") if source == INSTALLMENT else ""
    if source not in SOURCES or (source == INSTALLMENT and tariff not in TARIFFS):
        return _message(
            request, "Choose how to pay", "Go back and choose a card, the balance or a plan.", 400
        )
    amount = tx.amount
    if not amount:
        try:
            amount = som_to_tiyin(request.POST.get("amount_som", ""))
        except MoneyError as exc:
            return _message(request, "Enter the amount", str(exc), 400)
        if amount <= 0:
            return _message(request, "Enter the amount", "The amount must be above zero.", 400)
    # Claim the transaction: a second tap (or a second tab) finds it taken.
    claimed = AppTransaction.objects.filter(pk=tx.pk, status=S.CREATING, payment_source="").update(
        payment_source=source, tariff=tariff, amount=amount
    )
    if claimed:
        tx.refresh_from_db()
        run_payment(tx)
    return redirect(_outcome_url(tx, redirect_url))


@require_GET
def outcome(request: HttpRequest, trans_id) -> HttpResponse:
    tx = _transaction(trans_id)
    if tx is None:
        return _message(request, "Payment not found", "This payment does not exist.", 404)
    source = SOURCES.get(tx.payment_source, {})
    context = {
        "tx": tx,
        "service": tx.service,
        "amount": format_som(tx.amount) if tx.amount else "",
        "source": source.get("label", tx.payment_source),
        "tariff": TARIFFS.get(tx.tariff, tx.tariff),
        "error_code": last_error_code(tx),
        "error": last_error(tx),
        "redirect_url": _safe_url(request.GET.get("redirectUrl")),
        "params": _data_fields(tx.params),
    }
    return _page(request, "app_outcome.html", context)


@transaction.non_atomic_requests
@require_POST
@owner_required
def reverse_transaction(request: HttpRequest, trans_id, *, owner: str) -> HttpResponse:
    """The service owner's action: send ``/reverse`` for a transaction."""
    tx = _transaction(trans_id, owner=owner)
    back = reverse("sandbox-dashboard") + "#transactions"
    if tx is None:
        messages.error(request, "No such transaction.")
        return redirect(back)
    if tx.status not in (S.CREATED, S.CONFIRMED):
        messages.error(request, f"Transaction {tx.trans_id} is {tx.status}: nothing to reverse.")
        return redirect(back)
    answer = reverse_payment(tx)
    if answer.ok and answer.state == "REVERSED":
        messages.success(request, f"Transaction {tx.trans_id} reversed.")
    else:
        detail = answer.error_code or answer.error or f"HTTP {answer.status}"
        messages.error(request, f"/reverse for {tx.trans_id} failed: {detail}.")
    return redirect(back)
