"""Appointments: list, read, book, change, change status, cancel."""

import json
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from navbat.booking import selectors as booking
from navbat.booking import services
from navbat.booking.models import AppointmentLine
from navbat.booking.services import LineInput
from navbat.kit.money import percent_of
from navbat.kit.tenancy import get_scoped_or_404, scoped
from navbat.kit.timeutil import to_local
from navbat.payments import links
from navbat.salons import selectors as salons

from .errors import error_response
from .schemas import (
    APPOINTMENT_COUNT_LIMIT,
    READ_ERRORS,
    WRITE_ERRORS,
    AppointmentIn,
    AppointmentOut,
    AppointmentPage,
    AppointmentPatch,
    AppointmentQuery,
    LineIn,
    PaymentLinkOut,
    StatusIn,
    id_path,
)

router = Router(tags=["appointments"])

LIST_FIELDS = (
    "id",
    "location_id",
    "specialist_id",
    "client_id",
    "starts_at",
    "ends_at",
    "status",
    "comment",
    "total",
    "paid",
)
LINE_FIELDS = (
    "appointment_id",
    "kind",
    "service_id",
    "product_id",
    "title",
    "unit_price",
    "quantity",
    "discount_percent",
)


def _with_lines(rows, business):
    return rows.prefetch_related(Prefetch("lines", queryset=scoped(AppointmentLine, business)))


def _rows(business):
    return _with_lines(booking.appointments(business=business), business)


def _line_values(kind, service_id, product_id, title, unit_price, quantity, percent) -> dict:
    gross = unit_price * quantity
    return {
        "kind": kind,
        "item_id": service_id if service_id is not None else product_id,
        "title": title,
        "unit_price": unit_price,
        "quantity": quantity,
        "discount_percent": percent,
        "amount": gross - percent_of(gross, percent),  # AppointmentLine.amount
    }


def _out(appointment) -> dict:
    lines = [
        _line_values(*(getattr(line, field) for field in LINE_FIELDS[1:]))
        for line in appointment.lines.all()
    ]
    row = {field: getattr(appointment, field) for field in LIST_FIELDS if field != "paid"}
    return _row_out(row, lines, appointment.location.timezone, booking.money_of(appointment))


def _fresh(business, appointment_id: int) -> dict:
    return _out(get_scoped_or_404(_rows(business), business, pk=appointment_id))


def _pick(rows, pk: int | None, field: str, what: str):
    """A row named in the body; an id of nothing of this business is a bad input (422)."""
    if pk is None:
        return None
    row = rows.filter(pk=pk).first()
    if row is None:
        raise ValidationError({field: _("There is no such %(what)s.") % {"what": what}})
    return row


def _lines(lines: list[LineIn] | None) -> list[LineInput] | None:
    if lines is None:
        return None
    return [
        LineInput(
            kind=line.kind,
            item_id=line.item_id,
            quantity=line.quantity,
            discount_percent=line.discount_percent,
            unit_price=line.unit_price,
        )
        for line in lines
    ]


def _zone_for(business, query: AppointmentQuery) -> str:
    """Dates are local to the filtered location, else the specialist's, else the business's."""
    if query.location_id is not None:
        location = salons.locations(business=business).filter(pk=query.location_id).first()
        if location is not None:
            return location.timezone
    if query.specialist_id is not None:
        specialist = salons.specialists(business=business).filter(pk=query.specialist_id).first()
        if specialist is not None:
            return specialist.location.timezone
    return business.timezone


@router.get("/appointments", response={200: AppointmentPage, **READ_ERRORS})
def list_appointments(request: HttpRequest, query: Query[AppointmentQuery]):
    business = request.auth
    rows = booking.appointments(
        business=business,
        date_from=query.date_from,
        date_to=query.date_to,
        location_id=query.location_id,
        specialist_id=query.specialist_id,
        client_id=query.client_id,
        status=query.status or "",
        tz_name=_zone_for(business, query),
    )
    # Only what the answer holds, as plain rows (no model instances: building them was a
    # third of the request): no client, specialist or document rows, and each location's
    # zone read once rather than joined into every row.
    rows = rows.select_related(None)
    items = list(rows.values(*LIST_FIELDS)[query.offset : query.offset + query.limit])
    count, exact = _bounded_count(rows, query, len(items))
    lines = _lines_of_rows(business, [item["id"] for item in items])
    zones = dict(salons.locations(business=business).values_list("pk", "timezone"))
    page = {
        "count": count,
        "count_exact": exact,
        "limit": query.limit,
        "offset": query.offset,
        "items": [
            _row_out(
                item,
                lines.get(item["id"], []),
                zones[item["location_id"]],
                booking.money(total=item["total"], paid=item["paid"]),
            )
            for item in items
        ],
    }
    # Built from plain values of known types: validating them again against the schema cost
    # a fifth of the request (the tests hold the list's items equal to the validated read).
    return HttpResponse(json.dumps(page, default=_json_moment), content_type="application/json")


def _lines_of_rows(business, ids: list[int]) -> dict[int, list[dict]]:
    """The lines of these appointments in their order, as plain values."""
    if not ids:
        return {}
    found: dict[int, list[dict]] = {}
    rows = scoped(AppointmentLine, business).filter(appointment_id__in=ids)
    for appointment_id, *values in rows.values_list(*LINE_FIELDS):
        found.setdefault(appointment_id, []).append(_line_values(*values))
    return found


