"""Checkout points and "Pay by QR" (F5): the points with their QR address and what each
waits for now; leading a point to an appointment's payment, and freeing it."""

from datetime import datetime

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status

from navbat.booking import selectors as booking
from navbat.kit.tenancy import get_scoped_or_404, scoped
from navbat.kit.timeutil import to_local
from navbat.payments import qr
from navbat.salons.models import CheckoutPoint
from navbat.salons.selectors import checkout_points

from .errors import error_response
from .schemas import READ_ERRORS, WRITE_ERRORS, id_path

router = Router(tags=["checkout points"])

KIND = "appointment"
# The refusals' codes, as the payment link's (``create_payment_link``).
CONFLICT_CODES = {
    "held": "point_held",
    "nothing_due": "nothing_due",
    "closed": "appointment_cancelled",
}


class PayByQrIn(Schema):
    checkout_point: int = Field(ge=1, description="The checkout point's id.")


class PayByQrOut(Schema):
    checkout_point: int = Field(description="The checkout point's id.")
    url: str = Field(description="What the point's printed QR holds (`<public root>/q/<code>`).")
    expires_at: datetime = Field(description="Until when the point leads to this payment.")


class BoundOut(Schema):
    appointment_id: int
    expires_at: datetime


class CheckoutPointOut(Schema):
    id: int
    name: str
    location_id: int
    url: str = Field(description="What the point's printed QR holds.")
    bound: BoundOut | None = Field(
        description="The appointment the point leads to now, or null when nothing is bound."
    )


class CheckoutPointList(Schema):
    count: int
    items: list[CheckoutPointOut]


def _bound(binding, tz_name: str) -> dict | None:
    if binding is None or binding.link.payable_kind != KIND:
        return None
    return {
        "appointment_id": binding.link.payable_id,
        "expires_at": to_local(binding.expires_at, tz_name),
    }


@router.get("/checkout-points", response={200: CheckoutPointList, **READ_ERRORS})
def list_checkout_points(request: HttpRequest):
    """The business's checkout points in use, with their QR address and what is bound now."""
    business = request.auth
    items = [
        {
            "id": point.pk,
            "name": point.name,
            "location_id": point.location_id,
            "url": qr.point_url(point),
            "bound": _bound(qr.in_force(point=point), point.location.timezone),
        }
        for point in checkout_points(business=business, active_only=True)
    ]
    return {"count": len(items), "items": items}


@router.post(
    "/appointments/{appointment_id}/pay-by-qr",
    response={201: PayByQrOut, **WRITE_ERRORS},
)
def pay_by_qr(request: HttpRequest, appointment_id: id_path("appointment"), payload: PayByQrIn):
    """Lead the checkout point to this appointment's payment page for the salon's QR time.
    409: `point_held` (the point waits for another unpaid appointment, its id in
    `details.appointment_id`; free it first with DELETE), `nothing_due`,
    `appointment_cancelled`. A retired point is 422."""
    business = request.auth
    appointment = get_scoped_or_404(
        booking.appointments(business=business), business, pk=appointment_id
    )
    point = get_scoped_or_404(
        scoped(CheckoutPoint, business).select_related("location"),
        business,
        pk=payload.checkout_point,
    )
    try:
        binding = qr.bind(
            point=point, kind=KIND, payable_id=appointment.pk, location_id=appointment.location_id
        )
    except qr.BindingConflict as conflict:
        details = {"appointment_id": conflict.held_id} if conflict.reason == "held" else None
        code = CONFLICT_CODES.get(conflict.reason, "conflict")
        return error_response(409, code, " ".join(conflict.messages), details)
    body = {
        "checkout_point": point.pk,
        "url": qr.point_url(point),
        "expires_at": to_local(binding.expires_at, point.location.timezone),
    }
    return Status(201, body)


@router.delete(
    "/appointments/{appointment_id}/pay-by-qr",
    response={204: None, **WRITE_ERRORS},
)
def release_pay_by_qr(request: HttpRequest, appointment_id: id_path("appointment")):
    """Free every checkout point waiting for this appointment (204, also when none was)."""
    business = request.auth
    appointment = get_scoped_or_404(
        booking.appointments(business=business), business, pk=appointment_id
    )
    qr.release_payable(business=business, kind=KIND, payable_id=appointment.pk)
    return HttpResponse(status=204)
