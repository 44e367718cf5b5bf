from django.apps import AppConfig


class UzumConfig(AppConfig):
    name = "navbat.uzum"
    label = "uzum"

    def ready(self) -> None:
        from navbat.kit.bankcalls import ensure_outside_transaction
        from navbat.payments import providers

        from .checkout.client import before_each_request
        from .provider import UzumProvider

        providers.register(UzumProvider())
        # Every request of every Checkout client refuses inside a database transaction.
        before_each_request(ensure_outside_transaction)
