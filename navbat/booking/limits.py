"""Limits of the public booking pages and API (F6, "abuse"): per address and per phone.

A whole mobile network can share one address (carrier NAT), so the per-address limits are
generous and only stop floods; the per-phone limits and the cap on unpaid holds per phone
(``online.MAX_OPEN_HOLDS_PER_PHONE``) are what bound one person's bookings. The counters
live in the database (``kit.PublicCounter``) so every web process counts together; the
nightly retention job drops old ones (``payments.retention``).
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

from navbat.kit import ratelimit
from navbat.kit.errors import Refused
from navbat.kit.models import PublicCounter
from navbat.kit.net import client_ip
from navbat.salons.models import Location


@dataclass(frozen=True)
class Budget:
    per_address: int
    per_phone: int
    window: int  # seconds


# Reading services, days and times: a person clicking through the widget makes a few a
# minute; a hundred clients behind one address make many more.
READ = Budget(per_address=600, per_phone=0, window=60)
# Booking, cancelling, moving, asking a phone code.
WRITE = Budget(per_address=60, per_phone=10, window=3600)


class TooMany(Refused):
    """Past a limit; ``retry_after`` says in how many seconds to try again."""

    def __init__(self, message, *, retry_after: int):
        super().__init__(message, reason="too_many")
        self.retry_after = retry_after

    def __reduce__(self):
        return (_too_many, (" ".join(self.messages), self.retry_after))


def _too_many(message, retry_after) -> "TooMany":
    return TooMany(message, retry_after=retry_after)


SLUG = re.compile(r"[-a-zA-Z0-9_]+")


def _place(request) -> str:
    """The location (its public slug) the request is about; "" for a booking's page (its
    token is the caller's to choose, so it must not make a counter of its own)."""
    match = getattr(request, "resolver_match", None)
    kwargs = match.kwargs if match is not None else {}
    place = str(kwargs.get("slug") or kwargs.get("location") or "")[:60]
    # Only a real location makes a counter of its own: made-up slugs share one, so a flood
    # of them cannot fill the counters' table.
    if SLUG.fullmatch(place) and Location.objects.filter(public_slug=place).exists():
        return place
    return "-"


def check(request, *, budget: Budget, what: str, phone: str = "") -> None:
    """Count this request; raise TooMany past a limit (nothing else is done then)."""
    # Per address and per location: a carrier address busy at one salon's widget does not
    # use up what its clients may do at another's.
    limits = [
        ratelimit.Limit(
            f"book:{what}:{_place(request)}:ip:{client_ip(request)}", budget.per_address
        )
    ]
    if phone and budget.per_phone:
        limits.append(ratelimit.Limit(f"book:{what}:phone:{phone[:20]}", budget.per_phone))
    verdict = ratelimit.hit(PublicCounter, limits, window=budget.window)
    if not verdict.allowed:
        raise TooMany(
            _("Too many requests. Try again in a few minutes."), retry_after=verdict.retry_after
        )
