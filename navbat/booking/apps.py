from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "navbat.booking"
    label = "booking"

    def ready(self) -> None:
        from navbat.payments import payables

        from .payables import AppointmentPayable

        payables.register(AppointmentPayable())
