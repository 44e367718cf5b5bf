"""Writes to appointments: book, change, move, change status, take a payment at the desk."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from navbat.finance import services as finance
from navbat.finance.models import CashRegister, DocumentKind, RegisterKind
from navbat.kit.errors import Conflict
from navbat.kit.money import MAX_AMOUNT_TIYIN
from navbat.kit.tenancy import scoped
from navbat.payments import services as payments
from navbat.payments.models import PaymentLink
from navbat.payments.providers import active_account
from navbat.salons.models import Client, Location, Product, Service, Specialist
from navbat.salons.selectors import fits_working_hours
from navbat.salons.services import find_or_create_client

from . import selectors, states
from .models import FREEING_STATUSES, Appointment, AppointmentLine, LineKind, Source, Status
from .payables import KIND as PAYABLE_KIND

MAX_LINES = 50
MAX_APPOINTMENT_MINUTES = 12 * 60


@dataclass(frozen=True)
class LineInput:
    kind: str  # "service" or "product"
    item_id: int
    quantity: int = 1
    discount_percent: int = 0
    # None takes the catalog price; a service with a price range needs a price in the range.
    unit_price: int | None = None


def _overlap_error() -> Conflict:
    return Conflict(
        _("This specialist already has an appointment at this time. Choose another time."),
        code="slot_taken",
    )


def _build_lines(*, business, lines: list[LineInput]) -> list[AppointmentLine]:
    if not lines:
        raise ValidationError({"lines": _("Add at least one service or product.")})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": _("Too many lines on one appointment.")})
    built = []
    for position, line in enumerate(lines):
        if line.kind not in LineKind.values:
            raise ValidationError({"lines": _("A line is either a service or a product.")})
        if not 1 <= line.quantity <= 999:
            raise ValidationError({"lines": _("Quantity must be between 1 and 999.")})
        if not 0 <= line.discount_percent <= 100:
            raise ValidationError({"lines": _("A discount is between 0 and 100 %.")})
        model = Service if line.kind == LineKind.SERVICE else Product
        item = scoped(model, business).filter(pk=line.item_id, is_active=True).first()
        if item is None:
            raise ValidationError({"lines": _("That service or product does not exist.")})
        price = item.price if line.unit_price is None else line.unit_price
        # A service priced "from … to …" takes any price in its range; otherwise the catalog price
        # stands unless the desk changes it (discounts are separate and explicit).
        highest = max(getattr(item, "price_max", None) or item.price, item.price)
        lowest = item.price if highest > item.price else 0
        if not lowest <= price <= (highest if highest > item.price else MAX_AMOUNT_TIYIN):
            raise ValidationError(
                {"lines": _("The price of %(item)s is out of its range.") % {"item": item.name}}
            )
        built.append(
            AppointmentLine(
                business=business,
                kind=line.kind,
                title=item.name,
                unit_price=price,
                quantity=line.quantity,
                discount_percent=line.discount_percent,
                position=position,
                service=item if line.kind == LineKind.SERVICE else None,
                product=item if line.kind == LineKind.PRODUCT else None,
            )
        )
    total = sum(line.amount for line in built)
    if total > MAX_AMOUNT_TIYIN:
        raise ValidationError({"lines": _("The total is too large.")})
    return built


def _check_specialist_can(*, specialist: Specialist, lines: list[AppointmentLine]) -> None:
    if not specialist.is_active:
        raise ValidationError({"specialist": _("This specialist no longer takes appointments.")})
    service_ids = {line.service_id for line in lines if line.service_id}
    performed = set(specialist.services.filter(pk__in=service_ids).values_list("pk", flat=True))
    missing = [line.title for line in lines if line.service_id and line.service_id not in performed]
    if missing:
        raise ValidationError(
            {
                "lines": _("%(specialist)s does not perform: %(services)s.")
                % {"specialist": specialist.name, "services": ", ".join(missing)}
            }
        )


def _check_time(
    *, specialist: Specialist, starts_at: datetime, ends_at: datetime, skip_hours: bool
) -> None:
    if ends_at <= starts_at:
        raise ValidationError({"ends_at": _("The appointment must end after it starts.")})
    if (ends_at - starts_at).total_seconds() > MAX_APPOINTMENT_MINUTES * 60:
        raise ValidationError({"ends_at": _("An appointment lasts at most 12 hours.")})
    if not skip_hours and not fits_working_hours(
        specialist=specialist, starts_at=starts_at, ends_at=ends_at
    ):
        raise ValidationError(
            {"starts_at": _("This time is outside the specialist's working hours.")}
        )


def _lock_specialist_and_check_free(
    *, specialist: Specialist, starts_at: datetime, ends_at: datetime, exclude_id: int | None
) -> None:
    """Serialise bookings per specialist, then look for a clash.

    On PostgreSQL the row lock orders concurrent bookings and the exclusion
    constraint backs it up; on SQLite the IMMEDIATE transaction does the same.
    """
    Specialist.objects.select_for_update().filter(pk=specialist.pk).first()
    clash = scoped(Appointment, specialist.business).filter(
        specialist=specialist, occupies_time=True, starts_at__lt=ends_at, ends_at__gt=starts_at
    )
    if exclude_id is not None:
        clash = clash.exclude(pk=exclude_id)
    if clash.exists():
        raise _overlap_error()


def _save_checking_overlap(appointment: Appointment) -> None:
    try:
        with transaction.atomic():
            appointment.save()
    except IntegrityError as exc:
        if "appointment_no_overlap" in str(exc):
            raise _overlap_error() from exc
        raise


def _title(*, client: Client, starts_at: datetime) -> str:
    return _("Visit of %(client)s") % {"client": client.name}


def _same_business(business, *objects) -> None:
    for obj in objects:
        if obj is not None and obj.business_id != business.pk:
            raise ValidationError(_("That record belongs to another business."))


@transaction.atomic
def create_appointment(
    *,
    business,
    location: Location,
    specialist: Specialist,
    client: Client,
    starts_at: datetime,
    ends_at: datetime | None = None,
    lines: list[LineInput],
    status: str = Status.BOOKED,
    comment: str = "",
    author=None,
    skip_working_hours: bool = False,
    source: str = Source.DESK,
    prepayment: int = 0,
    prepayment_required: bool = False,
    hold_until: datetime | None = None,
) -> Appointment:
    """A new appointment. An online booking (``booking.online``) passes its source, what it
    asks in advance and, while a required prepayment is awaited, the end of its hold."""
    _same_business(business, location, specialist, client)
    if specialist.location_id != location.pk:
        raise ValidationError({"specialist": _("This specialist does not work at this location.")})
    awaiting = status == Status.AWAITING_PAYMENT and hold_until is not None
    if status not in (Status.BOOKED, Status.CONFIRMED, Status.ARRIVED) and not awaiting:
        raise ValidationError({"status": _("A new appointment is booked, confirmed or arrived.")})
    built = _build_lines(business=business, lines=lines)
    _check_specialist_can(specialist=specialist, lines=built)
    if ends_at is None:
        minutes = (
            sum(line.service.duration_minutes * line.quantity for line in built if line.service)
            or 30
        )
        ends_at = starts_at + timedelta(minutes=minutes)
    _check_time(
        specialist=specialist, starts_at=starts_at, ends_at=ends_at, skip_hours=skip_working_hours
    )
    _lock_specialist_and_check_free(
        specialist=specialist, starts_at=starts_at, ends_at=ends_at, exclude_id=None
    )
    total = sum(line.amount for line in built)
    document = finance.open_document(
        business=business,
        kind=DocumentKind.VISIT,
        title=_title(client=client, starts_at=starts_at),
        client=client,
        amount_due=total,
    )
    appointment = Appointment(
        business=business,
        location=location,
        specialist=specialist,
        client=client,
        starts_at=starts_at,
        ends_at=ends_at,
        status=status,
        occupies_time=True,
        comment=comment[:2000],
        total=total,
        document=document,
        created_by=author,
        source=source,
        prepayment=min(max(prepayment, 0), total),
        prepayment_required=prepayment_required,
        hold_until=hold_until if awaiting else None,
    )
    _save_checking_overlap(appointment)
    for line in built:
        line.appointment = appointment
    AppointmentLine.objects.bulk_create(built)
    return appointment


@transaction.atomic
def update_appointment(
    *,
    appointment: Appointment,
    specialist: Specialist | None = None,
    client: Client | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    lines: list[LineInput] | None = None,
    comment: str | None = None,
    skip_working_hours: bool = False,
) -> Appointment:
    """Change who, when or what. Moving to another day is a change of ``starts_at``."""
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    business = locked.business
    _same_business(business, specialist, client)
    if locked.status in FREEING_STATUSES and (starts_at or specialist):
        raise ValidationError(_("Restore a cancelled appointment before moving it."))
    new_specialist = specialist or locked.specialist
    if new_specialist.location_id != locked.location_id:
        raise ValidationError({"specialist": _("This specialist does not work at this location.")})
    new_start = starts_at or locked.starts_at
    if ends_at is None:
        ends_at = new_start + (locked.ends_at - locked.starts_at)
    times_changed = (
        new_start != locked.starts_at
        or ends_at != locked.ends_at
        or new_specialist.pk != locked.specialist_id
    )
    if lines is None and new_specialist.pk != locked.specialist_id:
        _check_specialist_can(
            specialist=new_specialist,
            lines=list(scoped(AppointmentLine, business).filter(appointment=locked)),
        )
    if times_changed:
        _check_time(
            specialist=new_specialist,
            starts_at=new_start,
            ends_at=ends_at,
            skip_hours=skip_working_hours,
        )
        if locked.occupies_time:
            _lock_specialist_and_check_free(
                specialist=new_specialist,
                starts_at=new_start,
                ends_at=ends_at,
                exclude_id=locked.pk,
            )
    locked.specialist = new_specialist
    locked.starts_at, locked.ends_at = new_start, ends_at
    if client is not None:
        locked.client = client
    if comment is not None:
        locked.comment = comment[:2000]
    if lines is not None:
        built = _build_lines(business=business, lines=lines)
        _check_specialist_can(specialist=new_specialist, lines=built)
        AppointmentLine.objects.filter(appointment=locked).delete()
        for line in built:
            line.appointment = locked
        AppointmentLine.objects.bulk_create(built)
        locked.total = sum(line.amount for line in built)
        # What an online booking asked in advance is never more than the visit costs now.
        locked.prepayment = min(locked.prepayment, locked.total)
    _save_checking_overlap(locked)
    finance.set_amount_due(
        document=locked.document,
        amount_due=locked.total,
        title=_title(client=locked.client, starts_at=locked.starts_at),
        client=locked.client,
    )
    return locked


@transaction.atomic
def change_status(*, appointment: Appointment, status: str) -> Appointment:
    locked = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if not states.MACHINE.check(locked.status, status):
        return locked
    occupies = status not in FREEING_STATUSES
    if occupies and not locked.occupies_time:
        # Restoring a cancelled visit takes the time back only if it is still free.
        _lock_specialist_and_check_free(
            specialist=locked.specialist,
            starts_at=locked.starts_at,
            ends_at=locked.ends_at,
            exclude_id=locked.pk,
        )
    states.MACHINE.move(locked, status, occupies_time=occupies)
    _save_checking_overlap(locked)
    return locked


def cancel_appointment(*, appointment: Appointment) -> Appointment:
    return change_status(appointment=appointment, status=Status.CANCELLED)


@transaction.atomic
def take_desk_payment(
    *,
    appointment: Appointment,
    register_id: int,
    amount: int,
    author=None,
    note: str = "",
    idempotency_key: str = "",
):
    """Cash or card taken at the desk for a visit, recorded against its sale document.
    The form's key makes a double submission record the money once."""
    register = (
        scoped(CashRegister, appointment.business)
        .filter(
            pk=register_id, is_active=True, kind__in=[RegisterKind.CASH, RegisterKind.CARD_TERMINAL]
        )
        .first()
    )
    if register is None:
        raise ValidationError({"register": _("Choose the cash drawer or the card terminal.")})
    # Locked before the books (payments/locks.py: the appointment before finance's rows): a
    # prepayment taken at the desk ends an online booking's hold as one paid online does.
    locked = (
        scoped(Appointment, appointment.business)
        .select_for_update(of=("self",))
        .get(pk=appointment.pk)
    )
    if locked.status == Status.CANCELLED:
        raise ValidationError(_("A cancelled appointment cannot be paid."))
    recorded = finance.record_sale_payment(
        document=locked.document,
        register=register,
        amount=amount,
        author=author,
        note=note,
        idempotency_key=idempotency_key,
    )
    if (
        locked.status == Status.AWAITING_PAYMENT
        and selectors.money_of(locked).paid >= locked.prepayment
    ):
        states.MACHINE.move(locked, Status.CONFIRMED)
        locked.hold_until = None
        locked.save(update_fields=["status", "hold_until", "updated_at"])
    return recorded


