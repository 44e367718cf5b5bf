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
    path("", include("navbat.booking.urls")),
    path("", RedirectView.as_view(pattern_name="booking:journal", permanent=False), name="home"),
]
