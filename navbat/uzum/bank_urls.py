"""What Uzum Bank calls: Checkout callbacks (and, later, the Merchant API)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
