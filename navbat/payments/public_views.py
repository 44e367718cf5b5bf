"""The client's Quick Payment page (F2): public, phone first, in the client's language.

The token in the address is the only authority: no login, no business in the session. The
bank's redirect back to us is only a hint; what the page says comes from the bank's own
answer (``services.refresh``) or from what callbacks and reconciliation already recorded.
"""

import logging
import re
from functools import lru_cache

from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.http import require_GET, require_POST, require_safe

from navbat.kit.bankcalls import bank_calling_view
from navbat.kit.timeutil import to_local, zone

from . import links, offers, payables, selectors, services
from .models import PaymentLink, PaymentOrder, State
from .providers import ProviderError
from .states import FAILED_STATES, OPEN_STATES, SETTLED_STATES

log = logging.getLogger("navbat.payments")

# Tokens are ``secrets.token_urlsafe``; anything else is not worth a database query.
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")
REFERENCE_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _link(token: str) -> PaymentLink | None:
    if not TOKEN_RE.fullmatch(token or ""):
        return None
    return services.find_link(token)


def _order(link: PaymentLink, reference: str) -> PaymentOrder | None:
    if not REFERENCE_RE.fullmatch(reference or ""):
        return None
    return selectors.order_of_link(link=link, reference=reference)


def _describe(link: PaymentLink) -> payables.PayableView | None:
    return payables.describe(
        business=link.business, kind=link.payable_kind, payable_id=link.payable_id
    )


def _language() -> str:
    return (translation.get_language() or "uz").split("-")[0]


def _render(request, template: str, context: dict, *, status: int = 200):
    view = context.get("view")
    # The way back to the payable's own page (an online booking's private page) is shown
    # only to the browser that came from it, not to whoever else holds the payment link.
    context["back_url"] = (
        view.back_url
        if view and view.back_url and payables.came_back_from(request.COOKIES, view.back_url)
        else ""
    )
    # Dates on the page are the salon's local times, whoever opens it from wherever.
    with timezone.override(zone(view.time_zone if view else None)):
        return render(request, template, context, status=status)


def _not_found(request):
    return render(request, "payments/quick/not_found.html", {}, status=404)


@lru_cache(maxsize=256)
def _app_qr(app_url: str) -> str:
    """Drawing a QR code was more than half of the page's time; the open-service link (and so
    its picture) changes only with the link's code, the amount due and the connection, all
    part of the URL. 256 pictures of a few KB each at most."""
    return links.qr_svg(app_url, scale=3)


def _page_context(link: PaymentLink, view: payables.PayableView) -> dict:
    offer = offers.offer_for(link=link, view=view)
    return {
        "link": link,
        "token": link.token,
        "view": view,
        "payable_label": payables.label(link.payable_kind),
        "starts_local": to_local(view.starts_at, view.time_zone) if view.starts_at else None,
        "card": offer.card,
        "app_url": offer.app_url,
        "app_qr": _app_qr(offer.app_url) if offer.app_url else "",
        "installments": offer.installments,
        "words": offer.presentation,
    }


# Reads only: no request transaction, whose BEGIN and COMMIT were two of the page's few
# round trips to the database (the page and its watch are what clients' phones poll).
@transaction.non_atomic_requests
@require_safe
def pay_view(request, token: str):
    link = _link(token)
    view = _describe(link) if link else None
    if view is None:
        return _not_found(request)
    context = _page_context(link, view)
    if view.is_open and view.due <= 0:
        context.update(screen="paid", order=selectors.latest_paid(link=link))
    return _render(request, "payments/quick/page.html", context)


