"""The sandbox's Checkout host: <root>/sandbox/uzum/checkout/. Only /api/v1/ answers;
every other path is refused with HTTP 403, as Uzum's hosts do."""

from django.urls import path, re_path

from . import checkout

urlpatterns = [
    path("api/v1/<path:endpoint>", checkout.api, name="sandbox-checkout-api"),
    re_path(r"^(?P<rest>.*)$", checkout.forbidden, name="sandbox-checkout-forbidden"),
]
