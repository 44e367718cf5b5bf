"""What the public booking API answers: the catalog of a location, a booking, and the
public addresses it names (the widget, the client's booking page, a specialist's photo)."""

from django.utils import timezone

from navbat.booking import cancellation, online, public_links
from navbat.booking.availability import settings_of
from navbat.booking.models import AppointmentLine, LineKind, OnlineBooking, Status
from navbat.booking.payables import KIND as APPOINTMENT
from navbat.booking.prepayment import asked_for
from navbat.booking.selectors import payment_link_of
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import to_local
from navbat.payments import links, payables
from navbat.salons.models import Location, Prepayment, Service, Specialist


def widget_url(location: Location) -> str:
    return public_links.widget_url(location.public_slug)


def photo_url(location: Location, specialist: Specialist) -> str | None:
    return public_links.photo_url(slug=location.public_slug, specialist=specialist) or None


# ---- the catalog ----------------------------------------------------------------------------


def bookable_here(location: Location):
    """Active services open to online booking that someone at the location performs online."""
    business = location.business
    performed = (
        scoped(Specialist, business)
        .filter(location=location, is_active=True, bookable_online=True, services__isnull=False)
        .values("services")
    )
    return (
        scoped(Service, business)
        .filter(is_active=True, bookable_online=True, pk__in=performed)
        .select_related("category")
    )


def _order(service: Service) -> tuple:
    category = service.category
    if category is None:
        return (1, 0, "", 0, service.name, service.pk)
    return (0, category.position, category.name, category.pk, service.name, service.pk)


def services_out(location: Location) -> dict:
    settings = settings_of(location)
    takes = online.takes_online_payments(location.business)
    no_rule = Specialist(prepayment=Prepayment.NONE)  # the service's own rule alone
    categories: list[dict] = []
    for service in sorted(bookable_here(location), key=_order):
        if takes:
            asked = asked_for(services=[service], specialist=no_rule)
            prepayment = {"mode": asked.mode, "amount": asked.amount}
        else:
            prepayment = {"mode": Prepayment.NONE.value, "amount": 0}
        category_id = service.category_id
        if not categories or categories[-1]["id"] != category_id:
            name = service.category.name if service.category else ""
            categories.append({"id": category_id, "name": name, "services": []})
        categories[-1]["services"].append(
            {
                "id": service.pk,
                "name": service.name,
                "description": service.description,
                "price": service.price,
                "price_max": service.price_max,
                "duration_minutes": service.duration_minutes,
                "prepayment": prepayment,
            }
        )
    return {
        "location": {
            "name": location.name,
            "salon": location.business.name,
            "address": location.address,
            "timezone": location.timezone,
            "terms": settings.terms,
            "phone_confirmation": settings.phone_confirmation,
            "hold_minutes": settings.hold_minutes,
            "horizon_days": settings.horizon_days,
        },
        "categories": categories,
    }


# ---- a booking ------------------------------------------------------------------------------


def booking_out(found: OnlineBooking, *, link=None, detail: bool = False) -> dict:
    """The booking as the API shows it; ``detail`` adds what its page shows (paid and due,
    the cut-off, what cancelling would give back)."""
    appointment = found.appointment
    business = found.business
    tz = appointment.location.timezone
    services = (
        scoped(AppointmentLine, business)
        .filter(appointment=appointment, kind=LineKind.SERVICE)
        .order_by("position", "id")
        .values_list("service_id", "title")
    )
    view = payables.describe(business=business, kind=APPOINTMENT, payable_id=appointment.pk)
    is_open = view is not None and view.is_open
    due = view.due if is_open else 0
    if link is None and due > 0:
        link = payment_link_of(appointment=appointment)
    awaiting = appointment.status == Status.AWAITING_PAYMENT and appointment.hold_until
    out = {
        "id": appointment.pk,
        "status": appointment.status,
        "start": to_local(appointment.starts_at, tz),
        "end": to_local(appointment.ends_at, tz),
        "specialist": appointment.specialist_id,
        "specialist_name": appointment.specialist.name,
        "services": [{"id": pk, "name": title} for pk, title in services],
        "total": appointment.total,
        "hold_until": to_local(appointment.hold_until, tz) if awaiting else None,
        "prepayment": {
            "amount": appointment.prepayment,
            "required": appointment.prepayment_required,
        },
        "payment_url": links.link_url(link.token) if link is not None and due > 0 else None,
        "manage_url": public_links.manage_url(found.manage_token),
    }
    if detail:
        now = timezone.now()
        cancellable = online.can_change(found, now=now)
        refund = 0
        if cancellable and cancellation.refund_due_to_client(found, now=now):
            refund = cancellation.holding(appointment)
        out.update(
            paid=view.paid if view is not None else 0,
            due=due,
            cancellable=cancellable,
            cancellable_until=to_local(online.change_deadline(found), tz),
            refund_on_cancel=refund,
            cancelled_by=found.cancelled_by or None,
        )
    return out
