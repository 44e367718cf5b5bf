"""Administration pages of online payments (Finance → Online payments, reconciliation)."""

from django.urls import path

from . import views

app_name = "payments"

urlpatterns: list = [
    path("", views.payment_list_view, name="list"),
    path("export.csv", views.payment_export_view, name="export"),
    path("reconciliation", views.reconciliation_view, name="reconciliation"),
    path("<int:order_id>/refund", views.refund_view, name="refund"),
]
