"""Clients: list with search, read, create, update."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from navbat.kit.errors import Conflict
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.tenancy import get_scoped_or_404
from navbat.salons import selectors, services

from .schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    ClientIn,
    ClientOut,
    ClientPage,
    ClientPatch,
    ClientQuery,
    id_path,
    paginate,
)

router = Router(tags=["clients"])


def _refuse_taken_phone(business, raw_phone: str, *, except_id: int | None = None) -> None:
    """A phone already on file is a conflict (409), not a typing mistake (422)."""
    try:
        phone = normalise_phone(raw_phone)
    except PhoneError as exc:
        raise ValidationError({"phone": str(exc)}) from exc
    holder = selectors.client_by_phone(business=business, phone=phone)
    if holder is not None and holder.pk != except_id:
        raise Conflict(
            {"phone": _("A client with this phone number already exists.")}, code="phone_taken"
        )


@router.get("/clients", response={200: ClientPage, **READ_ERRORS})
def list_clients(request: HttpRequest, query: Query[ClientQuery]):
    return paginate(selectors.clients(business=request.auth, search=query.search), query)


@router.get("/clients/{client_id}", response={200: ClientOut, **READ_ERRORS})
def read_client(request: HttpRequest, client_id: id_path("client")):
    return get_scoped_or_404(selectors.clients(business=request.auth), request.auth, pk=client_id)


@router.post("/clients", response={201: ClientOut, **WRITE_ERRORS})
def create_client(request: HttpRequest, payload: ClientIn):
    _refuse_taken_phone(request.auth, payload.phone)
    client = services.create_client(business=request.auth, **payload.model_dump())
    return Status(201, client)


@router.patch("/clients/{client_id}", response={200: ClientOut, **WRITE_ERRORS})
def update_client(request: HttpRequest, client_id: id_path("client"), payload: ClientPatch):
    client = get_scoped_or_404(selectors.clients(business=request.auth), request.auth, pk=client_id)
    fields = {
        name: value
        for name, value in payload.model_dump(exclude_unset=True).items()
        if value is not None
    }
    if "phone" in fields:
        _refuse_taken_phone(request.auth, fields["phone"], except_id=client.pk)
    return services.update_client(client=client, **fields)
