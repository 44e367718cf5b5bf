"""Online booking (F6): a client books themselves through a location's widget or the public
API, pays a prepayment where one is asked, and manages the booking from a private link.

The widget's pages and the public API both come here. A time is booked only if
availability offers it at the moment of booking, under the specialist's row lock (the same
lock and, on PostgreSQL, the same exclusion constraint as the desk's bookings), so two
clients racing for one time get one appointment and one ``slot_taken``.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Conflict, Refused
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.tenancy import scoped
from navbat.payments import services as payments
from navbat.payments.models import PaymentLink
from navbat.payments.providers import active_account
from navbat.salons.models import Location, Service
from navbat.salons.services import find_or_create_client

from . import availability, holds
from .availability import MAX_SERVICES, Rules, settings_of
from .models import Appointment, BookingSettings, OnlineBooking, RefundPolicy, Source, Status
from .payables import KIND as PAYABLE_KIND
from .prepayment import Asked, asked_for
from .services import LineInput, create_appointment

MAX_OPEN_HOLDS_PER_PHONE = 3
NAME_MAX = 150
COMMENT_MAX = 1000
TOKEN_BYTES = 32


def slot_taken() -> Conflict:
    return Conflict(_("This time has just been taken. Choose another time."), code="slot_taken")


def open_location(slug: str) -> Location | None:
    """The location whose widget is at ``slug`` and on; None for anything else (an unknown
    slug and a widget turned off look the same from outside)."""
    if not slug or len(slug) > 60:
        return None
    location = Location.objects.select_related("business").filter(public_slug=slug).first()
    if location is None or not settings_of(location).enabled:
        return None
    return location


def bookable_services(*, location: Location, service_ids: list[int]) -> list[Service]:
    """The services asked for, in the order asked, each active and open to online booking;
    a ValidationError for anything else."""
    if not service_ids:
        raise ValidationError({"services": _("Choose at least one service.")})
    if len(service_ids) > MAX_SERVICES:
        raise ValidationError(
            {"services": _("Choose at most %(count)s services.") % {"count": MAX_SERVICES}}
        )
    if len(set(service_ids)) != len(service_ids):
        raise ValidationError({"services": _("A service is chosen twice.")})
    found = {
        service.pk: service
        for service in scoped(Service, location.business).filter(
            pk__in=service_ids, is_active=True, bookable_online=True
        )
    }
    if len(found) != len(service_ids):
        raise ValidationError({"services": _("One of the services cannot be booked online.")})
    return [found[pk] for pk in service_ids]


@dataclass(frozen=True)
class Choice:
    """What a client chose, checked: the services in order, who may do them, the rules."""

    location: Location
    settings: BookingSettings
    rules: Rules
    services: list[Service]
    specialists: list  # those who may serve (one, when a specialist was chosen)
    duration: int


def choice(*, location: Location, service_ids: list[int], specialist_id: int | None) -> Choice:
    settings = settings_of(location)
    services = bookable_services(location=location, service_ids=service_ids)
    performers = availability.performers(
        location=location, service_ids=[service.pk for service in services]
    )
    if specialist_id is not None:
        performers = [s for s in performers if s.pk == specialist_id]
        if not performers:
            raise ValidationError(
                {"specialist": _("This specialist does not take these services online here.")}
            )
    return Choice(
        location=location,
        settings=settings,
        rules=Rules.of(location=location, settings=settings),
        services=services,
        specialists=performers,
        duration=availability.duration_of(services),
    )


def clean_client(*, name: str, phone: str, comment: str) -> tuple[str, str, str]:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Enter your name.")})
    if len(name) > NAME_MAX:
        raise ValidationError({"name": _("The name is too long.")})
    try:
        phone = normalise_phone(phone or "")
    except PhoneError as error:
        raise ValidationError({"phone": str(error)}) from None
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise ValidationError(
            {
                "comment": _("The comment is too long (at most %(count)s characters).")
                % {"count": COMMENT_MAX}
            }
        )
    return name, phone, comment


def takes_online_payments(business) -> bool:
    account = active_account(business=business)
    return bool(account and account.methods)


def asked_of(*, chosen: Choice, specialist) -> Asked:
    """What this booking asks in advance; nothing where the salon takes no online payment
    (a rule it cannot collect would lock every client out)."""
    if not takes_online_payments(chosen.location.business):
        return Asked(amount=0, required=False)
    return asked_for(services=chosen.services, specialist=specialist)


@dataclass(frozen=True)
class Booked:
    appointment: Appointment
    online: OnlineBooking
    asked: Asked
    link: PaymentLink | None  # the payment link where something is asked in advance


def _open_holds(*, business, phone: str, now: datetime) -> int:
    return (
        scoped(Appointment, business)
        .filter(
            client__phone=phone,
            status=Status.AWAITING_PAYMENT,
            hold_until__gt=now,
        )
        .count()
    )


class _NoLongerFree(Exception):
    pass


def _book_with(
    *, chosen: Choice, specialist, starts_at, client, comment, now
) -> tuple[Appointment, Asked] | None:
    """Book ``specialist`` at ``starts_at`` if availability still offers it once their
    lock is held; None when it does not."""
    ends_at = starts_at + timedelta(minutes=chosen.duration)
    try:
        with transaction.atomic():
            type(specialist).objects.select_for_update().filter(pk=specialist.pk).first()
            still = availability.offered_specialists(
                location=chosen.location,
                rules=chosen.rules,
                specialists=[specialist],
                duration=chosen.duration,
                start=starts_at,
                now=now,
            )
            if not still:
                # Rolled back to the savepoint, which releases this specialist's lock before
                # the next candidate's is taken (two requests trying them in different
                # orders must not wait for each other).
                raise _NoLongerFree
            asked = asked_of(chosen=chosen, specialist=specialist)
            awaiting = asked.required and asked.amount > 0
            appointment = create_appointment(
                business=chosen.location.business,
                location=chosen.location,
                specialist=specialist,
                client=client,
                starts_at=starts_at,
                ends_at=ends_at,
                lines=[LineInput(kind="service", item_id=s.pk) for s in chosen.services],
                status=Status.AWAITING_PAYMENT if awaiting else Status.BOOKED,
                comment=comment,
                source=Source.ONLINE,
                prepayment=asked.amount,
                prepayment_required=asked.required,
                hold_until=(
                    now + timedelta(minutes=chosen.settings.hold_minutes) if awaiting else None
                ),
            )
    except (Conflict, _NoLongerFree):
        return None
    return appointment, asked


@transaction.atomic
def book_online(
    *,
    location: Location,
    service_ids: list[int],
    specialist_id: int | None,
    starts_at: datetime,
    name: str,
    phone: str,
    comment: str = "",
    language: str = "uz",
    terms_accepted: bool = True,
    phone_confirmed: bool = False,
    now: datetime | None = None,
) -> Booked:
    """Book a visit for a client who booked themselves. Raises ValidationError for bad
    input, ``Conflict`` (``slot_taken``) when the time is not free, ``Refused`` when the
    widget is off (``closed``), the phone must be confirmed first (``phone_unconfirmed``) or
    holds too many unpaid bookings (``too_many_holds``). A refusal stores nothing."""
    now = now or timezone.now()
    chosen = choice(location=location, service_ids=service_ids, specialist_id=specialist_id)
    if not chosen.settings.enabled:
        raise Refused(_("Online booking is closed here."), reason="closed")
    name, phone, comment = clean_client(name=name, phone=phone, comment=comment)
    if chosen.settings.terms and not terms_accepted:
        raise ValidationError({"terms": _("Accept the salon's terms to book.")})
    if chosen.settings.phone_confirmation and not phone_confirmed:
        raise Refused(
            _("Confirm your phone number with the code first."),
            reason="phone_unconfirmed",
            field="phone",
        )
    if starts_at.tzinfo is None:
        raise ValidationError({"start": _("Give the time with its offset.")})
    if _open_holds(business=location.business, phone=phone, now=now) >= MAX_OPEN_HOLDS_PER_PHONE:
        raise Refused(
            _("This phone has unpaid bookings waiting. Pay or cancel one of them first."),
            reason="too_many_holds",
            field="phone",
        )
    offered = availability.offered_specialists(
        location=location,
        rules=chosen.rules,
        specialists=chosen.specialists,
        duration=chosen.duration,
        start=starts_at,
        now=now,
    )
    if not offered:
        raise slot_taken()
    client = find_or_create_client(business=location.business, name=name, phone=phone)
    # The holds that are over and in the way of any offered specialist end first: an
    # appointment lock never after a specialist's (payments/locks.py).
    holds.end_overlapping(
        specialist_ids=[specialist.pk for specialist in offered],
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=chosen.duration),
        now=now,
    )
    for specialist in offered:
        booked = _book_with(
            chosen=chosen,
            specialist=specialist,
            starts_at=starts_at,
            client=client,
            comment=comment,
            now=now,
        )
        if booked is not None:
            break
    else:
        raise slot_taken()
    appointment, asked = booked
    online = OnlineBooking.objects.create(
        business=location.business,
        appointment=appointment,
        manage_token=secrets.token_urlsafe(TOKEN_BYTES),
        language=(language or "uz")[:8],
        terms_accepted_at=now if chosen.settings.terms else None,
        refund_until=refund_until(chosen.settings, starts_at),
        phone_confirmed=phone_confirmed,
    )
    link = None
    if asked.amount > 0:
        link = payments.link_for(
            business=location.business, kind=PAYABLE_KIND, payable_id=appointment.pk
        )
    if appointment.status == Status.AWAITING_PAYMENT:
        from .tasks import end_hold

        appointment_id, run_after = appointment.pk, appointment.hold_until
        transaction.on_commit(lambda: end_hold.using(run_after=run_after).enqueue(appointment_id))
    return Booked(appointment=appointment, online=online, asked=asked, link=link)


def refund_until(settings: BookingSettings, starts_at: datetime) -> datetime | None:
    if settings.refund_policy != RefundPolicy.BEFORE:
        return None
    return starts_at - timedelta(hours=settings.refund_before_hours)


def find_booking(token: str) -> OnlineBooking | None:
    """The public entry of the client's booking page: the token is the authority."""
    if not token or len(token) > 64:
        return None
    return (
        OnlineBooking.objects.select_related(
            "business",
            "appointment",
            "appointment__location",
            "appointment__specialist",
            "appointment__client",
        )
        .filter(manage_token=token)
        .first()
    )


