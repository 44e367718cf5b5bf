"""Administration pages of online payments (Finance → Online payments, reconciliation)."""

from django.urls import path

from . import point_views, views

app_name = "payments"

urlpatterns: list = [
    path("", views.payment_list_view, name="list"),
    path("export.csv", views.payment_export_view, name="export"),
    path("reconciliation", views.reconciliation_view, name="reconciliation"),
    path("<int:order_id>/refund", views.refund_view, name="refund"),
    # Checkout points and their QR downloads (F5).
    path("points/add", point_views.point_add_view, name="point-add"),
    path("points/<int:point_id>/rename", point_views.point_rename_view, name="point-rename"),
    path("points/<int:point_id>/new-code", point_views.point_new_code_view, name="point-new-code"),
    path("points/<int:point_id>/retire", point_views.point_retire_view, name="point-retire"),
    path("points/<int:point_id>/qr-colour.png", point_views.qr_png_view, name="point-png"),
    path("points/<int:point_id>/qr-bw.png", point_views.qr_png_bw_view, name="point-png-bw"),
    path("points/<int:point_id>/qr.svg", point_views.qr_svg_view, name="point-svg"),
    path("points/<int:point_id>/poster-a5.pdf", point_views.poster_a5_view, name="point-poster-a5"),
    path("points/<int:point_id>/poster-a4.pdf", point_views.poster_a4_view, name="point-poster-a4"),
]
