from django.urls import path

from . import settings_views as views

app_name = "booking_settings"
urlpatterns = [
    path("", views.index_view, name="index"),
    path("<int:location_id>/", views.location_view, name="location"),
    path("<int:location_id>/address/", views.address_view, name="address"),
    path("<int:location_id>/codes/", views.codes_view, name="codes"),
    # One route per file: the tenant sweep knows every URL parameter (tests/test_tenant_sweep.py).
    path("<int:location_id>/qr.png", views.qr_view, {"kind": "png"}, name="qr-png"),
    path("<int:location_id>/qr.svg", views.qr_view, {"kind": "svg"}, name="qr-svg"),
]
