"""The sandbox bank's dashboard: ``<root>/sandbox/uzum/``, for a logged-in navbat owner.

The owner's terminals, Merchant API services, recent orders, app transactions and
callbacks with their delivery attempts, and the owner's sandbox token for scripts. Its
actions: "Rotate token" (here) and sending ``/reverse`` for an app transaction
(``app.py``). API keys and passwords are never shown (the control API gives them to their owner).
"""

import json
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from navbat.kit import sandbox_tokens

from . import callbacks, tokens
from .hosted import format_som
from .models import AppTransaction, Callback, MerchantService, Order, Terminal

RECENT = 50


def owner_required(view: Callable) -> Callable:
    """A page for the logged-in owner of sandbox rows, given to the view as ``owner``."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        owner = sandbox_tokens.owner_of_request(request)
        if owner is None:
            return HttpResponseForbidden(
                "Only the business's owners use the sandbox bank.", content_type="text/plain"
            )
        return view(request, *args, owner=owner, **kwargs)

    return wrapper


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True) if value else ""


@require_GET
@owner_required
def index(request: HttpRequest, *, owner: str) -> HttpResponse:
    terminals = list(Terminal.objects.filter(owner=owner).order_by("-created_at", "-id"))
    for terminal in terminals:
        terminal.faults_json = _json(terminal.faults)
    services = list(MerchantService.objects.filter(owner=owner).order_by("-created_at", "-id"))
    for service in services:
        service.faults_json = _json(service.faults)
    orders = list(
        Order.objects.filter(terminal__owner=owner)
        .select_related("terminal")
        .prefetch_related("operations")
        .order_by("-created_at", "-id")[:RECENT]
    )
    for order in orders:
        order.som = format_som(order.amount)
        order.completed_som = format_som(order.completed_amount)
        order.refunded_som = format_som(order.refunded_amount)
        order.reversed_som = format_som(order.reversed_amount)
    transactions = list(
        AppTransaction.objects.filter(service__owner=owner)
        .select_related("service")
        .order_by("-created_at", "-id")[:RECENT]
    )
    for tx in transactions:
        tx.som = format_som(tx.amount) if tx.amount else ""
        tx.exchange_json = _json(tx.exchange)
        tx.steps = " → ".join(entry.get("endpoint", "?") for entry in tx.exchange or [])
        tx.reversible = tx.status in ("CREATED", "CONFIRMED")
    recent_callbacks = list(
        Callback.objects.filter(terminal__owner=owner)
        .select_related("terminal")
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-id")[:RECENT]
    )
    for callback in recent_callbacks:
        callback.state = callbacks.state(callback)
        callback.body_json = _json(callback.body)
        body = callback.body if isinstance(callback.body, dict) else {}
        callback.summary = " ".join(
            str(body[key])
            for key in ("operationType", "operationState", "eventType", "receiptType")
            if body.get(key)
        )
    context = {
        "terminals": terminals,
        "services": services,
        "orders": orders,
        "transactions": transactions,
        "callbacks": recent_callbacks,
        "max_attempts": callbacks.MAX_ATTEMPTS,
        "sandbox_token": sandbox_tokens.token_for(owner),
    }
    return render(request, "uzum_sandbox/dashboard.html", context)


@require_POST
@owner_required
def rotate_token(request: HttpRequest, *, owner: str) -> HttpResponse:
    """ "Rotate token": the owner's scripts need the new token shown on the page."""
    tokens.rotate(owner)
    messages.success(request, _("A new sandbox token was made; the previous one no longer works."))
    return redirect(reverse("sandbox-dashboard") + "#token")
