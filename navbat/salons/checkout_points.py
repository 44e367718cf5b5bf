"""Checkout points and the codes their printed QRs hold (F5): made, renamed, given a new
code (old prints then say they are no longer in use), retired."""

import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.tenancy import scoped

from .models import CheckoutPoint, CheckoutPointCode, Location

CODE_BYTES = 16  # about 128 random bits: a code cannot be guessed from another


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def _locked(point: CheckoutPoint) -> CheckoutPoint:
    """The point's row, locked: a new code, a retirement and a "Pay by QR" binding of one
    point are decided one after the other (payments.locks takes the same row first)."""
    return (
        CheckoutPoint.objects.select_for_update(of=("self",))
        .select_related("business")
        .get(pk=point.pk)
    )


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Enter a name.")})
    if len(name) > 100:
        raise ValidationError({"name": _("Keep the name under 100 characters.")})
    return name


@transaction.atomic
def create_checkout_point(*, business, location: Location, name: str) -> CheckoutPoint:
    if location.business_id != business.pk:
        raise ValidationError({"location": _("Select a valid choice.")})
    point = CheckoutPoint.objects.create(
        business=business, location=location, name=_clean_name(name)
    )
    CheckoutPointCode.objects.create(business=business, point=point, code=new_code())
    return point


def rename_checkout_point(*, point: CheckoutPoint, name: str) -> CheckoutPoint:
    point.name = _clean_name(name)
    point.save(update_fields=["name"])
    return point


@transaction.atomic
def regenerate_code(*, point: CheckoutPoint) -> CheckoutPointCode:
    """A new code for the point; the old one is kept, retired (its prints say so)."""
    point = _locked(point)
    if point.retired_at is not None:
        raise ValidationError(_("This checkout point is retired."))
    now = timezone.now()
    scoped(CheckoutPointCode, point.business).filter(point=point, retired_at=None).update(
        retired_at=now
    )
    return CheckoutPointCode.objects.create(business=point.business, point=point, code=new_code())


@transaction.atomic
def retire_checkout_point(*, point: CheckoutPoint) -> CheckoutPoint:
    locked = _locked(point)
    now = timezone.now()
    locked.retired_at = point.retired_at = now  # the caller's copy says so too
    locked.save(update_fields=["retired_at"])
    scoped(CheckoutPointCode, point.business).filter(point=point, retired_at=None).update(
        retired_at=now
    )
    return locked


def code_in_use(point: CheckoutPoint) -> CheckoutPointCode | None:
    return scoped(CheckoutPointCode, point.business).filter(point=point, retired_at=None).first()
