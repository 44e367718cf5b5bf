"""Locations and the specialists who work at them (read only)."""

from django.http import HttpRequest
from ninja import Query, Router

from navbat.kit.tenancy import get_scoped_or_404
from navbat.salons import selectors

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


@router.get("/locations", response={200: LocationPage, **READ_ERRORS})
def list_locations(request: HttpRequest, query: Query[PageQuery]):
    return paginate(selectors.locations(business=request.auth), query)


@router.get("/locations/{location_id}", response={200: LocationOut, **READ_ERRORS})
def read_location(request: HttpRequest, location_id: id_path("location")):
    return get_scoped_or_404(
        selectors.locations(business=request.auth), request.auth, pk=location_id
    )


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
