"""Administration pages of online payments: the list of payments and the refund of one
(owners and administrators), and the reconciliation report (owners only).

Views are thin: the filter form checks the input, selectors read (scoped to the user's
business), ``reconciliation.run_daily`` does the checking.
"""

import uuid

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from navbat.accounts.permissions import is_owner, manager_required, owner_required
from navbat.finance.models import RegisterKind
from navbat.finance.selectors import registers
from navbat.kit.bankcalls import bank_calling_view
from navbat.kit.forms import add_service_errors
from navbat.kit.money import format_money
from navbat.kit.tenancy import get_scoped_or_404, scoped
from navbat.kit.timeutil import local_today

from . import (
    charts,
    checkout_qr,
    dashboard,
    export,
    providers,
    reconciliation,
    refunds,
    selectors,
)
from .forms import PaymentFilterForm, RefundForm, ReversalRequestForm
from .models import Method, PaymentOrder, Refund, RefundRoute, RefundState, State
from .states import REFUND_IN_FLIGHT

PAGE_SIZE = 50
DIFFERENCE_DAYS = 30


@manager_required
def payment_list_view(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    business = request.business
    form = PaymentFilterForm(request.GET, today=local_today(business.timezone))
    board = chart = None
    if form.is_valid():
        filters = form.filters()
        rows = selectors.payments(business=business, **filters)
        board = dashboard.dashboard(business=business, **filters)
        chart = charts.daily_chart(board.days)
        status = 200
    else:
        rows = selectors.payments(business=business).none()
        status = 400
    page = Paginator(with_refunds(rows, business), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/payment_list.html",
        {
            "nav": "finance",
            "sub": "payments",
            "connection": checkout_qr.connection(business=business),
            "point_locations": checkout_qr.points_by_location(business=business),
            "form": form,
            "page": page,
            "totals": selectors.totals(rows),
            "dashboard": board,
            "chart": chart,
            "export_query": request.GET.urlencode(),
            "to_give_back": selectors.to_give_back(business=business),
            "is_owner": is_owner(request),
        },
        status=status,
    )


@manager_required
def payment_export_view(request):
    """The payments of the list's period and filters as CSV (export.py says how)."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    business = request.business
    form = PaymentFilterForm(request.GET, today=local_today(business.timezone))
    if not form.is_valid():
        problems = [
            f"{form.fields[name].label}: {error}" if name in form.fields else str(error)
            for name, errors in form.errors.items()
            for error in errors
        ]
        return HttpResponse(
            "\n".join(problems) + "\n", status=400, content_type="text/plain; charset=utf-8"
        )
    filters = form.filters()
    rows = selectors.payments(business=business, **filters).order_by("created_at", "id")
    response = StreamingHttpResponse(
        export.lines(rows, tz_name=business.timezone), content_type="text/csv; charset=utf-8"
    )
    name = f"payments-{filters['date_from'].isoformat()}-{filters['date_to'].isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


WHAT_LABELS = {
    reconciliation.STATE: gettext_lazy("State"),
    reconciliation.PAID_AMOUNT: gettext_lazy("Paid amount"),
    reconciliation.REFUNDED_AMOUNT: gettext_lazy("Refunded amount"),
    reconciliation.UNREACHABLE: gettext_lazy("The bank did not answer"),
    reconciliation.UNKNOWN_AT_BANK: gettext_lazy("The bank does not know the order"),
}
AMOUNTS = (reconciliation.PAID_AMOUNT, reconciliation.REFUNDED_AMOUNT)


def _shown(what: str, value: str, *, ours: bool) -> str:
    """A stored value as a person reads it: an amount in so'm, a state by its name."""
    if what in AMOUNTS and value.lstrip("-").isdigit():
        return format_money(int(value))
    if (what == reconciliation.STATE or ours) and value in State.values:
        return str(State(value).label)
    return value


def _difference_rows(differences) -> list[dict]:
    return [
        {
            "found_on": row.found_on,
            "order": row.order,
            "what": WHAT_LABELS.get(row.what, row.what),
            "ours": _shown(row.what, row.ours, ours=True),
            "bank": _shown(row.what, row.bank, ours=False),
        }
        for row in differences
    ]


@bank_calling_view
@owner_required
def reconciliation_view(request):
    """The differences of the last 30 days; "Check now" (POST) asks the bank about this
    business's recent payments (no transaction is held open while the bank answers)."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    business = request.business
    if request.method == "POST":
        found = reconciliation.run_daily(business=business)
        if found:
            messages.warning(
                request,
                ngettext(
                    "The check found %(count)d new difference.",
                    "The check found %(count)d new differences.",
                    found,
                )
                % {"count": found},
            )
        else:
            messages.success(request, _("The check found no new differences."))
        return redirect("payments:reconciliation")
    rows = selectors.differences(business=business, days=DIFFERENCE_DAYS)
    return render(
        request,
        "payments/reconciliation.html",
        {
            "nav": "finance",
            "sub": "reconciliation",
            "rows": _difference_rows(rows),
            "days": DIFFERENCE_DAYS,
            "is_owner": True,
        },
    )


# --------------------------------------------------------------------------- refunds


def with_refunds(rows, business):
    """Orders with their refunds read in one more query (``order.refunds.all``), newest
    first, for the refund states shown beside each payment."""
    return rows.prefetch_related(
        Prefetch("refunds", queryset=scoped(Refund, business).order_by("-created_at", "-id"))
    )


def _refund_registers(business):
    """The salon's own registers money may be given back from: active, not the online one
    the payment landed in."""
    return registers(business=business, active_only=True).exclude(kind=RegisterKind.ONLINE)


def _prefilled(request, refundable: int) -> int:
    """The amount the form starts with: what is refundable, or less when the page asked
    (``?amount=`` in tiyin, as the overpayment notice does)."""
    asked = request.GET.get("amount", "")
    if asked.isdigit() and 0 < int(asked) < refundable:
        return int(asked)
    return refundable


def _next_url(request) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return ""


def _refund_context(request, order, *, form=None, reversal_form=None, done=None, error="") -> dict:
    business = request.business
    refundable = refunds.refundable_amount(order)
    rows = list(scoped(Refund, business).filter(order=order).order_by("-created_at", "-id"))
    flying = next((row for row in rows if row.state in REFUND_IN_FLIGHT), None)
    choices = _refund_registers(business)
    if form is None:
        form = RefundForm(
            order=order,
            registers=choices,
            initial={
                "amount": _prefilled(request, refundable),
                "idempotency_key": uuid.uuid4(),
            },
        )
    return {
        "order": order,
        "refunds": rows,
        "refundable": refundable,
        "in_flight": flying,
        "reversal_request": (
            flying if flying and flying.route == RefundRoute.BANK_REVERSAL else None
        ),
        "form": form,
        "reversal_form": reversal_form or ReversalRequestForm(),
        # The bank reverses only a whole payment that nothing was given back of yet.
        "may_ask_reversal": order.method == Method.APP and refunds.reversal_refusal(order) is None,
        "is_app": order.method == Method.APP,
        "bank": _bank_name(order),
        "done": done,
        "error": error,
        "next": _next_url(request),
    }


def _bank_name(order) -> str:
    try:
        return providers.get(order.provider).presentation().display_name
    except LookupError:
        return ""


def _refund_answer(request, order, context, *, status=200, changed=False):
    if request.headers.get("HX-Request"):
        # An error is shown in the swapped panel (htmx swaps only 2xx answers).
        response = render(request, "payments/_refund.html", context)
        if changed:
            # The page around the panel (an appointment's money, a list) refreshes itself.
            response["HX-Trigger"] = "payment-refunded"
        return response
    return render(
        request,
        "payments/refund.html",
        {"nav": "finance", "sub": "payments", **context},
        status=status,
    )


def _done_message(refund) -> str:
    if refund.state == RefundState.DONE:
        return _("%(amount)s is given back.") % {"amount": format_money(refund.amount)}
    if refund.state == RefundState.FAILED:
        return _("The refund failed, nothing moved: %(reason)s You can try again.") % {
            "reason": refund.failure_reason
        }
    return _("The refund of %(amount)s is at the bank; its state shows here when it ends.") % {
        "amount": format_money(refund.amount)
    }


@bank_calling_view
@manager_required
def refund_view(request, order_id: int):
    """One payment's refund: GET shows what was paid and given back and the form; POST
    gives money back (``action`` refund), asks the bank to reverse an app payment
    (``ask_reversal``) or withdraws that request (``withdraw``). Not one transaction per
    request: a refund to the card calls the bank, and the service commits around it."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    business = request.business
    rows = scoped(PaymentOrder, business).select_related("client", "document")
    order = get_scoped_or_404(rows, business, pk=order_id)
    if request.method == "GET":
        return _refund_answer(request, order, _refund_context(request, order))
    action = request.POST.get("action", "refund")
    form = reversal_form = None
    refund = None
    error = ""
    try:
        if action == "refund":
            form = RefundForm(request.POST, order=order, registers=_refund_registers(business))
            if form.is_valid():
                refund = _refund(request, order, form.cleaned_data)
        elif action == "ask_reversal":
            reversal_form = ReversalRequestForm(request.POST)
            if reversal_form.is_valid():
                refund = refunds.ask_bank_reversal(
                    business=business,
                    order_id=order.pk,
                    reason=reversal_form.cleaned_data["reason"],
                    author=request.user,
                )
        elif action == "withdraw":
            refund_id = request.POST.get("refund", "")
            if not refund_id.isdigit():
                raise Http404
            refund = refunds.withdraw_reversal_request(
                business=business, refund_id=int(refund_id), author=request.user
            )
        else:
            raise Http404
    except (PaymentOrder.DoesNotExist, Refund.DoesNotExist):
        raise Http404 from None
    except ValidationError as problem:  # RefundConflict too
        target = reversal_form if action == "ask_reversal" else form
        if target is None:
            error = " ".join(problem.messages)
        else:
            add_service_errors(target, problem)
    order.refresh_from_db()
    if refund is None:
        context = _refund_context(
            request, order, form=form, reversal_form=reversal_form, error=error
        )
        return _refund_answer(request, order, context, status=400)
    message = _withdrawn_or_done(action, refund)
    if not request.headers.get("HX-Request"):
        failed = refund.state == RefundState.FAILED and action == "refund"
        (messages.error if failed else messages.success)(request, message)
        return redirect(_next_url(request) or reverse("payments:refund", args=[order.pk]))
    return _refund_answer(
        request, order, _refund_context(request, order, done=message), changed=True
    )


def _withdrawn_or_done(action: str, refund) -> str:
    if action == "ask_reversal":
        return _("The request is recorded. Quote the bank's transaction id to the bank.")
    if action == "withdraw":
        return _("The request to the bank is withdrawn.")
    return _done_message(refund)


def _refund(request, order, data):
    key = data.get("idempotency_key")
    register = data.get("register")
    route = data["route"]
    return refunds.refund_payment(
        business=request.business,
        order_id=order.pk,
        amount=data["amount"],
        reason=data["reason"],
        route=route,
        register_id=register.pk if register and route == RefundRoute.REGISTER else None,
        author=request.user,
        idempotency_key=f"page:{key}" if key else "",
    ).refund
