"""Logging in (throttled by django-axes, see throttle.py), password resets, the user's
remembered language, memberships and API tokens."""

import enum
import hashlib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import timezone

from .models import ApiToken, Membership, PasswordResetRequest, User, hash_token


def log_in(*, request, email: str, password: str) -> User | None:
    """The user for these credentials, or None. axes counts a failure, or refuses unchecked
    while this account waits at this address (then ``request.axes_locked_out`` is set)."""
    return authenticate(request, username=email.strip().lower(), password=password)


def _email_digest(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8", "surrogatepass")).hexdigest()


def _locked_counter(key: str, now) -> PasswordResetRequest:
    """The counter ``key``, locked until the transaction ends (created if new: a racing
    creator waits on the unique key, then finds and locks the winner's row)."""
    counter, _created = PasswordResetRequest.objects.select_for_update().get_or_create(
        key=key, defaults={"count": 0, "window_start": now}
    )
    return counter


class ResetAnswer(enum.Enum):
    QUEUED = "queued"
    # Looks the same to the asker as QUEUED: an e-mail is already on its way.
    ALREADY_SENT = "already_sent"
    ADDRESS_EXHAUSTED = "address_exhausted"


def request_password_reset(*, email: str, address: str | None) -> ResetAnswer:
    """Queue the reset e-mail for whoever uses ``email``: at most one per
    ``NAVBAT_PASSWORD_RESET_EMAIL_INTERVAL`` per e-mail typed (so a stranger asking often
    delays the owner's by minutes at most, never an hour), and at most
    ``NAVBAT_PASSWORD_RESETS_PER_ADDRESS`` an hour per client address. Both counters are
    read and moved under a row lock (addresses first, then e-mails: one order, no
    deadlock). The job gets the user ids, never the e-mail (its row would keep it in clear);
    known and unknown e-mails cost the same: one indexed lookup, one job."""
    from .tasks import send_password_reset

    now = timezone.now()
    hour_ago = now - timedelta(hours=1)
    interval = settings.NAVBAT_PASSWORD_RESET_EMAIL_INTERVAL
    with transaction.atomic():
        PasswordResetRequest.objects.filter(
            window_start__lte=min(hour_ago, now - interval)
        ).delete()
        here = _locked_counter(f"address:{address or '?'}", now)
        if here.window_start <= hour_ago:
            here.count, here.window_start = 0, now
        if here.count >= settings.NAVBAT_PASSWORD_RESETS_PER_ADDRESS:
            return ResetAnswer.ADDRESS_EXHAUSTED
        typed = _locked_counter(f"email:{_email_digest(email)}", now)
        if typed.count and typed.window_start > now - interval:
            return ResetAnswer.ALREADY_SENT
        typed.count, typed.window_start = 1, now
        typed.save(update_fields=["count", "window_start"])
        here.count += 1
        here.save(update_fields=["count", "window_start"])
        users = PasswordResetForm().get_users(email.strip().lower())
        send_password_reset.enqueue(user_ids=sorted(user.pk for user in users))
    return ResetAnswer.QUEUED


def forget_failures(*, email: str) -> None:
    """A password was just set by its owner: every failure counted against the account,
    from anywhere, ends (they were guesses at the old password), so the owner logs in at
    once even from a device the account's ceiling would hold back."""
    from axes.models import AccessAttempt

    AccessAttempt.objects.filter(username=email.strip().lower()).delete()


def set_language(*, user: User, language: str) -> None:
    if user.is_authenticated and language in dict(settings.LANGUAGES):
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])


def add_member(*, business, user: User, role: str) -> Membership:
    return Membership.objects.create(business=business, user=user, role=role)


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
