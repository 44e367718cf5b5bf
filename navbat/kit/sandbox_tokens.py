"""Who a request speaks for at the built-in sandbox bank, and the sandbox token proving it.

The sandbox imports nothing of navbat but ``kit``, so it knows its users only as an opaque
*owner* string. Two ways name one:

- a logged-in navbat user: ``NAVBAT_SANDBOX_OWNER_OF_REQUEST`` names a function (in
  ``accounts``) that returns the owner for ``request`` or None;
- a sandbox token (``Authorization: Bearer <token>``), for scripts and for navbat's own
  calls to the sandbox over HTTP. It is the owner and an HMAC of it under ``SECRET_KEY``,
  so whoever holds the secret derives it and nothing is stored; a token signed with one of
  ``SECRET_KEY_FALLBACKS`` is still read, so rotating the secret revokes every token.
"""

import hmac
import re
from functools import cache

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

PREFIX = "nbsbx_"
SALT = "navbat.kit.sandbox_tokens"
# Opaque to the sandbox, but it travels in a header and is stored in a column.
OWNER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _mac(owner: str, secret: str) -> str:
    return salted_hmac(SALT, owner, secret=secret, algorithm="sha256").hexdigest()


def token_for(owner: str) -> str:
    """The sandbox token of ``owner`` (the same on every call)."""
    if not OWNER_RE.fullmatch(owner):
        raise ValueError("a sandbox owner is 1-64 letters, digits, '_' or '-'")
    return f"{PREFIX}{owner}.{_mac(owner, settings.SECRET_KEY)}"


def owner_of_token(token: str) -> str | None:
    """The owner a sandbox token was made for, or None for anything else."""
    if not token.startswith(PREFIX):
        return None
    owner, _dot, mac = token[len(PREFIX) :].rpartition(".")
    if not OWNER_RE.fullmatch(owner) or not mac:
        return None
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    matched = False
    for secret in secrets:  # every one is compared: the time says nothing about which
        matched |= hmac.compare_digest(mac.encode(), _mac(owner, secret).encode())
    return owner if matched else None


def bearer_token(request) -> str | None:
    """The token of an ``Authorization: Bearer`` header, "" for another scheme or an empty
    token, None when there is no such header."""
    header = request.headers.get("Authorization")
    if header is None:
        return None
    scheme, _space, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@cache
def _owner_function(path: str):
    return import_string(path)


def owner_of_request(request) -> str | None:
    """The owner the logged-in user of ``request`` acts for at the sandbox, or None."""
    path = getattr(settings, "NAVBAT_SANDBOX_OWNER_OF_REQUEST", "")
    if not path:
        return None
    owner = _owner_function(path)(request)
    return owner if owner and OWNER_RE.fullmatch(owner) else None
