"""Where the sandbox bank may send requests: callbacks and Merchant API calls.

Only to this navbat (under ``NAVBAT_PUBLIC_URL``) and to the roots the operator lists in
``NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS``, never elsewhere: a terminal's callback URL is
set by whoever holds the sandbox token, and the worker must not become a way into the
machine's own network (cloud metadata, a database port, a neighbour's admin page).

Addresses are checked when they are set (a clear 400) and again right before each request,
so a changed setting takes effect on callbacks already queued. URLs are read with httpx, the
library that sends them, so that the check and the request see one host.

httpx decodes the path for ``URL.path`` but sends the raw one: ``/merchant/%2e%2e/admin``
would pass a ``/merchant/`` root as ``/merchant/../admin`` and reach ``/admin`` at a server
that resolves it. So a path with a ``.`` or ``..`` segment, or with an encoded ``.``, ``/``
or ``\\`` (``%2e``, ``%2f``, ``%5c`` in any case), is refused: the raw path then means what
the checked one says.
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from django.conf import settings

DEFAULT_PORTS = {"http": 80, "https": 443}
SETTING = "NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS"
ENCODED_SEPARATOR_RE = re.compile(r"%(2e|2f|5c)", re.IGNORECASE)


def _path_is_plain(raw: str) -> bool:
    """No dot segment and no encoded dot or slash in the path, as written (httpx drops
    literal dot segments itself, so they are looked for before it reads the URL)."""
    try:
        path = urlsplit(raw).path
    except ValueError:
        return False
    if ENCODED_SEPARATOR_RE.search(path):
        return False
    return not any(segment in (".", "..") for segment in path.split("/"))


@dataclass(frozen=True)
class Root:
    scheme: str
    host: str
    port: int
    path: str  # without the trailing "/"; "" for the whole origin

    def holds(self, url: "Root") -> bool:
        return (url.scheme, url.host, url.port) == (self.scheme, self.host, self.port) and (
            url.path == self.path or url.path.startswith(self.path + "/")
        )


def _parse(raw: str) -> Root | None:
    """scheme, host, port and path of an absolute http(s) URL, or None for anything else
    (user info included: ``http://navbat@elsewhere`` goes to ``elsewhere``)."""
    if not isinstance(raw, str) or "\\" in raw or any(ch.isspace() for ch in raw):
        return None
    if not _path_is_plain(raw):
        return None
    try:
        url = httpx.URL(raw)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    if url.scheme not in DEFAULT_PORTS or not url.host or url.userinfo:
        return None
    port = url.port or DEFAULT_PORTS[url.scheme]
    return Root(url.scheme, url.host.lower(), port, url.path.rstrip("/"))


def _allowed_roots() -> list[Root]:
    extra = getattr(settings, SETTING, [])
    if isinstance(extra, str):
        extra = extra.split(",")
    raws = [settings.NAVBAT_PUBLIC_URL, *(item.strip() for item in extra if item.strip())]
    return [root for root in map(_parse, raws) if root is not None]


def public_root() -> str:
    return settings.NAVBAT_PUBLIC_URL


def is_allowed(url: str) -> bool:
    """Whether the sandbox may send a request to ``url``."""
    target = _parse(url)
    return target is not None and any(root.holds(target) for root in _allowed_roots())


def refusal(url: str) -> str:
    """Why a request to ``url`` is not sent (for the attempt log and the dashboard)."""
    return f"not sent: {url[:120]} is outside this navbat and the allowed origins ({SETTING})"
