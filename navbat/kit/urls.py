"""Absolute addresses on navbat's public root, always through ``reverse()``.

What leaves navbat — a payment link in an SMS, a callback address given to a bank, a
password-reset e-mail — is built on ``NAVBAT_PUBLIC_URL``, never on the request's Host
header: the administrator may be on an internal host name, anyone can send that header, and
the bank and the client must reach the address from outside.
"""

from django.conf import settings
from django.urls import NoReverseMatch, reverse


def public_root() -> str:
    return settings.NAVBAT_PUBLIC_URL.rstrip("/")


def public_url(viewname: str, **kwargs) -> str:
    """The absolute address of the URL named ``viewname`` with ``kwargs``."""
    return public_root() + reverse(viewname, kwargs=kwargs or None)


def public_url_if_mounted(viewname: str, **kwargs) -> str:
    """As ``public_url``, or "" where the URL is not mounted here (the built-in sandbox's
    addresses exist only while ``NAVBAT_SANDBOX`` is on)."""
    try:
        return public_url(viewname, **kwargs)
    except NoReverseMatch:
        return ""
