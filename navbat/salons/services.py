"""Writes to a business's catalog, staff and clients."""

from collections.abc import Iterable
from datetime import time

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.accounts.models import Membership, Role
from navbat.accounts.services import add_member
from navbat.kit.errors import Conflict
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.tenancy import scoped

from . import photos
from .models import (
    Business,
    Client,
    Location,
    Prepayment,
    PrepaymentAmount,
    Product,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
    WorkingHours,
)


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
    _save_client(client)
    return client


def _phone_taken() -> Conflict:
    return Conflict(
        {"phone": _("A client with this phone number already exists.")}, code="phone_taken"
    )


def _save_client(client: Client) -> None:
    """Save, turning a phone another client has (even one that raced us) into a Conflict."""
    clash = scoped(Client, client.business).filter(phone=client.phone)
    if client.pk:
        clash = clash.exclude(pk=client.pk)
    if clash.exists():
        raise _phone_taken()
    try:
        with transaction.atomic():
            client.save()
    except IntegrityError as exc:
        raise _phone_taken() from exc


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
    for text_field in ("name", "email"):
        if isinstance(fields.get(text_field), str):
            fields[text_field] = fields[text_field].strip()
    for name, value in fields.items():
        setattr(client, name, value)
    client.full_clean(exclude=["business"], validate_unique=False, validate_constraints=False)
    _save_client(client)
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


# --- Administration pages: staff, catalog ------------------------------------------------------


def _belongs(row, business: Business, field: str) -> None:
    """Refuse a row of another business (forms offer only the business's own rows)."""
    if row is not None and row.business_id != business.pk:
        raise ValidationError({field: _("Select a valid choice.")})


@transaction.atomic
def save_specialist(
    *,
    specialist: Specialist,
    name: str,
    location: Location,
    position: str = "",
    is_active: bool = True,
    services: Iterable[Service] = (),
    week: dict[int, tuple[time, time] | None] | None = None,
    prepayment: str | None = None,
    bookable_online: bool | None = None,
) -> Specialist:
    """Create (pass ``Specialist(business=…)``) or change a specialist, the services they
    perform and their regular week; ``week=None`` keeps the week as it is, and so do
    ``prepayment`` (online: none, optional, or required = the services' whole price) and
    ``bookable_online`` left None."""
    business = specialist.business
    _belongs(location, business, "location")
    services = list(services)
    for service in services:
        _belongs(service, business, "services")
    if prepayment is not None:
        if prepayment not in Prepayment.values:
            raise ValidationError({"prepayment": _("Select a valid choice.")})
        specialist.prepayment = prepayment
    if bookable_online is not None:
        specialist.bookable_online = bookable_online
    specialist.name = name.strip()
    specialist.position = position.strip()
    specialist.location = location
    specialist.is_active = is_active
    specialist.full_clean(exclude=["business", "location"], validate_constraints=False)
    specialist.save()
    specialist.services.set(services)
    if week is not None:
        set_weekly_schedule(specialist=specialist, week=week)
    return specialist


@transaction.atomic
def add_specialist_member(*, specialist: Specialist, user) -> Membership:
    """``user`` logs in as ``specialist``: a specialist membership of the specialist's
    business, linked to the specialist, who then sees their own appointments."""
    membership = add_member(business=specialist.business, user=user, role=Role.SPECIALIST)
    specialist.membership = membership
    specialist.save(update_fields=["membership"])
    return membership


def remove_schedule_exception(*, exception: ScheduleException) -> None:
    """The day goes back to the regular week."""
    exception.delete()


def save_category(*, category: ServiceCategory, name: str, position: int = 0) -> ServiceCategory:
    """Create (pass ``ServiceCategory(business=…)``) or change a category."""
    category.name = name.strip()
    category.position = position
    category.full_clean(exclude=["business"])
    category.save()
    return category


