from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "navbat.booking"
    label = "booking"

    def ready(self) -> None:
        from navbat.kit import slots
        from navbat.payments import payables

        from . import contributions
        from .payables import AppointmentPayable

        payables.register(AppointmentPayable())
        slots.contribute(
            "salons.client",
            template="booking/_client_visits.html",
            order=10,
            context=contributions.client_visits,
        )
        slots.contribute(
            "salons.client.after",
            template="booking/_client_payment_links.html",
            order=10,
            context=contributions.client_payment_links,
        )
