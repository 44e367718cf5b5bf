from django.apps import AppConfig


class UzumConfig(AppConfig):
    name = "navbat.uzum"
    label = "uzum"

    def ready(self) -> None:
        from navbat.payments import providers

        from .provider import UzumProvider

        providers.register(UzumProvider())
