"""Locations and the specialists who work at them (read only)."""

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from ninja import Query, Router

from navbat.booking.models import BookingSettings
from navbat.kit.tenancy import get_scoped_or_404, scoped
from navbat.salons import selectors

from .public_out import widget_url
from .schemas import (
    READ_ERRORS,
    LocationOut,
    LocationPage,
    PageQuery,
    SpecialistOut,
    SpecialistPage,
    SpecialistQuery,
    id_path,
    paginate,
)

router = Router(tags=["locations"])


def _specialist_out(specialist) -> dict:
    return {
        "id": specialist.pk,
        "location_id": specialist.location_id,
        "name": specialist.name,
        "position": specialist.position,
        "is_active": specialist.is_active,
        "service_ids": sorted(service.pk for service in specialist.services.all()),
    }


def _locations(business):
    widget_on = scoped(BookingSettings, business).filter(location=OuterRef("pk"), enabled=True)
    return selectors.locations(business=business).annotate(online_booking=Exists(widget_on))


def _location_out(location) -> dict:
    return {
        "id": location.pk,
        "name": location.name,
        "address": location.address,
        "timezone": location.timezone,
        "opening_hours": location.opening_hours,
        "public_slug": location.public_slug,
        "widget_url": widget_url(location),
        "online_booking": location.online_booking,
    }


@router.get("/locations", response={200: LocationPage, **READ_ERRORS})
def list_locations(request: HttpRequest, query: Query[PageQuery]):
    page = paginate(_locations(request.auth), query)
    page["items"] = [_location_out(row) for row in page["items"]]
    return page


@router.get("/locations/{location_id}", response={200: LocationOut, **READ_ERRORS})
def read_location(request: HttpRequest, location_id: id_path("location")):
    location = get_scoped_or_404(_locations(request.auth), request.auth, pk=location_id)
    return _location_out(location)


def _specialists(business):
    return selectors.specialists(business=business).prefetch_related("services")


@router.get("/specialists", response={200: SpecialistPage, **READ_ERRORS})
def list_specialists(request: HttpRequest, query: Query[SpecialistQuery]):
    rows = _specialists(request.auth)
    if query.location_id is not None:
        rows = rows.filter(location_id=query.location_id)
    if query.active is not None:
        rows = rows.filter(is_active=query.active)
    page = paginate(rows, query)
    page["items"] = [_specialist_out(row) for row in page["items"]]
    return page


@router.get("/specialists/{specialist_id}", response={200: SpecialistOut, **READ_ERRORS})
def read_specialist(request: HttpRequest, specialist_id: id_path("specialist")):
    specialist = get_scoped_or_404(_specialists(request.auth), request.auth, pk=specialist_id)
    return _specialist_out(specialist)
