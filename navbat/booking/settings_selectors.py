"""Reads of a location's online booking page (F6)."""

import math
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from navbat.kit.tenancy import scoped
from navbat.salons.models import Location, Prepayment, Service, Specialist

from . import phone_checks
from .online import takes_online_payments


def prepayment_asked_somewhere(location: Location) -> bool:
    """Whether a service or a specialist of this location has a prepayment rule that an
    online booking would apply."""
    business = location.business
    services = scoped(Service, business).filter(is_active=True, bookable_online=True)
    specialists = scoped(Specialist, business).filter(
        location=location, is_active=True, bookable_online=True
    )
    return (
        services.exclude(prepayment=Prepayment.NONE).exists()
        or specialists.exclude(prepayment=Prepayment.NONE).exists()
    )


def prepayment_unreachable(location: Location) -> bool:
    """A prepayment rule exists but no bank takes online payments: the widget then asks
    nothing in advance (a rule it cannot collect would lock every client out)."""
    return prepayment_asked_somewhere(location) and not takes_online_payments(location.business)


@dataclass(frozen=True)
class WaitingCode:
    phone: str
    code: str
    expires_at: datetime
    minutes_left: int  # rounded up: "1" until the last second


def waiting_codes(location: Location, *, now: datetime | None = None) -> list[WaitingCode]:
    """The phone codes clients of this location asked for and have not typed yet, newest
    first: until navbat sends text messages the salon reads them out."""
    now = now or timezone.now()
    return [
        WaitingCode(
            phone=check.phone,
            code=check.code,
            expires_at=check.expires_at,
            minutes_left=max(1, math.ceil((check.expires_at - now).total_seconds() / 60)),
        )
        for check in phone_checks.waiting_codes(
            business=location.business, location=location, now=now
        )
    ]
