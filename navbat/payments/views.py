"""Administration pages of online payments: the list of payments (owners and
administrators) and the reconciliation report (owners only).

Views are thin: the filter form checks the input, selectors read (scoped to the user's
business), ``reconciliation.run_daily`` does the checking.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from navbat.accounts.permissions import is_owner, manager_required, owner_required
from navbat.kit.bankcalls import bank_calling_view
from navbat.kit.money import format_money

from . import reconciliation, selectors
from .forms import PaymentFilterForm
from .models import State

PAGE_SIZE = 50
DIFFERENCE_DAYS = 30


@manager_required
def payment_list_view(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    business = request.business
    form = PaymentFilterForm(request.GET)
    if form.is_valid():
        rows = selectors.payments(business=business, **form.filters())
        status = 200
    else:
        rows = selectors.payments(business=business).none()
        status = 400
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "payments/payment_list.html",
        {
            "nav": "finance",
            "sub": "payments",
            "form": form,
            "page": page,
            "totals": selectors.totals(rows),
            "is_owner": is_owner(request),
        },
        status=status,
    )


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
