"""The Checkout client for a connection. Tests put the sandbox in-process by setting
``transport_factory`` (an httpx transport per client); everything else speaks real HTTP."""

from collections.abc import Callable

import httpx

from .checkout import CheckoutClient
from .models import Connection

transport_factory: Callable[[], httpx.BaseTransport] | None = None
# Seconds to wait for the bank; a test lowers it to meet a bank that works, then times out.
timeout_seconds: float = 15.0


def checkout_client(connection: Connection, **options) -> CheckoutClient:
    if transport_factory is not None:
        options.setdefault("transport", transport_factory())
    options.setdefault("timeout", timeout_seconds)
    return CheckoutClient(
        connection.checkout_base_url,
        str(connection.terminal_id),
        connection.api_key,
        **options,
    )


def checkout_client_for_keys(*, base_url: str, terminal_id: str, api_key: str, **options):
    """A client for keys not saved yet (the connect form checks them first)."""
    if transport_factory is not None:
        options.setdefault("transport", transport_factory())
    return CheckoutClient(base_url, terminal_id, api_key, **options)
