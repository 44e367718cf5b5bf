from django.apps import AppConfig


class SalonsConfig(AppConfig):
    name = "navbat.salons"
    label = "salons"
