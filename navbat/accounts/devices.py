"""The device cookie: a browser that logged in to an account before is remembered, so that
throttling against guesses from everywhere (throttle.py) does not lock the owner out of their
usual devices.

The cookie is signed (no one makes one without the secret key), HttpOnly, and names each
account by a keyed digest of its e-mail, never the e-mail itself. A shared desk keeps the
last few accounts that logged in there. It opens nothing by itself: it only spares its
holder the ceilings meant for strangers; the password is still checked.
"""

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

SALT = "navbat.accounts.device"
MOST_ACCOUNTS = 10


def _account_mark(email: str) -> str:
    return salted_hmac(SALT, email.strip().lower()).hexdigest()[:32]


def _marks(request) -> list[str]:
    value = request.get_signed_cookie(
        settings.NAVBAT_LOGIN_DEVICE_COOKIE,
        default="",
        salt=SALT,
        max_age=settings.NAVBAT_LOGIN_DEVICE_COOKIE_AGE,
    )
    return [mark for mark in value.split(".") if len(mark) == 32][:MOST_ACCOUNTS]


def device_knows(request, email: str | None) -> bool:
    """Whether this browser logged in to ``email`` before (a valid device cookie names it)."""
    if not email or request is None or not hasattr(request, "COOKIES"):
        return False
    try:
        return _account_mark(email) in _marks(request)
    except signing.BadSignature:
        return False


def remember_device(*, request, response, email: str) -> None:
    """After a successful login: this browser is one of the account's devices from now on
    (the newest first, the oldest forgotten past ``MOST_ACCOUNTS``)."""
    try:
        known = _marks(request)
    except signing.BadSignature:
        known = []
    mark = _account_mark(email)
    marks = [mark] + [other for other in known if other != mark]
    response.set_signed_cookie(
        settings.NAVBAT_LOGIN_DEVICE_COOKIE,
        ".".join(marks[:MOST_ACCOUNTS]),
        salt=SALT,
        max_age=int(settings.NAVBAT_LOGIN_DEVICE_COOKIE_AGE.total_seconds()),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
