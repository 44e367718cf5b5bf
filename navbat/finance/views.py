"""Finance pages: cash registers and the list of transactions.

Views are thin: forms check the input, services write, selectors read; every object is
looked up through ``get_scoped_or_404`` first, so another business's id is a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from navbat.accounts.permissions import manager_required
from navbat.kit.forms import add_service_errors
from navbat.kit.tenancy import get_scoped_or_404

from . import selectors, services
from .forms import RegisterForm, TransactionFilterForm
from .models import CashRegister

PAGE_SIZE = 50


@manager_required
def transaction_list_view(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    business = request.business
    form = TransactionFilterForm(request.GET, business=business)
    if form.is_valid():
        rows = selectors.transactions(
            business=business, tz_name=business.timezone, **form.filters()
        )
        status = 200
    else:
        rows = selectors.transactions(business=business).none()
        status = 400
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "finance/transaction_list.html",
        {
            "nav": "finance",
            "sub": "transactions",
            "form": form,
            "page": page,
            "totals": selectors.totals(rows),
            "client": form.cleaned_data.get("client") if form.is_valid() else None,
        },
        status=status,
    )


@manager_required
def register_list_view(request):
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return render(
        request,
        "finance/register_list.html",
        {
            "nav": "finance",
            "sub": "registers",
            "registers": selectors.registers_with_totals(business=request.business),
        },
    )


def _register_editor(request, register: CashRegister | None):
    if request.method not in ("GET", "POST"):
        return HttpResponseNotAllowed(["GET", "POST"])
    business = request.business
    if request.method == "GET":
        initial = RegisterForm.initial_for(register) if register else None
        form = RegisterForm(business=business, initial=initial)
    else:
        form = RegisterForm(request.POST, business=business)
        if form.is_valid():
            try:
                if register is None:
                    services.create_register(business=business, **form.cleaned_data)
                else:
                    services.update_register(register=register, **form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
                if register is not None:
                    register.refresh_from_db()
            else:
                messages.success(request, _("The register is saved."))
                return redirect("finance:registers")
    return render(
        request,
        "finance/register_form.html",
        {"nav": "finance", "sub": "registers", "form": form, "register": register},
        status=400 if request.method == "POST" else 200,
    )


@manager_required
def register_new_view(request):
    return _register_editor(request, None)


@manager_required
def register_edit_view(request, register_id: int):
    register = get_scoped_or_404(CashRegister, request.business, pk=register_id)
    return _register_editor(request, register)