def save_service(
    *,
    service: Service,
    name: str,
    price: int,
    duration_minutes: int,
    category: ServiceCategory | None = None,
    description: str = "",
    price_max: int | None = None,
    ikpu_code: str = "",
    package_code: str = "",
    vat_percent: int = 0,
    is_active: bool = True,
    prepayment: str | None = None,
    prepayment_amount: str | None = None,
    prepayment_value: int | None = None,
    bookable_online: bool | None = None,
) -> Service:
    """Create (pass ``Service(business=…)``) or change a service on the price list;
    ``price_max`` makes the price a range ("from … to …"). The online booking fields
    (``prepayment``: none, optional, required; ``prepayment_amount``: full, percent,
    fixed; ``prepayment_value``: the percent or the amount in tiyin) stay as they are
    where left None."""
    _belongs(category, service.business, "category")
    if price_max is not None and price_max < price:
        raise ValidationError(
            {"price_max": _("The upper price cannot be less than the starting price.")}
        )
    _set_prepayment(
        service,
        price=price,
        prepayment=prepayment,
        prepayment_amount=prepayment_amount,
        prepayment_value=prepayment_value,
    )
    if bookable_online is not None:
        service.bookable_online = bookable_online
    service.name = name.strip()
    service.price = price
    service.price_max = price_max
    service.duration_minutes = duration_minutes
    service.category = category
    service.description = description.strip()
    service.ikpu_code = ikpu_code.strip()
    service.package_code = package_code.strip()
    service.vat_percent = vat_percent
    service.is_active = is_active
    service.full_clean(exclude=["business", "category"], validate_constraints=False)
    service.save()
    return service


def _set_prepayment(
    service: Service,
    *,
    price: int,
    prepayment: str | None,
    prepayment_amount: str | None,
    prepayment_value: int | None,
) -> None:
    """What a service asks in advance online. The rule is checked whenever one is asked or
    a value is given: a percent from 1 to 100, a fixed amount above nothing and at most the
    (starting) price."""
    mode = service.prepayment if prepayment is None else prepayment
    kind = service.prepayment_amount if prepayment_amount is None else prepayment_amount
    value = service.prepayment_value if prepayment_value is None else prepayment_value
    if mode not in Prepayment.values:
        raise ValidationError({"prepayment": _("Select a valid choice.")})
    if kind not in PrepaymentAmount.values:
        raise ValidationError({"prepayment_amount": _("Select a valid choice.")})
    if mode != Prepayment.NONE or value:
        if kind == PrepaymentAmount.PERCENT and not 1 <= value <= 100:
            raise ValidationError({"prepayment_percent": _("Give the percent, from 1 to 100.")})
        if kind == PrepaymentAmount.FIXED and not 0 < value <= price:
            raise ValidationError(
                {
                    "prepayment_fixed": _(
                        "The amount must be more than zero and at most the (starting) price."
                    )
                }
            )
    service.prepayment, service.prepayment_amount = mode, kind
    service.prepayment_value = value if kind != PrepaymentAmount.FULL else 0


def save_product(
    *,
    product: Product,
    name: str,
    price: int,
    unit: str = "pcs",
    ikpu_code: str = "",
    package_code: str = "",
    vat_percent: int = 0,
    is_active: bool = True,
) -> Product:
    """Create (pass ``Product(business=…)``) or change a product."""
    product.name = name.strip()
    product.price = price
    product.unit = unit.strip()
    product.ikpu_code = ikpu_code.strip()
    product.package_code = package_code.strip()
    product.vat_percent = vat_percent
    product.is_active = is_active
    product.full_clean(exclude=["business"], validate_constraints=False)
    product.save()
    return product


# --- A specialist's photo (the booking widget shows it) ----------------------------------------


def set_specialist_photo(*, specialist: Specialist, upload) -> Specialist:
    """Store ``upload`` (a picture file) as the specialist's photo: a square JPEG of at most
    256 px. Raises ValidationError (``photo``) for a file too big or not a picture,
    changing nothing."""
    data = photos.square_jpeg(photos.read_upload(upload))
    specialist.photo = data
    specialist.photo_updated_at = timezone.now()
    specialist.save(update_fields=["photo", "photo_updated_at"])
    return specialist


def remove_specialist_photo(*, specialist: Specialist) -> Specialist:
    """No photo: ``photo_updated_at`` is None exactly when there is none, so that lists can
    tell without reading the picture."""
    specialist.photo = None
    specialist.photo_updated_at = None
    specialist.save(update_fields=["photo", "photo_updated_at"])
    return specialist
