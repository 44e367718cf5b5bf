import pytest

from navbat.accounts.models import User
from tests.factories import UserFactory

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def person(db) -> User:
    """A user with no business: enough for logging in and out."""
    return UserFactory(email="person@example.uz", password=PASSWORD, preferred_language="en")
