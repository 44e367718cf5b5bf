"""The sandbox bank's addresses, all under <root>/sandbox/uzum/ (mounted only when
NAVBAT_SANDBOX is on): the Checkout API host, the control API, and the pages a person
sees (hosted payment page, the Uzum Bank app, the dashboard)."""

from django.urls import include, path

urlpatterns = [
    path("checkout/", include("navbat.uzum_sandbox.checkout_urls")),
    path("control/", include("navbat.uzum_sandbox.control_urls")),
    path("", include("navbat.uzum_sandbox.page_urls")),
]
