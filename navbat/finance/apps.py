from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "navbat.finance"
    label = "finance"
