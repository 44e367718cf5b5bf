"""Logging in (throttled by django-axes, see throttle.py), password resets, the user's
remembered language, memberships and API tokens."""

import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from .models import ApiToken, Membership, PasswordResetRequest, User, hash_token


def log_in(*, request, email: str, password: str) -> User | None:
    """The user for these credentials, or None. axes counts a failure, or refuses unchecked
    while this account waits at this address (then ``request.axes_locked_out`` is set)."""
    return authenticate(request, username=email.strip().lower(), password=password)


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()


def reset_requests_exhausted(*, address: str | None) -> bool:
    """Whether this client address has asked for as many reset e-mails as an hour allows."""
    since = timezone.now() - timedelta(hours=1)
    recent = PasswordResetRequest.objects.filter(address=address, requested_at__gt=since)
    return recent.count() >= settings.NAVBAT_PASSWORD_RESETS_PER_ADDRESS


def request_password_reset(*, email: str, address: str | None) -> bool:
    """Queue the reset e-mail for whoever uses ``email`` (the job finds out, so that a known
    and an unknown e-mail cost the request the same); False, and nothing queued, when this
    e-mail has had its hour's share."""
    from .tasks import send_password_reset

    now = timezone.now()
    since = now - timedelta(hours=1)
    PasswordResetRequest.objects.filter(requested_at__lte=since).delete()
    digest = _email_digest(email)
    sent = PasswordResetRequest.objects.filter(email_digest=digest, requested_at__gt=since)
    if sent.count() >= settings.NAVBAT_PASSWORD_RESETS_PER_EMAIL:
        return False
    PasswordResetRequest.objects.create(email_digest=digest, address=address, requested_at=now)
    send_password_reset.enqueue(email.strip().lower())
    return True


def forget_failures(*, email: str, address: str | None) -> None:
    """A password was just set by its owner from this address: its waiting there ends."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=email.strip().lower(), ip_address=address).delete()


def set_language(*, user: User, language: str) -> None:
    if user.is_authenticated and language in dict(settings.LANGUAGES):
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


def add_member(*, business, user: User, role: str, specialist=None) -> Membership:
    return Membership.objects.create(business=business, user=user, role=role, specialist=specialist)


def issue_api_token(*, business, name: str, created_by: User | None = None) -> tuple[ApiToken, str]:
    """A new token for the business; the raw value is returned once and never stored."""
    raw = ApiToken.new_raw_token()
    token = ApiToken.objects.create(
        business=business,
        name=name[:100],
        token_hash=hash_token(raw),
        prefix=raw[:12],
        created_by=created_by,
    )
    return token, raw


def business_for_token(raw: str):
    """The business a bearer token opens, or None; remembers when it was last used."""
    if not raw or not isinstance(raw, str) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("business")
        .filter(token_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.business
