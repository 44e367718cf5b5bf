from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "navbat.payments"
    label = "payments"
