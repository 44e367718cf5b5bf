"""What Uzum Bank calls: Checkout callbacks and the Merchant API of the Uzum Bank app.

``<connection>`` is the connection's ``public_id``: the address the salon hands to Uzum's
manager. These are machine endpoints without a login; the callbacks module trusts nothing
in them but the order they name, and asks the bank about it."""

from django.urls import path, re_path

from . import callbacks
from .merchant import views as merchant

urlpatterns: list = [
    path(
        "checkout/<uuid:connection>/callback",
        callbacks.payment_view,
        name="uzum-checkout-callback",
    ),
    path("checkout/<uuid:connection>/event", callbacks.event_view, name="uzum-checkout-event"),
    path(
        "checkout/<uuid:connection>/receipt",
        callbacks.receipt_view,
        name="uzum-checkout-receipt",
    ),
    # The app appends the endpoint to the base the salon gave Uzum's manager, with or
    # without a trailing slash.
    re_path(
        r"^merchant/(?P<connection>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
        r"/(?P<endpoint>check|create|confirm|reverse|status)/?$",
        merchant.endpoint,
        name="uzum-merchant",
    ),
]
