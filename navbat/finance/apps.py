from django.apps import AppConfig


class FinanceConfig(AppConfig):
    name = "navbat.finance"
    label = "finance"

    def ready(self) -> None:
        from navbat.kit import slots

        from . import contributions

        slots.contribute(
            "salons.client",
            template="finance/_client_transactions.html",
            order=20,
            context=contributions.client_transactions,
        )