@bank_calling_view
@require_POST
def pay_card_view(request, token: str):
    """Start a card payment and send the client to the bank's page. Not in a request
    transaction: the service commits the order (our reference) before it calls the bank."""
    link = _link(token)
    view = _describe(link) if link else None
    if view is None:
        return _not_found(request)
    try:
        order = services.start_card_payment(
            link=link,
            language=_language(),
            success_url=links.return_url(link.token),
            failure_url=links.return_url(link.token, failed=True),
        )
    except services.PaymentRefused as error:
        message = " ".join(error.messages)
    except ProviderError as error:
        message = error.message
    else:
        if order.state == State.PENDING and order.redirect_url:
            return HttpResponseRedirect(order.redirect_url)
        # Settled already (a callback overtook us): the return page says how it ended.
        target = reverse("pay:return", kwargs={"token": link.token, "reference": order.reference})
        return HttpResponseRedirect(target)
    view = _describe(link)
    context = _page_context(link, view)
    context["error"] = message
    if view.is_open and view.due <= 0:
        context.update(screen="paid", order=selectors.latest_paid(link=link))
    return _render(request, "payments/quick/page.html", context)


def _pull(order: PaymentOrder, *, business) -> PaymentOrder:
    """Ask the bank about an order still open, at most once per ``services.PULL_PAUSE``; when the
    bank cannot say, the page keeps waiting (reconciliation settles it later)."""
    if order.state not in OPEN_STATES or not order.bank_order_id:
        return order
    if not services.claim_pull(order=order, business=business):
        return order
    try:
        return services.refresh(order=order)
    except ProviderError as error:
        log.info("status of %s not known yet: %s", order.reference, error.message)
        return order


def _outcome(order: PaymentOrder, *, failed_hint: bool) -> str:
    if order.state in SETTLED_STATES:
        return "paid"
    if order.state in FAILED_STATES or failed_hint:
        return "failed"
    return "waiting"


def _status_context(
    link: PaymentLink, view: payables.PayableView, order: PaymentOrder, *, failed_hint: bool
) -> dict:
    context = _page_context(link, view)
    outcome = _outcome(order, failed_hint=failed_hint)
    if outcome == "failed" and not (view.is_open and view.due > 0):
        # Another attempt paid it meanwhile (or it was cancelled): never offer a second charge.
        paid = selectors.latest_paid(link=link)
        outcome, order = ("paid", paid) if paid else ("closed", order)
    context.update(order=order, screen=outcome)
    return context


def _settle(request, token: str, reference: str, *, template: str, failed_hint: bool):
    link = _link(token)
    order = _order(link, reference) if link else None
    if order is None:
        return _not_found(request)
    order = _pull(order, business=link.business)
    view = _describe(link)  # after the pull: a payment just recorded shows as paid
    if view is None:
        return _not_found(request)
    context = _status_context(link, view, order, failed_hint=failed_hint)
    return _render(request, template, context)


@bank_calling_view
@require_GET
def pay_return_view(request, token: str, reference: str):
    """Where the bank sends the client back (successUrl / failureUrl): only a hint, the
    screen follows the bank's answer."""
    failed = request.GET.get("failed") == "1"
    return _settle(
        request, token, reference, template="payments/quick/status.html", failed_hint=failed
    )


@bank_calling_view
@require_GET
def pay_status_view(request, token: str, reference: str):
    """htmx: the waiting screen asks every 2 s; answers the final screen once settled."""
    return _settle(
        request, token, reference, template="payments/quick/_status.html", failed_hint=False
    )


@transaction.non_atomic_requests  # reads only, as the page
@require_safe
def pay_watch_view(request, token: str):
    """htmx, every few seconds while the page offers the app: the app pays without coming
    back through this page, so the page asks. Nothing to say → 204; paid or closed →
    the page reloads and shows the receipt."""
    link = _link(token)
    state = (
        payables.due_state(
            business=link.business, kind=link.payable_kind, payable_id=link.payable_id
        )
        if link
        else None
    )
    if state is None:
        return _not_found(request)
    if state.is_open and state.due > 0:
        return HttpResponse(status=204)
    response = HttpResponse(status=200)
    response["HX-Refresh"] = "true"
    return response
