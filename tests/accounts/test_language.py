"""The language switch: a cookie for every page, remembered on the user."""

import pytest
from django.conf import settings
from django.test import Client, override_settings

from navbat.accounts.models import User

LANGUAGE = "/accounts/language/"
COOKIE = "django_language"

pytestmark = pytest.mark.django_db


def test_the_cookie_name_is_djangos():
    assert settings.LANGUAGE_COOKIE_NAME == COOKIE


@pytest.mark.parametrize("language", ["uz", "ru", "en"])
def test_switch_sets_the_cookie_and_the_users_language(client, person, language):
    client.force_login(person)
    response = client.post(LANGUAGE, {"language": language, "next": "/journal/"})
    assert response.status_code == 302
    assert response.url == "/journal/"
    cookie = response.cookies[COOKIE]
    assert cookie.value == language
    assert cookie["max-age"] == 365 * 24 * 3600
    assert cookie["samesite"] == "Lax"
    assert User.objects.get(pk=person.pk).preferred_language == language


def test_pages_follow_the_cookie(client):
    client.post(LANGUAGE, {"language": "ru"})
    assert '<html lang="ru">' in client.get("/accounts/login/").content.decode()
    client.post(LANGUAGE, {"language": "en"})
    assert '<html lang="en">' in client.get("/accounts/login/").content.decode()


def test_anonymous_switch_sets_only_the_cookie(client, person):
    response = client.post(LANGUAGE, {"language": "ru"})
    assert response.status_code == 302
    assert response.url == "/"
    assert response.cookies[COOKIE].value == "ru"
    assert User.objects.get(pk=person.pk).preferred_language == "en"


@pytest.mark.parametrize("language", ["xx", "de", "", "RU", "ru-RU", "uz" * 50, "../en"])
def test_unknown_languages_are_ignored(client, person, language):
    client.force_login(person)
    response = client.post(LANGUAGE, {"language": language, "next": "/journal/"})
    assert response.status_code == 302
    assert response.url == "/journal/"
    assert COOKIE not in response.cookies
    assert User.objects.get(pk=person.pk).preferred_language == "en"


def test_missing_language_is_ignored(client, person):
    client.force_login(person)
    response = client.post(LANGUAGE, {})
    assert response.status_code == 302
    assert COOKIE not in response.cookies
    assert User.objects.get(pk=person.pk).preferred_language == "en"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_switch_never_redirects_elsewhere(client, target):
    response = client.post(LANGUAGE, {"language": "en", "next": target})
    assert response.status_code == 302
    assert response.url == "/"


def test_switch_is_post_only(client, person):
    client.force_login(person)
    response = client.get(LANGUAGE, {"language": "ru"})
    assert response.status_code == 405
    assert COOKIE not in response.cookies
    assert User.objects.get(pk=person.pk).preferred_language == "en"


def test_switch_needs_the_csrf_token(person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    response = browser.post(LANGUAGE, {"language": "ru"})
    assert response.status_code == 403
    assert COOKIE not in response.cookies
    assert User.objects.get(pk=person.pk).preferred_language == "en"


def test_cookie_is_secure_when_the_session_cookie_is(client):
    with override_settings(SESSION_COOKIE_SECURE=True):
        response = client.post(LANGUAGE, {"language": "ru"})
    assert response.cookies[COOKIE]["secure"] is True
    response = client.post(LANGUAGE, {"language": "ru"})
    assert response.cookies[COOKIE]["secure"] == ""
