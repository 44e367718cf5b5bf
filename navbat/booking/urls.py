from django.urls import path

from . import qr_views, views

app_name = "booking"
urlpatterns = [
    path("journal/", views.journal_view, name="journal"),
    path("appointments/new/", views.appointment_new_view, name="appointment_new"),
    path("appointments/client-lookup/", views.client_lookup_view, name="client_lookup"),
    path("appointments/<int:appointment_id>/", views.appointment_view, name="appointment"),
    path(
        "appointments/<int:appointment_id>/status/",
        views.appointment_status_view,
        name="appointment_status",
    ),
    path(
        "appointments/<int:appointment_id>/payment/",
        views.appointment_payment_view,
        name="appointment_payment",
    ),
    path(
        "appointments/<int:appointment_id>/payment-link/",
        views.appointment_payment_link_view,
        name="appointment_payment_link",
    ),
    path(
        "appointments/<int:appointment_id>/pay-by-qr/",
        qr_views.appointment_qr_view,
        name="appointment_qr",
    ),
    path(
        "appointments/<int:appointment_id>/pay-by-qr/release/",
        qr_views.appointment_qr_release_view,
        name="appointment_qr_release",
    ),
    path(
        "appointments/<int:appointment_id>/money/",
        views.appointment_money_view,
        name="appointment_money",
    ),
    path(
        "appointments/<int:appointment_id>/payments/<int:transaction_id>/refund/",
        views.appointment_desk_refund_view,
        name="appointment_desk_refund",
    ),
]
