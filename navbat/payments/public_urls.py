"""The client's Quick Payment page (public, no login)."""

from django.urls import path  # noqa: F401

app_name = "pay"

urlpatterns: list = []
