"""Online payments: the list, with what the bank took and its fee."""

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from navbat.booking.payables import KIND as APPOINTMENT
from navbat.finance.fees import format_rate
from navbat.kit.timeutil import to_local
from navbat.payments import selectors
from navbat.payments.models import PaymentOrder

from .schemas import READ_ERRORS, PaymentPage, PaymentQuery, paginate

router = Router(tags=["payments"])


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
        "state": order.state,
        "created_at": to_local(order.created_at, tz_name),
        "paid_at": to_local(order.paid_at, tz_name) if order.paid_at else None,
        "appointment_id": order.payable_id if order.payable_kind == APPOINTMENT else None,
        "client_id": order.client_id,
    }


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
