"""Logging in by e-mail, with brute-force protection and no open redirect."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.utils import timezone

from navbat.accounts.models import LoginFailure, User

from .conftest import PASSWORD

LOGIN = "/accounts/login/"
JOURNAL = "/journal/"
WRONG = "Wrong e-mail or password."
LOCKED = "Too many failed attempts. Try again in 15 minutes."

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
    assert LoginFailure.objects.count() == 0


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
    failure = LoginFailure.objects.get()
    assert (failure.email, failure.address) == ("person@example.uz", "127.0.0.1")
    assert timezone.now() - failure.at < timedelta(minutes=1)


def test_unknown_email_is_refused_the_same_way(client, person):
    response = post_login(client, "nobody@example.uz", PASSWORD)
    assert response.status_code == 400
    assert WRONG in response.content.decode()
    assert list(LoginFailure.objects.values_list("email", flat=True)) == ["nobody@example.uz"]


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
    assert LoginFailure.objects.count() == 0
    assert User.objects.get(pk=person.pk).last_login is None


def test_lock_out_after_max_failures(client, person):
    limit = settings.NAVBAT_LOGIN_MAX_FAILURES
    assert limit == 5
    for _attempt in range(limit):
        response = post_login(client, person.email, "wrong")
        assert response.status_code == 400
        assert WRONG in response.content.decode()
    assert LoginFailure.objects.count() == limit
    # Locked now: even the right password is refused, and the message says why.
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 400
    page = response.content.decode()
    assert LOCKED in page
    assert WRONG not in page
    assert logged_in_user_id(client) is None
    assert User.objects.get(pk=person.pk).last_login is None
    # Attempts while locked are not counted again.
    assert LoginFailure.objects.count() == limit


def test_lock_out_is_per_email_in_any_case(client, person):
    for _attempt in range(settings.NAVBAT_LOGIN_MAX_FAILURES):
        post_login(client, "PERSON@example.uz", "wrong")
    response = post_login(client, "person@EXAMPLE.uz", PASSWORD)
    assert LOCKED in response.content.decode()


@override_settings(NAVBAT_LOGIN_MAX_FAILURES=2, NAVBAT_LOGIN_LOCK_MINUTES=7)
def test_lock_out_follows_the_settings(client, person):
    post_login(client, person.email, "wrong")
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 302  # one failure is below the limit of two
    client.post("/accounts/logout/")
    post_login(client, person.email, "wrong")
    post_login(client, person.email, "wrong")
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 400
    assert "Too many failed attempts. Try again in 7 minutes." in response.content.decode()


def test_lock_out_does_not_lock_other_accounts(client, person):
    other = User.objects.create_user(email="other@example.uz", password=PASSWORD)
    for _attempt in range(settings.NAVBAT_LOGIN_MAX_FAILURES):
        post_login(client, person.email, "wrong")
    response = post_login(client, other.email, PASSWORD)
    assert response.status_code == 302
    assert logged_in_user_id(client) == str(other.pk)


@override_settings(NAVBAT_LOGIN_MAX_FAILURES=2)
def test_one_address_trying_many_accounts_is_locked_out(client, person):
    for index in range(2 * 4):
        post_login(client, f"guess{index}@example.uz", "wrong")
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 400
    assert "Too many failed attempts." in response.content.decode()
    # Another address is not affected.
    response = client.post(
        LOGIN, {"email": person.email, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 302


def test_the_lock_ends_when_the_failures_are_old(client, person):
    for _attempt in range(settings.NAVBAT_LOGIN_MAX_FAILURES):
        post_login(client, person.email, "wrong")
    assert LOCKED in post_login(client, person.email, PASSWORD).content.decode()
    long_ago = timezone.now() - timedelta(minutes=settings.NAVBAT_LOGIN_LOCK_MINUTES + 1)
    LoginFailure.objects.update(at=long_ago)
    response = post_login(client, person.email, PASSWORD)
    assert response.status_code == 302


def test_success_clears_the_failures(client, person):
    other_failure = LoginFailure.objects.create(email="someone@example.uz", address="10.0.0.1")
    for _attempt in range(settings.NAVBAT_LOGIN_MAX_FAILURES - 1):
        post_login(client, person.email, "wrong")
    assert LoginFailure.objects.filter(email=person.email).count() == 4
    assert post_login(client, person.email, PASSWORD).status_code == 302
    assert LoginFailure.objects.filter(email=person.email).count() == 0
    assert list(LoginFailure.objects.all()) == [other_failure]
    # And the count starts again from zero.
    client.post("/accounts/logout/")
    for _attempt in range(settings.NAVBAT_LOGIN_MAX_FAILURES - 1):
        post_login(client, person.email, "wrong")
    assert post_login(client, person.email, PASSWORD).status_code == 302


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
    assert LoginFailure.objects.count() == 0
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
