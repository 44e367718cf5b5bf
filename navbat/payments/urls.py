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
    *(
        path(
            f"points/<int:point_id>/{file_name}",
            point_views.qr_download_view,
            {"kind": kind},
            name=f"point-{kind}",
        )
        for kind, file_name in (
            ("png", "qr-colour.png"),
            ("png-bw", "qr-bw.png"),
            ("svg", "qr.svg"),
            ("poster-a5", "poster-a5.pdf"),
            ("poster-a4", "poster-a4.pdf"),
        )
    ),
]
