"""Writes of a location's online booking page (F6): the widget's rules and its public
address. Owners and administrators only: the member who asks is checked here, not only by
the page, so no other caller can skip it."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from navbat.accounts.models import Membership
from navbat.kit.errors import Conflict, Refused
from navbat.kit.tenancy import scoped
from navbat.salons.models import Location

from .models import BookingSettings, RefundPolicy
from .settings_forms import SLUG_MAX, SLUG_MIN, SLUG_RE


def _check_member(*, member: Membership | None, location: Location) -> None:
    if member is None or member.business_id != location.business_id or not member.manages:
        raise Refused(
            _("Only the salon's owners and administrators change online booking."),
            reason="not_allowed",
        )


@transaction.atomic
def save_booking_settings(
    *,
    location: Location,
    member: Membership | None,
    enabled: bool,
    slot_step_minutes: int,
    min_notice_minutes: int,
    horizon_days: int,
    buffer_minutes: int,
    hold_minutes: int,
    change_cutoff_hours: int,
    phone_confirmation: bool,
    terms: str,
    refund_policy: str,
    refund_before_hours: int,
) -> BookingSettings:
    """Store the location's widget rules (its one row, made on the first save). Raises
    ValidationError (by field) for a value out of range, changing nothing."""
    _check_member(member=member, location=location)
    if refund_policy not in RefundPolicy.values:
        raise ValidationError({"refund_policy": _("Select a valid choice.")})
    settings = (
        scoped(BookingSettings, location.business).select_for_update().filter(location=location)
    ).first() or BookingSettings(business_id=location.business_id, location=location)
    settings.enabled = enabled
    settings.slot_step_minutes = slot_step_minutes
    settings.min_notice_minutes = min_notice_minutes
    settings.horizon_days = horizon_days
    settings.buffer_minutes = buffer_minutes
    settings.hold_minutes = hold_minutes
    settings.change_cutoff_hours = change_cutoff_hours
    settings.phone_confirmation = phone_confirmation
    settings.terms = (terms or "").strip()
    settings.refund_policy = refund_policy
    settings.refund_before_hours = refund_before_hours
    settings.full_clean(exclude=["business", "location"], validate_unique=False)
    settings.save()
    return settings


def _slug_taken() -> Conflict:
    error = ValidationError(_("This address is taken. Choose another one."), code="slug_taken")
    return Conflict({"public_slug": [error]})


@transaction.atomic
def change_public_slug(*, location: Location, member: Membership | None, slug: str) -> Location:
    """Give the location a new public address (the widget's, the QR's). The old address
    stops working at once: printed codes and links carrying it must be made again.
    Raises ValidationError for a malformed slug, Conflict (``slug_taken``) for one in use."""
    _check_member(member=member, location=location)
    slug = (slug or "").strip().lower()
    if not (SLUG_MIN <= len(slug) <= SLUG_MAX and SLUG_RE.fullmatch(slug)):
        raise ValidationError(
            {"public_slug": _("Use small Latin letters, digits and single hyphens between them.")}
        )
    if slug == location.public_slug:
        return location
    # Unique over the platform: another business's location may hold it. Only whether it
    # is taken is read, nothing of that location.
    if Location.objects.filter(public_slug=slug).exclude(pk=location.pk).exists():
        raise _slug_taken()
    location.public_slug = slug
    try:
        with transaction.atomic():
            location.save(update_fields=["public_slug"])
    except IntegrityError as error:  # taken by someone meanwhile
        location.refresh_from_db(fields=["public_slug"])
        raise _slug_taken() from error
    return location
