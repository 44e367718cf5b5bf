from django.apps import AppConfig


class KitConfig(AppConfig):
    name = "navbat.kit"
    label = "kit"
