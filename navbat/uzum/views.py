"""Integrations → Uzum Bank (F1): the connection's page, the connect form (also "Change
keys"), and disconnect. Owners and administrators see the page; only owners change the bank
settings (where the money goes and with which keys). The connection shown is always the
business's own (looked up through the selectors, scoped by business)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from navbat.accounts.permissions import is_owner, manager_required, owner_required
from navbat.finance.fees import set_fee_return
from navbat.kit.bankcalls import bank_calling_view
from navbat.kit.forms import add_service_errors

from . import selectors, services
from .forms import ConnectForm, FeeReturnForm
from .models import Environment, mask

log = logging.getLogger("navbat.uzum")


def _context(**extra) -> dict:
    return {"nav": "integrations", **extra}


@manager_required
def index_view(request):
    """Integrations: Uzum Bank is the only one so far."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return redirect("uzum:overview")


@manager_required
def overview_view(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    business = request.business
    connection = selectors.active_connection(business=business)
    context = _context(
        connection=connection,
        earlier=selectors.earlier_connections(business=business),
        may_change=is_owner(request),
    )
    if connection is not None:
        context.update(
            addresses=selectors.bank_addresses(public_id=connection.public_id),
            rates=selectors.fee_rates(connection=connection),
            masked_password=mask(connection.merchant_password),
            fee_schedule=connection.fee_schedule,
            fee_return_form=FeeReturnForm(
                initial={
                    "fee_returned_on_refund": connection.fee_schedule.fee_returned_on_refund,
                    "fee_returned_on_reversal": connection.fee_schedule.fee_returned_on_reversal,
                }
            ),
        )
    return render(request, "uzum/overview.html", context)


@owner_required
def fee_return_view(request):
    """POST: whether the bank returns its fee on refunds and on reversals (the connection's
    fee schedule); refunds booked afterwards follow it."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    connection = selectors.active_connection(business=request.business)
    if connection is None:
        messages.info(request, _("Uzum Bank is not connected."))
        return redirect("uzum:overview")
    form = FeeReturnForm(request.POST)
    if form.is_valid():
        set_fee_return(
            schedule=connection.fee_schedule,
            on_refund=form.cleaned_data["fee_returned_on_refund"],
            on_reversal=form.cleaned_data["fee_returned_on_reversal"],
        )
        messages.success(request, _("The refund settings of the bank's fee are saved."))
    return redirect("uzum:overview")


def _default_hosts() -> dict[str, str]:
    hosts = {}
    for value, _label in Environment.choices:
        if value == Environment.SANDBOX and not settings.NAVBAT_SANDBOX:
            continue
        hosts[value] = services.default_checkout_url(value)
    return hosts


# Not one transaction per request: the keys are checked with the bank (and the sandbox makes
# its terminal) over HTTP, and no lock may be held meanwhile (SQLite's IMMEDIATE transactions
# would hold the whole database); services.connect writes in its own transaction afterwards.
@bank_calling_view
@owner_required
def connect_view(request):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    business = request.business
    current = selectors.active_connection(business=business)
    hosts = _default_hosts()
    status = 200
    if request.method == "GET":
        initial = ConnectForm.initial_for(current)
        initial.setdefault("checkout_base_url", hosts.get(initial["environment"], ""))
        form = ConnectForm(initial=initial, current=current)
    else:
        create_sandbox = "create_sandbox" in request.POST
        form = ConnectForm(request.POST, create_sandbox=create_sandbox, current=current)
        if form.is_valid():
            try:
                if create_sandbox:
                    connection = services.connect_new_sandbox(
                        business=business, author=request.user, **form.options()
                    )
                else:
                    connection = services.connect(
                        business=business, author=request.user, **form.connect_arguments()
                    )
            except ValidationError as error:
                # KeysRefused and BankUnreachable carry their own message and code; a field
                # the service names lands on that field.
                log.info(
                    "Uzum Bank connect refused for business %s: %s",
                    business.pk,
                    getattr(error, "code", None) or "invalid",
                )
                add_service_errors(form, error)
            else:
                log.info(
                    "Uzum Bank connected for business %s: connection %s (%s)",
                    business.pk,
                    connection.public_id,
                    connection.environment,
                )
                messages.success(
                    request,
                    _("Uzum Bank is connected. Give the addresses below to Uzum's manager."),
                )
                return redirect("uzum:overview")
        status = 400
    return render(
        request,
        "uzum/connect.html",
        _context(
            form=form,
            current=current,
            hosts=hosts,
            sandbox=settings.NAVBAT_SANDBOX,
        ),
        status=status,
    )


@owner_required
def disconnect_view(request):
    """GET asks to confirm; POST disconnects. Payments, callbacks and the books stay."""
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    connection = selectors.active_connection(business=request.business)
    if connection is None:
        messages.info(request, _("Uzum Bank is not connected."))
        return redirect("uzum:overview")
    if request.method == "POST":
        services.disconnect(connection=connection)
        log.info(
            "Uzum Bank disconnected for business %s: connection %s",
            request.business.pk,
            connection.public_id,
        )
        messages.success(
            request,
            _("Uzum Bank is disconnected. Its payments and transactions stay in the books."),
        )
        return redirect("uzum:overview")
    return render(request, "uzum/disconnect.html", _context(connection=connection))
