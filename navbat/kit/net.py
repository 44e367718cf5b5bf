"""Who is asking: the client's address as the trusted proxies in front of navbat report it.

Behind a load balancer ``REMOTE_ADDR`` is the balancer, so limits keyed on it would treat
every client as one. ``X-Forwarded-For`` is appended to by each proxy, so only the last
``NAVBAT_TRUSTED_PROXIES`` entries were written by proxies we run; anything to the left of
them is what the client claimed and is never believed.
"""

import ipaddress

from django.conf import settings


def _valid(address: str) -> str | None:
    address = address.strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def client_ip(request) -> str:
    """The client's IP address, or ``"?"`` when nothing trustworthy names one."""
    remote = _valid(request.META.get("REMOTE_ADDR", "")) or "?"
    trusted = int(getattr(settings, "NAVBAT_TRUSTED_PROXIES", 0))
    if trusted <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < trusted:
        # Fewer entries than proxies we run: the request bypassed them; trust the socket.
        return remote
    return _valid(hops[-trusted]) or remote
