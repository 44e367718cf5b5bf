from django.apps import AppConfig


class BookingConfig(AppConfig):
    name = "navbat.booking"
    label = "booking"
