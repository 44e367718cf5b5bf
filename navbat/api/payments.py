"""Online payments: the list, one payment with its refunds, and refunds through the bank."""

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from navbat.booking.payables import KIND as APPOINTMENT
from navbat.finance.fees import format_rate
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import to_local
from navbat.payments import refunds as refund_service
from navbat.payments import selectors
from navbat.payments.models import PaymentOrder, Refund, RefundRoute

from .errors import error_response
from .schemas import (
    IDEMPOTENCY_KEY_MAX,
    READ_ERRORS,
    WRITE_ERRORS,
    PaymentDetailOut,
    PaymentPage,
    PaymentQuery,
    RefundIn,
    RefundOut,
    paginate,
)

router = Router(tags=["payments"])

# The name api/urls.py takes out of the request transaction (the operation calls the bank).
REFUND_URL_NAME = "refund_payment"

PaymentId = Path[
    str,
    {"min_length": 1, "max_length": 36, "description": "The payment's id (its reference)."},
]

IDEMPOTENCY_HEADER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": True,
    "description": "1 to 64 characters, not blank, new for each refund. A repeat with the "
    "same key and the same body answers the first refund (200); with another body, 409.",
    "schema": {"type": "string", "minLength": 1, "maxLength": IDEMPOTENCY_KEY_MAX},
}


def _out(order: PaymentOrder, tz_name: str) -> dict:
    return {
        "id": order.reference,
        "method": order.method,
        "card_kind": order.card_kind or None,
        "card_scheme": order.card_scheme,
        "masked_pan": order.masked_pan,
        "tariff": order.tariff,
        "amount": order.amount,
        "paid_amount": order.paid_amount,
        "fee": order.fee_amount,
        "fee_rate": None if order.fee_rate_bp is None else format_rate(order.fee_rate_bp),
        "refunded_amount": order.refunded_amount,
        "fee_returned_amount": order.fee_returned_amount,
        "state": order.state,
        "created_at": to_local(order.created_at, tz_name),
        "paid_at": to_local(order.paid_at, tz_name) if order.paid_at else None,
        "appointment_id": order.payable_id if order.payable_kind == APPOINTMENT else None,
        "client_id": order.client_id,
    }


def _refund_out(refund: Refund, reference: str, tz_name: str) -> dict:
    return {
        "id": str(refund.operation_key),
        "payment_id": reference,
        "amount": refund.amount,
        "state": refund.state,
        "reason": refund.reason,
        "created_at": to_local(refund.created_at, tz_name),
    }


def _order(business, reference: str) -> PaymentOrder:
    order = scoped(PaymentOrder, business).filter(reference=reference).first()
    if order is None:
        raise Http404
    return order


def _idempotency_key(request: HttpRequest) -> str:
    key = request.headers.get("Idempotency-Key")
    if key is None or not key.strip():
        message = _("Send an Idempotency-Key header: a new string for each refund.")
    elif len(key) > IDEMPOTENCY_KEY_MAX:
        message = _("The Idempotency-Key can be at most %(count)d characters.") % {
            "count": IDEMPOTENCY_KEY_MAX
        }
    else:
        return key
    raise ValidationError({"Idempotency-Key": [message]})


@router.get("/payments", response={200: PaymentPage, **READ_ERRORS})
def list_payments(request: HttpRequest, query: Query[PaymentQuery]):
    """Every online payment attempt, newest first; `date_from`/`date_to` are local days of
    the business (when the payment started), `state` one of the payment states."""
    business = request.auth
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationError({"date_to": _("The end date is before the start date.")})
    rows = selectors.payments(
        business=business,
        date_from=query.date_from,
        date_to=query.date_to,
        state=query.state,
    )
    page = paginate(rows, query)
    page["items"] = [_out(row, business.timezone) for row in page["items"]]
    return page


@router.get("/payments/{payment_id}", response={200: PaymentDetailOut, **READ_ERRORS})
def get_payment(request: HttpRequest, payment_id: PaymentId):
    """One online payment: what the bank took, its fee, what was refunded (and the part of
    the fee that came back), and its refunds, newest first."""
    business = request.auth
    order = _order(business, payment_id)
    rows = scoped(Refund, business).filter(order=order).order_by("-created_at", "-id")
    return {
        **_out(order, business.timezone),
        "fee_amount": order.fee_amount,
        "refunds": [_refund_out(row, order.reference, business.timezone) for row in rows],
    }


@router.post(
    "/payments/{payment_id}/refunds",
    response={200: RefundOut, 201: RefundOut, **WRITE_ERRORS},
    url_name=REFUND_URL_NAME,
    openapi_extra={"parameters": [IDEMPOTENCY_HEADER]},
)
def refund_payment(request: HttpRequest, payment_id: PaymentId, payload: RefundIn):
    """Give back all or part of a paid card payment to the card, through the bank; answers
    when the bank has (201: a new refund; 200: the first refund made with this
    `Idempotency-Key`, whatever became of it). At most what was paid minus what was
    refunded, one refund at a time: otherwise 409, its `code` saying why (`too_much`,
    `nothing_left`, `not_paid`, `in_flight`, `key_reused`, `provider_cannot`); a refused
    refund moves nothing. A refund the bank refuses answers with `state` `failed`: nothing
    moved, and it may be tried again with a new key."""
    business = request.auth
    order = _order(business, payment_id)
    key = _idempotency_key(request)
    try:
        requested = refund_service.refund_payment(
            business=business,
            order_id=order.pk,
            amount=payload.amount,
            reason=payload.reason,
            route=RefundRoute.BANK,
            idempotency_key=key,
        )
    except PaymentOrder.DoesNotExist:
        raise Http404 from None
    except refund_service.RefundConflict as conflict:
        return error_response(409, conflict.reason, conflict.messages[0])
    body = _refund_out(requested.refund, order.reference, business.timezone)
    return Status(201, body) if requested.created else body
