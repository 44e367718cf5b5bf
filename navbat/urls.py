from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from navbat.health import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("navbat.api.urls")),
    path("accounts/", include("navbat.accounts.urls")),
    path("catalog/", include("navbat.salons.urls")),
    path("finance/", include("navbat.finance.urls")),
    path("payments/", include("navbat.payments.urls")),
    path("integrations/", include("navbat.uzum.urls")),
    path("pay/", include("navbat.payments.public_urls")),
    path("q/", include("navbat.payments.qr_public_urls")),
    path("book/", include("navbat.booking.public_urls")),
    path("uzum/", include("navbat.uzum.bank_urls")),
    path("online-booking/", include("navbat.booking.settings_urls")),
    path("", include("navbat.booking.urls")),
    path("", RedirectView.as_view(pattern_name="booking:journal", permanent=False), name="home"),
]

if settings.NAVBAT_SANDBOX:
    # The built-in sandbox bank; in production it is off and none of its URLs exist.
    urlpatterns.insert(1, path("sandbox/uzum/", include("navbat.uzum_sandbox.urls")))
