""" "Pay by QR" in the appointment window (F5): the administrator leads a checkout point to
this appointment's payment page; the panel then waits for the money and polls until it comes
(or the point is released, replaced or out of time)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from navbat.accounts.permissions import manager_required
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import to_local
from navbat.payments import qr
from navbat.payments.models import PointBinding
from navbat.salons.models import CheckoutPoint
from navbat.salons.selectors import checkout_points

from . import selectors
from .models import Appointment, Status
from .views import _appointment_for

KIND = "appointment"


def panel_context(request, appointment: Appointment, *, money=None) -> dict:
    """What the "Pay by QR" panel shows: the binding in force, paid through it, or the form."""
    money = money or selectors.money_of(appointment)
    business = request.business
    binding = qr.binding_of(business=business, kind=KIND, payable_id=appointment.pk)
    context = {"appointment": appointment, "qr_binding": binding, "qr_paid": False}
    if binding is not None:
        context["qr_until"] = to_local(binding.expires_at, appointment.location.timezone)
        return context
    last = (
        scoped(PointBinding, business)
        .filter(link__payable_kind=KIND, link__payable_id=appointment.pk)
        .order_by("-created_at", "-id")
        .first()
    )
    # Paid after a point waited for it, however the binding ended (out of time while the
    # client was still in 3-D Secure, say): the panel says so and the window refreshes.
    context["qr_paid"] = bool(last and money.due <= 0 and money.paid > 0)
    if money.due > 0 and appointment.status != Status.CANCELLED:
        points = list(
            checkout_points(
                business=business, location_id=appointment.location_id, active_only=True
            )
        )
        preselected = qr.last_point_id(business=business, user=request.user)
        if points and preselected not in {point.pk for point in points}:
            preselected = points[0].pk
        context.update(qr_points=points, qr_preselected=preselected)
    return context


def _panel(request, appointment, *, status=200, **extra):
    context = {**panel_context(request, appointment), **extra}
    response = render(request, "booking/_pay_by_qr.html", context, status=status)
    if request.method == "GET" and context["qr_paid"]:
        # The money arrived while the panel waited: the window's money parts refresh too.
        response["HX-Trigger"] = "payment-received"
    return response


def _back(request, appointment):
    url = reverse("booking:appointment", kwargs={"appointment_id": appointment.pk})
    return redirect(f"{url}#pay-by-qr")


@manager_required
@require_http_methods(["GET", "POST"])
def appointment_qr_view(request, appointment_id: int):
    """GET (htmx, while waiting): the panel. POST: lead the chosen point to this
    appointment; a point waiting for another unpaid appointment asks first."""
    appointment = _appointment_for(request, appointment_id)
    if request.method == "GET":
        return _panel(request, appointment)
    try:
        point_id = int(request.POST.get("checkout_point", ""))
        point = checkout_points(business=request.business, active_only=True).get(pk=point_id)
    except (ValueError, CheckoutPoint.DoesNotExist):
        raise Http404 from None
    confirm = request.POST.get("confirm") == "1"
    htmx = bool(request.headers.get("HX-Request"))
    try:
        qr.bind(
            point=point,
            kind=KIND,
            payable_id=appointment.pk,
            author=request.user,
            confirm_replace=confirm,
            location_id=appointment.location_id,
        )
    except qr.BindingConflict as conflict:
        if conflict.reason == "held":
            extra = {"qr_confirm": point, "qr_held_message": " ".join(conflict.messages)}
            if htmx:
                return _panel(request, appointment, **extra)
            context = {**panel_context(request, appointment), **extra, "page": True}
            return render(request, "booking/pay_by_qr_confirm.html", context)
        error = " ".join(conflict.messages)
    except ValidationError as refused:
        error = " ".join(refused.messages)
    else:
        error = ""
    if htmx:
        return _panel(request, appointment, qr_error=error)
    if error:
        messages.error(request, error)
    return _back(request, appointment)


@manager_required
@require_POST
def appointment_qr_release_view(request, appointment_id: int):
    appointment = _appointment_for(request, appointment_id)
    qr.release_payable(business=request.business, kind=KIND, payable_id=appointment.pk)
    if request.headers.get("HX-Request"):
        return _panel(request, appointment)
    messages.success(request, _("The checkout point is free."))
    return _back(request, appointment)
