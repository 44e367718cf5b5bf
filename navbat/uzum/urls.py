"""Administration pages of the Uzum Bank connection (Integrations → Uzum Bank)."""

from django.urls import path

from . import views

app_name = "uzum"

urlpatterns = [
    path("", views.index_view, name="index"),
    path("uzum/", views.overview_view, name="overview"),
    path("uzum/connect", views.connect_view, name="connect"),
    path("uzum/disconnect", views.disconnect_view, name="disconnect"),
    path("uzum/fee-return", views.fee_return_view, name="fee_return"),
]
