"""Checkout points on Finance → Online payments (owners and administrators): add, rename,
a new code, retire, and the downloads of a point's QR (PNG in colour and in black and
white, SVG, the A5 and A4 posters). Specialists never reach them.

Thin: forms check, ``salons.checkout_points`` writes, ``printing`` draws. A point of another
business, a retired point or an unknown id is a 404, the same for each.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from navbat.accounts.permissions import manager_required
from navbat.kit.tenancy import get_scoped_or_404
from navbat.salons import checkout_points as points
from navbat.salons.selectors import checkout_points

from . import checkout_qr, printing
from .point_forms import CheckoutPointForm, RenameCheckoutPointForm


def _back():
    return redirect("payments:list")


def _refused(request, errors) -> None:
    for message in errors:
        messages.error(request, message)


def _form_errors(form) -> list[str]:
    return [str(error) for field in form.errors.values() for error in field]


def _active_point(request, point_id: int):
    point = get_scoped_or_404(
        checkout_points(business=request.business, active_only=True),
        request.business,
        pk=point_id,
    )
    return point


@manager_required
@require_POST
def point_add_view(request):
    form = CheckoutPointForm(request.POST, business=request.business)
    if not form.is_valid():
        _refused(request, _form_errors(form))
        return _back()
    try:
        point = points.create_checkout_point(
            business=request.business,
            location=form.cleaned_data["location"],
            name=form.cleaned_data["name"],
        )
    except ValidationError as exc:
        _refused(request, exc.messages)
        return _back()
    messages.success(request, _("Checkout point “%(name)s” added.") % {"name": point.name})
    return _back()


@manager_required
@require_POST
def point_rename_view(request, point_id: int):
    point = _active_point(request, point_id)
    form = RenameCheckoutPointForm(request.POST)
    if not form.is_valid():
        _refused(request, _form_errors(form))
        return _back()
    try:
        points.rename_checkout_point(point=point, name=form.cleaned_data["name"])
    except ValidationError as exc:
        _refused(request, exc.messages)
        return _back()
    messages.success(request, _("Checkout point renamed to “%(name)s”.") % {"name": point.name})
    return _back()


@manager_required
@require_POST
def point_new_code_view(request, point_id: int):
    point = _active_point(request, point_id)
    points.regenerate_code(point=point)
    messages.success(
        request,
        _(
            "“%(name)s” has a new code. Print it again: the old prints now say the code is "
            "no longer in use."
        )
        % {"name": point.name},
    )
    return _back()


@manager_required
@require_POST
def point_retire_view(request, point_id: int):
    point = _active_point(request, point_id)
    points.retire_checkout_point(point=point)
    messages.success(
        request,
        _("“%(name)s” is retired. Its prints now say the code is no longer in use.")
        % {"name": point.name},
    )
    return _back()


# --------------------------------------------------------------------------- downloads


def _download(request, point_id: int, *, kind: str):
    point = _active_point(request, point_id)
    code = points.code_in_use(point)
    if code is None:
        raise Http404
    if kind == "png":
        body, suffix, content_type = printing.png(code.code, colour=True), "colour.png", "image/png"
    elif kind == "png-bw":
        body, suffix, content_type = printing.png(code.code, colour=False), "bw.png", "image/png"
    elif kind == "svg":
        body, suffix, content_type = printing.svg(code.code), "svg", "image/svg+xml"
    else:
        size = kind.removeprefix("poster-")
        text = checkout_qr.poster_text(business=request.business, point=point)
        body = printing.poster(code.code, text=text, size=size)
        suffix, content_type = f"poster-{size}.pdf", "application/pdf"
    response = HttpResponse(body, content_type=content_type)
    # The point's id, not its name: a name may be anything a header cannot carry.
    response["Content-Disposition"] = f'attachment; filename="checkout-{point.pk}-qr-{suffix}"'
    response["Cache-Control"] = "private, no-store"
    return response


@manager_required
@require_GET
def qr_download_view(request, point_id: int, kind: str):
    """One of a point's downloads; ``kind`` comes from the URL map (urls.py)."""
    return _download(request, point_id, kind=kind)