@transaction.atomic  # a refused booking must not leave a new client behind
def book_for_phone(
    *,
    business,
    location: Location,
    specialist: Specialist,
    client_phone: str,
    client_name: str = "",
    starts_at: datetime,
    ends_at: datetime | None,
    lines: list[LineInput],
    comment: str = "",
    author=None,
    appointment: Appointment | None = None,
) -> Appointment:
    """The desk's booking: the client found by phone (or made, with the name typed), then
    the appointment made, or ``appointment`` changed (keeping its length when no end is
    given). A refusal leaves nothing behind, not even the new client."""
    client = find_or_create_client(business=business, name=client_name, phone=client_phone)
    if appointment is None:
        return create_appointment(
            business=business,
            location=location,
            specialist=specialist,
            client=client,
            starts_at=starts_at,
            ends_at=ends_at,
            lines=lines,
            comment=comment,
            author=author,
        )
    if ends_at is None:
        ends_at = starts_at + (appointment.ends_at - appointment.starts_at)
    return update_appointment(
        appointment=appointment,
        specialist=specialist,
        client=client,
        starts_at=starts_at,
        ends_at=ends_at,
        lines=lines,
        comment=comment,
    )


@dataclass(frozen=True)
class SentLink:
    """What pressing "Payment link" gave: the link, or why there is none (``refusal_code``
    is one of the selectors' ``LINK_*`` codes, ``refusal`` the message)."""

    money: "selectors.Money"
    connected: bool  # the business takes online payments at all
    link: PaymentLink | None = None
    created: bool = False  # made now, not sent before
    refusal_code: str = ""
    refusal: str = ""


def send_payment_link(*, appointment: Appointment, author=None) -> SentLink:
    """The appointment's payment link (F2), the same one on every press, or why none can be
    sent. The appointment page and the API both ask here. A ValidationError of payments
    (the payable closed meanwhile) propagates for the caller to show."""
    money = selectors.money_of(appointment)
    account = active_account(business=appointment.business)
    connected = bool(account and account.methods)
    code, refusal = selectors.payment_link_refusal(
        appointment=appointment, money=money, account=account
    )
    if code:
        return SentLink(money=money, connected=connected, refusal_code=code, refusal=refusal)
    existed = selectors.payment_link_of(appointment=appointment) is not None
    link = payments.link_for(
        business=appointment.business,
        kind=PAYABLE_KIND,
        payable_id=appointment.pk,
        author=author,
    )
    return SentLink(money=money, connected=connected, link=link, created=not existed)
