"""The pages of the sandbox bank: the dashboard, the hosted payment page (where
``paymentRedirectUrl`` leads) and the Uzum Bank app (open-service links)."""

from django.urls import path

from . import app, dashboard, hosted

urlpatterns = [
    path("", dashboard.index, name="sandbox-dashboard"),
    path("token/rotate", dashboard.rotate_token, name="sandbox-token-rotate"),
    path("pay/<uuid:order_id>/", hosted.pay, name="sandbox-pay"),
    path("pay/<uuid:order_id>/3ds/", hosted.three_ds, name="sandbox-pay-3ds"),
    path("pay/<uuid:order_id>/done/", hosted.done, name="sandbox-pay-done"),
    path("pay/<uuid:order_id>/close/", hosted.close, name="sandbox-pay-close"),
    path("open-service", app.open_service, name="sandbox-app"),
    path("open-service/<uuid:trans_id>/", app.outcome, name="sandbox-app-outcome"),
    path("open-service/<uuid:trans_id>/pay", app.pay, name="sandbox-app-pay"),
    path(
        "transactions/<uuid:trans_id>/reverse",
        app.reverse_transaction,
        name="sandbox-transaction-reverse",
    ),
]
