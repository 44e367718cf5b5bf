"""Confirming a client's phone with a code before an online booking (where the salon asks).

The page (or an API client) asks for a code for a phone and gets an opaque ``nonce``; the
code goes to the phone (through the notifications outbox once navbat sends messages; until
then the salon sees it on its online booking page and reads it out), and the client types
it back. A code proves the phone only together with its nonce, for a short while, after a
few tries at most.
"""

import secrets
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Refused
from navbat.kit.tenancy import scoped
from navbat.salons.models import Location

from .models import PhoneCheck

CODE_DIGITS = 6
VALID_FOR = timedelta(minutes=10)
CONFIRMED_FOR = timedelta(minutes=30)  # a confirmed phone books within this
MAX_ATTEMPTS = 5
MAX_CODES_PER_PHONE_HOUR = 3


def ask_code(*, location: Location, phone: str, now: datetime | None = None) -> PhoneCheck:
    """A new code for ``phone`` (already normalised). Refused (``too_many_codes``) past a
    few codes an hour for one phone."""
    now = now or timezone.now()
    recent = (
        scoped(PhoneCheck, location.business)
        .filter(phone=phone, created_at__gte=now - timedelta(hours=1))
        .count()
    )
    if recent >= MAX_CODES_PER_PHONE_HOUR:
        raise Refused(
            _("Too many codes were asked for this phone. Try again in an hour."),
            reason="too_many_codes",
            field="phone",
        )
    return PhoneCheck.objects.create(
        business_id=location.business_id,
        location=location,
        phone=phone,
        code="".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS)),
        nonce=secrets.token_urlsafe(24),
        expires_at=now + VALID_FOR,
    )


def confirm(*, nonce: str, code: str, now: datetime | None = None) -> PhoneCheck:
    """Check the typed code; returns the confirmed check. Refused (``code_wrong``,
    ``code_expired``, ``code_tries``) otherwise; every wrong try counts."""
    now = now or timezone.now()
    # Any script's decimal digits, as ASCII (compare_digest takes ASCII strings only).
    code = "".join(str(int(ch)) for ch in (code or "") if ch.isdecimal())[:CODE_DIGITS]
    wrong = False
    with transaction.atomic():
        check = (
            PhoneCheck.objects.select_for_update().filter(nonce=(nonce or "")[:64]).first()
            if nonce
            else None
        )
        if check is None or check.expires_at <= now:
            raise Refused(
                _("The code has expired. Ask for a new one."), reason="code_expired", field="code"
            )
        if check.confirmed_at is not None:
            return check
        if check.attempts >= MAX_ATTEMPTS:
            raise Refused(
                _("Too many wrong codes. Ask for a new one."), reason="code_tries", field="code"
            )
        if secrets.compare_digest(check.code, code):
            check.confirmed_at = now
            check.save(update_fields=["confirmed_at"])
        else:
            # Counted before the refusal is raised, outside this block: a wrong try stays
            # counted (the caller shows the error and commits).
            PhoneCheck.objects.filter(pk=check.pk).update(attempts=F("attempts") + 1)
            wrong = True
    if wrong:
        raise Refused(_("The code is not right."), reason="code_wrong", field="code")
    return check


def confirmed_phone(*, location: Location, nonce: str, now: datetime | None = None) -> str:
    """The phone a confirmed, recent check of this location proves; "" when none does."""
    now = now or timezone.now()
    if not nonce or len(nonce) > 64:
        return ""
    check = (
        scoped(PhoneCheck, location.business)
        .filter(
            nonce=nonce,
            location=location,
            confirmed_at__isnull=False,
            confirmed_at__gte=now - CONFIRMED_FOR,
        )
        .first()
    )
    return check.phone if check else ""


def waiting_codes(*, business, location=None, now: datetime | None = None):
    """Codes asked and not yet confirmed (of one location), for the salon to read out
    (until F9 sends them)."""
    now = now or timezone.now()
    rows = scoped(PhoneCheck, business)
    if location is not None:
        rows = rows.filter(location=location)
    return (
        rows.filter(confirmed_at=None, expires_at__gt=now)
        .select_related("location")
        .order_by("-created_at")[:50]
    )
