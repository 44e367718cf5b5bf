"""Writes to a business's catalog, staff and clients."""

from datetime import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.tenancy import scoped

from .models import Business, Client, Location, ScheduleException, Specialist, WorkingHours


def create_business(*, name: str, slug: str, timezone: str = "Asia/Tashkent") -> Business:
    return Business.objects.create(name=name, slug=slug, timezone=timezone)


def create_location(
    *,
    business: Business,
    name: str,
    address: str = "",
    opening_hours: dict | None = None,
    timezone: str | None = None,
) -> Location:
    return Location.objects.create(
        business=business,
        name=name,
        address=address,
        timezone=timezone or business.timezone,
        opening_hours=opening_hours or {},
    )


def _clean_phone(phone: str) -> str:
    try:
        return normalise_phone(phone)
    except PhoneError as exc:
        raise ValidationError({"phone": str(exc)}) from exc


def create_client(
    *,
    business: Business,
    name: str,
    phone: str,
    email: str = "",
    preferred_language: str = "uz",
    notes: str = "",
) -> Client:
    phone = _clean_phone(phone)
    client = Client(
        business=business,
        name=name.strip(),
        phone=phone,
        email=email.strip(),
        preferred_language=preferred_language,
        notes=notes,
    )
    client.full_clean(exclude=["business"], validate_unique=False, validate_constraints=False)
    if scoped(Client, business).filter(phone=phone).exists():
        raise ValidationError({"phone": _("A client with this phone number already exists.")})
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"phone": _("A client with this phone number already exists.")}
        ) from exc
    return client


def find_or_create_client(*, business: Business, name: str, phone: str) -> Client:
    """The client with this phone, or a new one: the desk types a phone first."""
    normalised = _clean_phone(phone)
    existing = scoped(Client, business).filter(phone=normalised).first()
    if existing is not None:
        return existing
    if not name.strip():
        raise ValidationError({"client_name": _("Enter the new client's name.")})
    return create_client(business=business, name=name, phone=normalised)


def update_client(*, client: Client, **fields) -> Client:
    if "phone" in fields:
        fields["phone"] = _clean_phone(fields["phone"])
        clash = scoped(Client, client.business).filter(phone=fields["phone"]).exclude(pk=client.pk)
        if clash.exists():
            raise ValidationError({"phone": _("A client with this phone number already exists.")})
    for name, value in fields.items():
        setattr(client, name, value)
    client.full_clean(exclude=["business"], validate_unique=False, validate_constraints=False)
    client.save()
    return client


def set_weekly_schedule(
    *, specialist: Specialist, week: dict[int, tuple[time, time] | None]
) -> None:
    """Replace the specialist's regular week: weekday (Monday = 0) → (starts, ends) or None."""
    for shift in week.values():
        if shift is not None and shift[1] <= shift[0]:
            raise ValidationError(_("A shift must end after it starts."))
    rows = scoped(WorkingHours, specialist.business).filter(specialist=specialist)
    rows.delete()
    WorkingHours.objects.bulk_create(
        WorkingHours(
            business=specialist.business,
            specialist=specialist,
            weekday=weekday,
            starts=shift[0],
            ends=shift[1],
        )
        for weekday, shift in sorted(week.items())
        if shift is not None
    )


def set_schedule_exception(
    *,
    specialist: Specialist,
    day,
    is_day_off: bool,
    starts: time | None = None,
    ends: time | None = None,
    note: str = "",
) -> ScheduleException:
    if not is_day_off and (starts is None or ends is None or ends <= starts):
        raise ValidationError(_("Give the hours of that day, ending after they start."))
    row, _created = ScheduleException.objects.update_or_create(
        business=specialist.business,
        specialist=specialist,
        day=day,
        defaults={
            "is_day_off": is_day_off,
            "starts": None if is_day_off else starts,
            "ends": None if is_day_off else ends,
            "note": note,
        },
    )
    return row
