from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "navbat.payments"
    label = "payments"

    def ready(self) -> None:
        from navbat.kit import slots

        # Finance's menu lists the online payments without knowing payments exist.
        slots.contribute("finance.nav", template="payments/_finance_nav.html", order=10)
