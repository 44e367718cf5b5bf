"""factory_boy factories for single rows a test adds next to salons A and B.

A whole salon comes from the ``salon_a``/``salon_b`` fixtures (tests/conftest.py, built once
per session by tests/seed.py); these are for the one more user, client or service a test
needs, with every field a test does not care about filled with a valid value.
"""

import factory
from factory.django import DjangoModelFactory

from navbat.accounts.models import User
from navbat.salons.models import Client, Service
from tests.conftest import PASSWORD


class UserFactory(DjangoModelFactory):
    """A user who logs in with ``PASSWORD`` (hashed by the test's hasher)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.uz")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        password = kwargs.pop("password", PASSWORD)
        return model_class.objects.create_user(*args, password=password, **kwargs)


class ClientFactory(DjangoModelFactory):
    """A salon's client; pass ``business``."""

    class Meta:
        model = Client

    name = factory.Sequence(lambda n: f"Client {n}")
    phone = factory.Sequence(lambda n: f"+99893{n:07d}")


class ServiceFactory(DjangoModelFactory):
    """A service; pass ``business`` (and ``category`` when it matters)."""

    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    price = 10_000_000
    duration_minutes = 60
