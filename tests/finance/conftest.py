import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English, so assertions read the source strings whatever gets translated."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
