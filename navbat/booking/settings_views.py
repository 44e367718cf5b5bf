"""The "Online booking" page of each location (F6): the widget's rules, its address, QR
and snippets, and the phone codes waiting. Owners and administrators only; a location of
another business is a 404 whatever the method.

Thin: forms check, ``settings_services`` writes, ``settings_selectors`` and
``settings_links`` read and draw.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from navbat.accounts.permissions import manager_required
from navbat.kit.forms import add_service_errors
from navbat.kit.tenancy import get_scoped_or_404
from navbat.salons.models import Location
from navbat.salons.selectors import locations

from . import public_links
from . import settings_links as links
from . import settings_selectors as selectors
from . import settings_services as services
from .availability import settings_of
from .settings_forms import BookingSettingsForm, PublicSlugForm

NAV = "online"


def _location(request, location_id: int) -> Location:
    return get_scoped_or_404(locations(business=request.business), request.business, pk=location_id)


def _page(request, location, *, form=None, slug_form=None, status=200):
    settings = settings_of(location)
    if form is None:
        form = BookingSettingsForm(initial=BookingSettingsForm.initial_for(settings))
    if slug_form is None:
        slug_form = PublicSlugForm(initial={"public_slug": location.public_slug})
    url = public_links.widget_url(location.public_slug)
    context = {
        "nav": NAV,
        "location": location,
        "locations": list(locations(business=request.business)),
        "settings": settings,
        "form": form,
        "slug_form": slug_form,
        "widget_url": url,
        "qr_inline": links.qr_inline(url),
        "iframe_snippet": links.iframe_snippet(url, title=_("Online booking")),
        "button_snippet": links.button_snippet(url),
        "prepayment_unreachable": selectors.prepayment_unreachable(location),
        "codes": selectors.waiting_codes(location),
    }
    return render(request, "booking/settings/page.html", context, status=status)


@manager_required
@require_GET
def index_view(request):
    """The first location's page; with several, a list to choose from."""
    rows = list(locations(business=request.business))
    if len(rows) == 1:
        return redirect("booking_settings:location", location_id=rows[0].pk)
    return render(request, "booking/settings/index.html", {"nav": NAV, "locations": rows})


@manager_required
@require_http_methods(["GET", "POST"])
def location_view(request, location_id: int):
    location = _location(request, location_id)
    if request.method != "POST":
        return _page(request, location)
    stored = BookingSettingsForm.initial_for(settings_of(location))
    form = BookingSettingsForm(request.POST, initial=stored)
    if form.is_valid():
        try:
            services.save_booking_settings(
                location=location, member=request.membership, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The online booking settings are saved."))
            return redirect("booking_settings:location", location_id=location.pk)
    return _page(request, location, form=form, status=400)


@manager_required
@require_POST
def address_view(request, location_id: int):
    location = _location(request, location_id)
    form = PublicSlugForm(request.POST)
    if form.is_valid():
        try:
            services.change_public_slug(
                location=location, member=request.membership, slug=form.cleaned_data["public_slug"]
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("The address is changed. Links and QR codes with the old one no longer work."),
            )
            return redirect("booking_settings:location", location_id=location.pk)
    location.refresh_from_db(fields=["public_slug"])
    return _page(request, location, slug_form=form, status=400)


@manager_required
@require_GET
def codes_view(request, location_id: int):
    """The codes waiting, alone: the page refreshes this part while it is open."""
    location = _location(request, location_id)
    return render(
        request,
        "booking/settings/_codes.html",
        {"location": location, "codes": selectors.waiting_codes(location)},
    )


QR_FILES = {
    "png": (links.qr_png, "png", "image/png"),
    "svg": (links.qr_svg, "svg", "image/svg+xml"),
}


@manager_required
@require_GET
def qr_view(request, location_id: int, kind: str):
    location = _location(request, location_id)
    if kind not in QR_FILES:
        raise Http404
    draw, suffix, content_type = QR_FILES[kind]
    response = HttpResponse(
        draw(public_links.widget_url(location.public_slug)), content_type=content_type
    )
    # The location's id, not its name: a name may be anything a header cannot carry.
    response["Content-Disposition"] = f'attachment; filename="booking-{location.pk}-qr.{suffix}"'
    response["Cache-Control"] = "private, no-store"
    return response