def _row_out(row: dict, lines: list[dict], tz_name: str, money: booking.Money) -> dict:
    return {
        "id": row["id"],
        "location_id": row["location_id"],
        "specialist_id": row["specialist_id"],
        "client_id": row["client_id"],
        "starts_at": to_local(row["starts_at"], tz_name),
        "ends_at": to_local(row["ends_at"], tz_name),
        "status": row["status"],
        "comment": row["comment"],
        "lines": lines,
        "total": money.total,
        "paid": money.paid,
        "due": money.due,
        "payment_state": money.state,
    }


def _json_moment(value):
    """Moments as the schema writes them (ISO 8601, ``Z`` for UTC)."""
    if isinstance(value, datetime):
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text
    raise TypeError(f"{type(value).__name__} is not JSON")


def _bounded_count(rows, query: AppointmentQuery, got: int) -> tuple[int, bool]:
    """How many rows match, counted only up to APPOINTMENT_COUNT_LIMIT past this page:
    counting every appointment of a salon with years of history was the one cost of the list
    that grew with the history. A short page is the last one and needs no count at all."""
    if got < query.limit and (got or query.offset == 0):
        return query.offset + got, True
    bound = query.offset + query.limit + APPOINTMENT_COUNT_LIMIT
    counted = rows.order_by().values("pk")[: bound + 1].count()
    return min(counted, bound), counted <= bound


@router.get("/appointments/{appointment_id}", response={200: AppointmentOut, **READ_ERRORS})
def read_appointment(request: HttpRequest, appointment_id: id_path("appointment")):
    return _fresh(request.auth, appointment_id)


@router.post("/appointments", response={201: AppointmentOut, **WRITE_ERRORS})
def create_appointment(request: HttpRequest, payload: AppointmentIn):
    business = request.auth
    specialist = _pick(
        salons.specialists(business=business),
        payload.specialist_id,
        "specialist_id",
        _("specialist"),
    )
    client = _pick(salons.clients(business=business), payload.client_id, "client_id", _("client"))
    location = _pick(
        salons.locations(business=business), payload.location_id, "location_id", _("location")
    )
    appointment = services.create_appointment(
        business=business,
        location=location or specialist.location,
        specialist=specialist,
        client=client,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        lines=_lines(payload.lines),
        status=payload.status,
        comment=payload.comment,
    )
    return Status(201, _fresh(business, appointment.pk))


@router.patch("/appointments/{appointment_id}", response={200: AppointmentOut, **WRITE_ERRORS})
def update_appointment(
    request: HttpRequest, appointment_id: id_path("appointment"), payload: AppointmentPatch
):
    business = request.auth
    appointment = get_scoped_or_404(
        booking.appointments(business=business), business, pk=appointment_id
    )
    services.update_appointment(
        appointment=appointment,
        specialist=_pick(
            salons.specialists(business=business),
            payload.specialist_id,
            "specialist_id",
            _("specialist"),
        ),
        client=_pick(
            salons.clients(business=business), payload.client_id, "client_id", _("client")
        ),
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        lines=_lines(payload.lines),
        comment=payload.comment,
    )
    return _fresh(business, appointment.pk)


@router.post(
    "/appointments/{appointment_id}/status", response={200: AppointmentOut, **WRITE_ERRORS}
)
def change_appointment_status(
    request: HttpRequest, appointment_id: id_path("appointment"), payload: StatusIn
):
    business = request.auth
    appointment = get_scoped_or_404(
        booking.appointments(business=business), business, pk=appointment_id
    )
    services.change_status(appointment=appointment, status=payload.status)
    return _fresh(business, appointment.pk)


@router.post(
    "/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **WRITE_ERRORS}
)
def cancel_appointment(request: HttpRequest, appointment_id: id_path("appointment")):
    business = request.auth
    appointment = get_scoped_or_404(
        booking.appointments(business=business), business, pk=appointment_id
    )
    services.cancel_appointment(appointment=appointment)
    return _fresh(business, appointment.pk)


@router.post(
    "/appointments/{appointment_id}/payment-link",
    response={200: PaymentLinkOut, 201: PaymentLinkOut, **WRITE_ERRORS},
)
def create_payment_link(request: HttpRequest, appointment_id: id_path("appointment")):
    """The appointment's payment link for the client (F2): 201 when made now, 200 when it
    was sent before (one link per appointment, valid until paid or cancelled). 409 says why
    there can be none: `appointment_cancelled`, `nothing_due` or `payments_not_connected`."""
    business = request.auth
    appointment = get_scoped_or_404(
        booking.appointments(business=business), business, pk=appointment_id
    )
    sent = services.send_payment_link(appointment=appointment)
    if sent.refusal_code:
        return error_response(409, sent.refusal_code, sent.refusal)
    link = sent.link
    body = {
        "url": links.link_url(link.token),
        "token": link.token,
        "amount_due": sent.money.due,
        "created_at": to_local(link.created_at, business.timezone),
    }
    return Status(201, body) if sent.created else body
