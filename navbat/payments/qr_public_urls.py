"""The checkout QR's address (public, no login): ``<public root>/q/<code>``."""

from django.urls import path

from . import qr_views as views

app_name = "qr"

urlpatterns = [
    path("<str:code>", views.qr_view, name="page"),
    path("<str:code>/watch", views.qr_watch_view, name="watch"),
]
