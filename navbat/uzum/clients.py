"""The Checkout client for a connection. Tests put the sandbox in-process by setting
``transport_factory`` (an httpx transport per client); everything else speaks real HTTP."""

import os
from collections.abc import Callable

import httpx
from django.conf import settings

from .checkout import PRODUCTION_BASE_URL, TEST_BASE_URL, CheckoutClient
from .models import Connection, Environment

transport_factory: Callable[[], httpx.BaseTransport] | None = None
# Seconds to wait for the bank; a test lowers it to meet a bank that works, then times out.
timeout_seconds: float = 15.0


DEFAULT_CHECKOUT_HOSTS = ",".join(
    host.removeprefix("https://") for host in (TEST_BASE_URL, PRODUCTION_BASE_URL)
)


def checkout_hosts() -> tuple[str, ...]:
    """The hosts Uzum's test and production connections may name: the operator's
    ``NAVBAT_UZUM_CHECKOUT_HOSTS`` (comma-separated; a setting of that name wins), else
    Uzum's two documented hosts. An administrator's typo or a hostile edit cannot send the
    terminal's API key anywhere else."""
    raw = getattr(settings, "NAVBAT_UZUM_CHECKOUT_HOSTS", None)
    if raw is None:
        raw = os.environ.get("NAVBAT_UZUM_CHECKOUT_HOSTS", DEFAULT_CHECKOUT_HOSTS)
    return tuple(host.strip().lower() for host in raw.split(",") if host.strip())


def allowed_hosts_for(environment: str) -> tuple[str, ...] | None:
    """None for the built-in sandbox (its host is navbat's own), the list for Uzum's."""
    return None if environment == Environment.SANDBOX else checkout_hosts()


def checkout_client(connection: Connection, **options) -> CheckoutClient:
    if transport_factory is not None:
        options.setdefault("transport", transport_factory())
    options.setdefault("timeout", timeout_seconds)
    return CheckoutClient(
        connection.checkout_base_url,
        str(connection.terminal_id),
        connection.api_key,
        allowed_hosts=allowed_hosts_for(connection.environment),
        **options,
    )


def checkout_client_for_keys(
    *, environment: str, base_url: str, terminal_id: str, api_key: str, **options
):
    """A client for keys not saved yet (the connect form checks them first)."""
    if transport_factory is not None:
        options.setdefault("transport", transport_factory())
    return CheckoutClient(
        base_url, terminal_id, api_key, allowed_hosts=allowed_hosts_for(environment), **options
    )
