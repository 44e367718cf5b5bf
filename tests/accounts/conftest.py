import pytest

from navbat.accounts.models import User

PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def person(db) -> User:
    """A user with no business: enough for logging in and out."""
    return User.objects.create_user(
        email="person@example.uz", password=PASSWORD, preferred_language="en"
    )
