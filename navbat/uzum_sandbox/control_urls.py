"""The sandbox's control API: <root>/sandbox/uzum/control/ (see control.py)."""

from django.urls import path

from . import control

urlpatterns = [
    path("token/rotate", control.token_rotate, name="sandbox-control-token-rotate"),
    path("terminals", control.terminals, name="sandbox-control-terminals"),
    path("terminals/<str:terminal_id>", control.terminal_detail, name="sandbox-control-terminal"),
    path(
        "terminals/<str:terminal_id>/faults",
        control.terminal_faults,
        name="sandbox-control-terminal-faults",
    ),
    path("services", control.services, name="sandbox-control-services"),
    path("services/<str:service_id>", control.service_detail, name="sandbox-control-service"),
    path(
        "services/<str:service_id>/faults",
        control.service_faults,
        name="sandbox-control-service-faults",
    ),
    path("orders/<str:order_id>", control.order_detail, name="sandbox-control-order"),
    path("orders/<str:order_id>/pay", control.order_pay, name="sandbox-control-order-pay"),
    path(
        "transactions/<str:trans_id>",
        control.transaction_detail,
        name="sandbox-control-transaction",
    ),
]
