from django.shortcuts import render

from navbat.accounts.permissions import manager_required

from . import selectors


@manager_required
def client_list_view(request):
    return render(
        request,
        "salons/clients.html",
        {
            "nav": "clients",
            "clients": selectors.clients(business=request.business)[:200],
        },
    )


@manager_required
def specialist_list_view(request):
    return render(
        request,
        "salons/specialists.html",
        {
            "nav": "catalog",
            "specialists": selectors.specialists(business=request.business),
        },
    )
