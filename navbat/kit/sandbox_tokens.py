"""Who a request speaks for at the built-in sandbox bank, and the sandbox token proving it.

The sandbox imports nothing of navbat but ``kit``, so it knows its users only as an opaque
*owner* string. Two ways name one:

- a logged-in navbat user: ``NAVBAT_SANDBOX_OWNER_OF_REQUEST`` names a function (in
  ``accounts``) that returns the owner for ``request`` or None;
- a sandbox token (``Authorization: Bearer <token>``), for scripts and for navbat's own
  calls to the sandbox over HTTP. It is the owner and an HMAC, under ``SECRET_KEY``, of the
  owner and the owner's token *generation*, so whoever holds the secret derives it.

Revoking: the sandbox keeps one generation per owner (0 until first rotated) and bumps it
when the owner rotates the token (``POST control/token/rotate``, or "Rotate token" on the
dashboard): every earlier token of that owner stops working. Changing ``SECRET_KEY``
revokes every token: one signed with a key of ``SECRET_KEY_FALLBACKS`` is not accepted
(those keep sessions alive through a change, not sandbox tokens).

The kit does not know where generations are kept: the sandbox app registers its store at
start-up (``use_generations``), so navbat's code that makes tokens (the demo, uzum's call
that creates sandbox keys) imports only this module. Without a store every generation is 0.
"""

import hmac
import re
from collections.abc import Callable
from functools import cache

from django.conf import settings
from django.utils.crypto import salted_hmac
from django.utils.module_loading import import_string

PREFIX = "nbsbx_"
SALT = "navbat.kit.sandbox_tokens"
# Opaque to the sandbox, but it travels in a header and is stored in a column.
OWNER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


_generation_store: Callable[[str], int] | None = None


def use_generations(store: Callable[[str], int] | None) -> None:
    """Where the owners' token generations are read from (the sandbox app calls this)."""
    global _generation_store
    _generation_store = store


def generation(owner: str) -> int:
    """The owner's current token generation (0 before the first rotation)."""
    return _generation_store(owner) if _generation_store is not None else 0


def _mac(owner: str, generation: int) -> str:
    # Only SECRET_KEY: a token must not outlive a change of the secret.
    value = f"{owner}:{int(generation)}"
    return salted_hmac(SALT, value, secret=settings.SECRET_KEY, algorithm="sha256").hexdigest()


def token_for(owner: str) -> str:
    """The current sandbox token of ``owner`` (the same until it is rotated)."""
    if not OWNER_RE.fullmatch(owner):
        raise ValueError("a sandbox owner is 1-64 letters, digits, '_' or '-'")
    return f"{PREFIX}{owner}.{_mac(owner, generation(owner))}"


def owner_of_token(token: str) -> str | None:
    """The owner a current sandbox token was made for, or None for anything else."""
    if not token.startswith(PREFIX):
        return None
    owner, _dot, mac = token[len(PREFIX) :].rpartition(".")
    if not OWNER_RE.fullmatch(owner) or not mac:
        return None
    expected = _mac(owner, generation(owner))
    return owner if hmac.compare_digest(mac.encode(), expected.encode()) else None


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
