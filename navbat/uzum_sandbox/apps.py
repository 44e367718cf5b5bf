from django.apps import AppConfig


class UzumSandboxConfig(AppConfig):
    name = "navbat.uzum_sandbox"
    label = "uzum_sandbox"
    verbose_name = "Uzum Bank sandbox"
