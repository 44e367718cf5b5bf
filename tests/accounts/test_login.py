"""Logging in by e-mail, and no open redirect (throttling: test_throttle.py)."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client

from navbat.accounts.models import User

from .conftest import PASSWORD

LOGIN = "/accounts/login/"
JOURNAL = "/journal/"
WRONG = "Wrong e-mail or password."

pytestmark = pytest.mark.django_db


def post_login(client, email, password, **extra):
    return client.post(LOGIN, {"email": email, "password": password, **extra})


def logged_in_user_id(client):
    return client.session.get("_auth_user_id")


def hidden_next(response) -> str:
    """The login form's hidden ``next`` (the header's language form has one too)."""
    main = response.content.decode().split("<main>", 1)[1]
    match = re.search(r'name="next" value="([^"]*)"', main)
    assert match, "the login form carries a hidden next field"
    return match.group(1)


def test_login_page_renders(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="email"' in page
    assert 'name="password"' in page
    assert 'type="password"' in page
    assert "csrfmiddlewaretoken" in page
    assert 'role="alert"' not in page
    assert hidden_next(response) == ""


def test_good_login_goes_to_the_journal(client, salon_a):
    response = post_login(client, salon_a.owner.email, PASSWORD)
    assert response.status_code == 302
    assert response.url == JOURNAL
    assert logged_in_user_id(client) == str(salon_a.owner.pk)
    assert client.get(JOURNAL).status_code == 200
    assert AccessAttempt.objects.count() == 0


def test_login_ignores_the_case_and_spaces_of_the_email(client, person):
    response = post_login(client, "  Person@Example.UZ ", PASSWORD)
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(person.pk)


def test_login_sets_the_users_language(client, person):
    person.preferred_language = "en"
    person.save()
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_wrong_password_is_refused_and_counted(client, person):
    response = post_login(client, person.email, "not-the-password")
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert logged_in_user_id(client) is None
    failure = AccessAttempt.objects.get()
    assert (failure.username, failure.ip_address) == ("person@example.uz", "127.0.0.1")
    assert failure.failures_since_start == 1
    assert "not-the-password" not in failure.post_data


def test_unknown_email_is_refused_the_same_way(client, person):
    response = post_login(client, "nobody@example.uz", PASSWORD)
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["nobody@example.uz"]


def test_inactive_user_cannot_log_in(client, person):
    person.is_active = False
    person.save()
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert logged_in_user_id(client) is None


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "person@example.uz", "password": ""},
        {"email": "", "password": PASSWORD},
        {"email": "person@example.uz", "password": "x" * 201},
    ],
)
def test_invalid_form_is_a_400_and_changes_nothing(client, person, data):
    response = client.post(LOGIN, data)
    assert response.status_code == 400
    assert logged_in_user_id(client) is None
    assert AccessAttempt.objects.count() == 0
    assert User.objects.get(pk=person.pk).last_login is None


@pytest.mark.parametrize(
    "target",
    ["/finance/transactions/", "/journal/?date=2026-01-05", "http://testserver/catalog/clients/"],
)
def test_next_on_this_site_is_honoured(client, person, target):
    response = post_login(client, person.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.url == target


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "http://evil.example/journal/",
        "//evil.example/",
        "///evil.example/",
        "/\\evil.example/",
        "\\\\evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "http://testserver.evil.example/",
        "ftp://testserver/",
        "accounts:logout",
    ],
)
def test_next_elsewhere_is_refused(client, person, target):
    page = client.get(LOGIN, {"next": target})
    assert hidden_next(page) == ""
    response = post_login(client, person.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.url == JOURNAL


def test_next_is_never_resolved_as_a_view_name(client, person):
    # "home" is a relative URL on this site, not the URL pattern named "home".
    response = post_login(client, person.email, PASSWORD, next="home")
    assert response.status_code == 302
    assert response.url == "home"


def test_next_from_the_query_string_is_kept_in_the_form(client, person):
    page = client.get(LOGIN, {"next": "/finance/transactions/"})
    assert hidden_next(page) == "/finance/transactions/"
    response = client.post(
        LOGIN + "?next=/finance/transactions/", {"email": person.email, "password": PASSWORD}
    )
    assert response.url == "/finance/transactions/"


def test_login_accepts_only_get_and_post(client):
    assert client.put(LOGIN).status_code == 405
    assert client.delete(LOGIN).status_code == 405


def test_logout_is_post_only(client, person):
    client.force_login(person)
    response = client.get("/accounts/logout/")
    assert response.status_code == 405
    assert logged_in_user_id(client) == str(person.pk)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response.url == LOGIN
    assert logged_in_user_id(client) is None


def test_csrf_is_enforced_on_login(person):
    browser = Client(enforce_csrf_checks=True)
    response = browser.post(LOGIN, {"email": person.email, "password": PASSWORD})
    assert response.status_code == 403
    assert logged_in_user_id(browser) is None
    assert AccessAttempt.objects.count() == 0
    # With the token from the page the same login works.
    page = browser.get(LOGIN)
    token = page.cookies[settings.CSRF_COOKIE_NAME].value
    response = browser.post(
        LOGIN, {"email": person.email, "password": PASSWORD, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert logged_in_user_id(browser) == str(person.pk)


def test_csrf_is_enforced_on_logout(person):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)
    assert browser.post("/accounts/logout/").status_code == 403
    assert logged_in_user_id(browser) == str(person.pk)


def test_a_wrong_csrf_token_is_refused(person):
    browser = Client(enforce_csrf_checks=True)
    browser.get(LOGIN)
    response = browser.post(
        LOGIN, {"email": person.email, "password": PASSWORD, "csrfmiddlewaretoken": "x" * 64}
    )
    assert response.status_code == 403
    assert logged_in_user_id(browser) is None
