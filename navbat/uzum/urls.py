"""Administration pages of the Uzum Bank connection (Integrations → Uzum Bank)."""

from django.urls import path  # noqa: F401

app_name = "uzum"

urlpatterns: list = []
