from django.shortcuts import render

from navbat.accounts.permissions import manager_required

from . import selectors


@manager_required
def transaction_list_view(request):
    rows = selectors.transactions(business=request.business)
    return render(
        request, "finance/transactions.html", {"nav": "finance", "transactions": rows[:200]}
    )
