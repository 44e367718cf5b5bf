"""What Uzum Bank calls: Checkout callbacks (and, later, the Merchant API).

``<connection>`` is the connection's ``public_id``: the address the salon hands to Uzum's
manager. These are machine endpoints without a login; the callbacks module trusts nothing
in them but the order they name, and asks the bank about it."""

from django.urls import path

from . import callbacks

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
]
