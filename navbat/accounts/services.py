"""Logging in with brute-force protection, and the user's remembered language."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.utils import timezone

from .models import ApiToken, LoginFailure, Membership, User, hash_token


def _window_start():
    return timezone.now() - timedelta(minutes=settings.NAVBAT_LOGIN_LOCK_MINUTES)


def is_locked_out(*, email: str, address: str) -> bool:
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    limit = settings.NAVBAT_LOGIN_MAX_FAILURES
    by_email = recent.filter(email=email.lower()).count() >= limit
    # An address gets more room than one account: a salon's desk shares one address.
    by_address = recent.filter(address=address).count() >= limit * 4
    return by_email or by_address


def log_in(*, request, email: str, password: str, address: str) -> User | None:
    """The user for these credentials, or None (and the failure is counted)."""
    email = email.strip().lower()
    user = authenticate(request, username=email, password=password)
    if user is None:
        LoginFailure.objects.create(email=email[:254], address=address[:64])
        return None
    LoginFailure.objects.filter(email=email).delete()
    return user


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
