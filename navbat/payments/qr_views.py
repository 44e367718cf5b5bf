"""What a client's phone opens from a checkout point's printed QR (F5).

The code is the only authority. A point waiting for a payable sends the phone to that
payable's Quick Payment page (``/pay/<token>``, in the phone's language as any page); orders
started there while the point leads to the link are marked as come by QR
(``services.new_order``). With nothing bound, a page asks the client to ask the
administrator and polls (:func:`qr_watch_view`) until the point leads somewhere. A code no
point ever had is a plain "not found"; a retired code or point says it is no longer in use.
Reads only, as the Quick Payment page: phones poll these.
"""

from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from . import qr


def _not_found(request):
    return render(request, "payments/qr/not_found.html", {}, status=404)


def _pay_url(binding) -> str:
    return reverse("pay:page", kwargs={"token": binding.link.token})


# Ending a stale binding is one UPDATE of its own; no request transaction around the reads.
@transaction.non_atomic_requests
@require_safe
def qr_view(request, code: str):
    now = qr.by_code(code)
    if now is None:
        return _not_found(request)
    context = {"salon": now.point.business.name, "code": code}
    if now.retired:
        return render(request, "payments/qr/retired.html", context, status=410)
    if now.binding is not None:
        return HttpResponseRedirect(_pay_url(now.binding))
    return render(request, "payments/qr/ask.html", context)


@transaction.non_atomic_requests
@require_safe
def qr_watch_view(request, code: str):
    """htmx, every second from the "ask the administrator" page: 204 while nothing is bound;
    once the point leads to a payable, htmx goes to its payment page."""
    now = qr.by_code(code)
    if now is None:
        return _not_found(request)
    if now.retired:
        response = HttpResponse(status=200)
        response["HX-Refresh"] = "true"
        return response
    if now.binding is None:
        return HttpResponse(status=204)
    response = HttpResponse(status=200)
    response["HX-Redirect"] = _pay_url(now.binding)
    return response
