"""Administration pages of online payments (Finance → Online payments, reconciliation)."""

from django.urls import path  # noqa: F401

app_name = "payments"

urlpatterns: list = []
