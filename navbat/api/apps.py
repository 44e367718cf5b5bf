from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "navbat.api"
    label = "api"