def change_deadline(online: OnlineBooking) -> datetime:
    """Until when the client may cancel or move the booking themselves."""
    settings = settings_of(online.appointment.location)
    return online.appointment.starts_at - timedelta(hours=settings.change_cutoff_hours)


def can_change(online: OnlineBooking, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    appointment = online.appointment
    return appointment.status in (
        Status.AWAITING_PAYMENT,
        Status.BOOKED,
        Status.CONFIRMED,
    ) and now <= change_deadline(online)


@transaction.atomic
def reschedule_by_client(
    *,
    online: OnlineBooking,
    starts_at: datetime,
    specialist_id: int | None = None,
    now: datetime | None = None,
) -> Appointment:
    """Move the booking to another offered time (with its specialist, or another who
    performs its services) until the salon's cut-off. Raises Refused (``too_late``),
    Conflict (``slot_taken``)."""
    from .services import update_appointment

    now = now or timezone.now()
    if not can_change(online, now=now):
        raise Refused(
            _("This booking can no longer be changed online. Call the salon."), reason="too_late"
        )
    appointment = online.appointment
    service_ids = list(
        appointment.lines.filter(service__isnull=False)
        .order_by("position", "id")
        .values_list("service_id", flat=True)
    )
    chosen = choice(
        location=appointment.location,
        service_ids=service_ids,
        specialist_id=specialist_id or appointment.specialist_id,
    )
    ends_at = starts_at + timedelta(minutes=chosen.duration)
    specialist = chosen.specialists[0]
    # The booking itself first, then the holds in the way, then the specialist
    # (payments/locks.py: appointments before specialists).
    appointment = Appointment.objects.select_for_update(of=("self",)).get(pk=appointment.pk)
    holds.end_overlapping(
        specialist_ids=[specialist.pk], starts_at=starts_at, ends_at=ends_at, now=now
    )
    with transaction.atomic():
        type(specialist).objects.select_for_update().filter(pk=specialist.pk).first()
        if not availability.offered_specialists(
            location=chosen.location,
            rules=chosen.rules,
            specialists=[specialist],
            duration=chosen.duration,
            start=starts_at,
            now=now,
            exclude_appointment=appointment.pk,
        ):
            raise slot_taken()
        moved = update_appointment(
            appointment=appointment, specialist=specialist, starts_at=starts_at, ends_at=ends_at
        )
        # A move never pushes the refund deadline later (only earlier, with an earlier visit).
        until = refund_until(chosen.settings, starts_at)
        if until is not None and (online.refund_until is None or until < online.refund_until):
            OnlineBooking.objects.filter(pk=online.pk).update(refund_until=until)
            online.refund_until = until
        return moved
