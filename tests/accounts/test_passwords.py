"""Changing a password from the top bar, and resetting a forgotten one by e-mail: the link
works once and for a limited time, the "sent" page never says whether the e-mail is known,
requests are throttled, and every other session of the user is logged out."""

import json
import os
import re
import subprocess
import sys
from datetime import timedelta

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.test import Client, override_settings

from navbat.accounts.models import User
from tests.payments.jobs import run_due, waiting

from .conftest import PASSWORD

LOGIN = "/accounts/login/"
JOURNAL = "/journal/"
CHANGE = "/accounts/password/"
CHANGED = "/accounts/password/done/"
RESET = "/accounts/password/reset/"
SENT = "/accounts/password/reset/sent/"
COMPLETE = "/accounts/password/reset/complete/"
RESET_JOB = "navbat.accounts.tasks.send_password_reset"
NEW = "a-brand-new-secret-41"
SENT_TEXT = "If an account uses this e-mail, a link to set a new password is on its way."

pytestmark = pytest.mark.django_db


def log_in(email, password, address="127.0.0.1") -> Client:
    browser = Client()
    response = browser.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=address)
    assert response.status_code == 302, response.content.decode()[:500]
    return browser


def is_logged_in(browser) -> bool:
    """Whether the session still opens a page that needs a login (a user without a business
    has no journal)."""
    response = browser.get(CHANGE)
    assert response.status_code in (200, 302)
    return response.status_code == 200


def request_reset(browser, email, address="127.0.0.1", **extra):
    return browser.post(RESET, {"email": email}, REMOTE_ADDR=address, **extra)


def link_in(message) -> str:
    match = re.search(r"https?://\S+/accounts/password/reset/\S+/\S+/", message.body)
    assert match, message.body
    return match.group(0)


def path_of(url: str, root: str) -> str:
    assert url.startswith(root + "/"), url
    return url.removeprefix(root)


# ------------------------------------------------------------------------------ change


def test_the_top_bar_links_to_change_password(salon_a, login):
    page = login(salon_a.owner).get(JOURNAL).content.decode()
    assert f'href="{CHANGE}"' in page
    assert "Change password" in page


def test_change_password_needs_a_login(client):
    response = client.get(CHANGE)
    assert response.status_code == 302
    assert response.url == f"{LOGIN}?next={CHANGE}"


def test_change_password_end_to_end(person):
    here = log_in(person.email, PASSWORD)
    elsewhere = log_in(person.email, PASSWORD, address="198.51.100.7")
    page = here.get(CHANGE)
    assert page.status_code == 200
    for field in ("old_password", "new_password1", "new_password2"):
        assert f'name="{field}"' in page.content.decode()
    response = here.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302
    assert response.url == CHANGED
    assert here.get(CHANGED).status_code == 200
    # This session stays; the other one is logged out (its session hash no longer matches).
    assert is_logged_in(here)
    assert not is_logged_in(elsewhere)
    assert User.objects.get(pk=person.pk).check_password(NEW)
    fresh = Client()
    assert fresh.post(LOGIN, {"email": person.email, "password": PASSWORD}).status_code == 400
    assert fresh.post(LOGIN, {"email": person.email, "password": NEW}).status_code == 302


def test_a_wrong_old_password_changes_nothing(person):
    here = log_in(person.email, PASSWORD)
    before = User.objects.get(pk=person.pk).password
    response = here.post(
        CHANGE, {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly." in response.content.decode()
    assert User.objects.get(pk=person.pk).password == before
    assert is_logged_in(here)


def test_guessing_the_old_password_is_throttled_like_a_login(person):
    from axes.models import AccessAttempt

    here = log_in(person.email, PASSWORD)
    before = User.objects.get(pk=person.pk).password
    for _guess in range(5):
        response = here.post(
            CHANGE, {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW}
        )
        assert response.status_code == 200
        assert "Your old password was entered incorrectly." in response.content.decode()
    counted = AccessAttempt.objects.filter(username=person.email, ip_address="127.0.0.1")
    assert sum(counted.values_list("failures_since_start", flat=True)) == 5
    # Past the limit even the right old password is refused unchecked, on the form's page.
    response = here.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "Too many failed attempts. Try again in 1 minute." in page
    assert 'name="old_password"' in page
    assert User.objects.get(pk=person.pk).password == before
    assert sum(counted.values_list("failures_since_start", flat=True)) == 5
    assert is_logged_in(here)


def test_the_right_old_password_changes_it_and_counts_nothing(person):
    from axes.models import AccessAttempt

    here = log_in(person.email, PASSWORD)
    here.post(CHANGE, {"old_password": "not-it", "new_password1": NEW, "new_password2": NEW})
    response = here.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW}
    )
    assert response.status_code == 302
    assert User.objects.get(pk=person.pk).check_password(NEW)
    assert AccessAttempt.objects.get().failures_since_start == 1


def test_a_weak_new_password_is_refused(person):
    here = log_in(person.email, PASSWORD)
    response = here.post(
        CHANGE, {"old_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"}
    )
    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert User.objects.get(pk=person.pk).check_password(PASSWORD)


# ------------------------------------------------------------------------------- reset


def test_the_login_page_links_to_the_reset(client):
    assert f'href="{RESET}"' in client.get(LOGIN).content.decode()


def test_reset_by_email_end_to_end(person, settings):
    here = log_in(person.email, PASSWORD)
    elsewhere = log_in(person.email, PASSWORD, address="198.51.100.7")
    stranger = Client()
    assert stranger.get(RESET).status_code == 200
    response = request_reset(stranger, "  Person@Example.UZ ")
    assert response.status_code == 302
    assert response.url == SENT
    assert SENT_TEXT in stranger.get(SENT).content.decode()
    # The e-mail goes out from the worker, so the request takes the same time either way.
    assert mail.outbox == []
    assert run_due(RESET_JOB) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [person.email]
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.subject == "Set a new navbat password"
    link = link_in(message)
    response = stranger.get(path_of(link, settings.NAVBAT_PUBLIC_URL))
    # Django swaps the token in the address for one in the session (no token in Referer).
    assert response.status_code == 302
    assert response.url.endswith("/set-password/")
    form = stranger.get(response.url)
    assert form.status_code == 200
    assert 'name="new_password1"' in form.content.decode()
    response = stranger.post(response.url, {"new_password1": NEW, "new_password2": NEW})
    assert response.status_code == 302
    assert response.url == COMPLETE
    assert stranger.get(COMPLETE).status_code == 200
    assert User.objects.get(pk=person.pk).check_password(NEW)
    # Every session the user had is logged out; the reset did not log anyone in.
    assert not is_logged_in(here)
    assert not is_logged_in(elsewhere)
    assert not is_logged_in(stranger)
    assert log_in(person.email, NEW)
    # The link worked once.
    again = stranger.get(path_of(link, settings.NAVBAT_PUBLIC_URL))
    assert again.status_code == 200
    assert "This link to set a new password is invalid or has expired." in again.content.decode()


def test_an_unknown_email_looks_the_same_and_sends_nothing(person):
    known = request_reset(Client(), person.email)
    unknown = request_reset(Client(), "nobody@example.uz")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url) == (302, SENT)
    assert waiting(RESET_JOB).count() == 2
    assert run_due(RESET_JOB) == 2
    assert [message.to for message in mail.outbox] == [[person.email]]


def test_an_inactive_user_gets_no_email(person):
    person.is_active = False
    person.save()
    assert request_reset(Client(), person.email).url == SENT
    assert run_due(RESET_JOB) == 1
    assert mail.outbox == []


def test_the_link_points_at_the_public_url_whatever_the_host_header(person, settings):
    request_reset(Client(), person.email, HTTP_HOST="evil.example")
    run_due(RESET_JOB)
    link = link_in(mail.outbox[0])
    assert link.startswith(settings.NAVBAT_PUBLIC_URL + "/accounts/password/reset/")
    assert "evil.example" not in mail.outbox[0].body


def test_the_email_speaks_the_users_language(person):
    person.preferred_language = "ru"
    person.save()
    request_reset(Client(), person.email, HTTP_ACCEPT_LANGUAGE="en")
    run_due(RESET_JOB)
    assert mail.outbox[0].extra_headers["Content-Language"] == "ru"


def test_the_link_expires_after_an_hour(person, settings, monkeypatch):
    assert settings.PASSWORD_RESET_TIMEOUT == 3600
    request_reset(Client(), person.email)
    run_due(RESET_JOB)
    path = path_of(link_in(mail.outbox[0]), settings.NAVBAT_PUBLIC_URL)
    start = PasswordResetTokenGenerator()._now()
    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: start + timedelta(minutes=61)
    )
    response = Client().get(path)
    assert response.status_code == 200
    assert "This link to set a new password is invalid or has expired." in response.content.decode()
    monkeypatch.setattr(
        PasswordResetTokenGenerator, "_now", lambda self: start + timedelta(minutes=59)
    )
    assert Client().get(path).status_code == 302
    assert User.objects.get(pk=person.pk).check_password(PASSWORD)


def test_reset_requests_are_throttled_per_email(person):
    for _request in range(3):
        assert request_reset(Client(), person.email, address="192.0.2.1").url == SENT
    # The others look the same but send nothing: a mailbox cannot be flooded
    # (test_reset_limits.py: one per five minutes, whoever asks).
    assert request_reset(Client(), person.email, address="192.0.2.2").url == SENT
    assert waiting(RESET_JOB).count() == 1
    assert run_due(RESET_JOB) == 1
    assert len(mail.outbox) == 1


def test_reset_requests_are_throttled_per_address(person):
    for index in range(10):
        assert request_reset(Client(), f"guess{index}@example.uz").url == SENT
    response = request_reset(Client(), person.email)
    assert response.status_code == 429
    assert "Too many requests. Try again later." in response.content.decode()
    assert waiting(RESET_JOB).count() == 10
    assert request_reset(Client(), person.email, address="198.51.100.7").url == SENT
    assert waiting(RESET_JOB).count() == 11


@override_settings(NAVBAT_TRUSTED_PROXIES=1)
def test_reset_throttling_sees_the_client_behind_the_balancer(person):
    for index in range(10):
        request_reset(
            Client(),
            f"guess{index}@example.uz",
            address="10.0.0.2",
            HTTP_X_FORWARDED_FOR="203.0.113.5",
        )
    blocked = request_reset(
        Client(), person.email, address="10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.5"
    )
    assert blocked.status_code == 429
    other = request_reset(
        Client(), person.email, address="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.7"
    )
    assert other.url == SENT


def test_a_reset_frees_the_owner_from_their_own_throttle(person, settings):
    browser = Client()
    for _attempt in range(5):
        browser.post(LOGIN, {"email": person.email, "password": "wrong"})
    assert browser.post(LOGIN, {"email": person.email, "password": PASSWORD}).status_code == 429
    request_reset(browser, person.email)
    run_due(RESET_JOB)
    response = browser.get(path_of(link_in(mail.outbox[0]), settings.NAVBAT_PUBLIC_URL))
    browser.post(response.url, {"new_password1": NEW, "new_password2": NEW})
    assert browser.post(LOGIN, {"email": person.email, "password": NEW}).status_code == 302


# ---------------------------------------------------------------------- e-mail settings

SHOW_EMAIL = (
    "import json, navbat.settings as s; print(json.dumps({k: str(getattr(s, k)) for k in "
    "['EMAIL_BACKEND', 'EMAIL_FILE_PATH', 'EMAIL_HOST', 'EMAIL_PORT', 'EMAIL_HOST_USER', "
    "'EMAIL_HOST_PASSWORD', 'EMAIL_USE_TLS', 'EMAIL_TIMEOUT', 'DEFAULT_FROM_EMAIL'] "
    "if hasattr(s, k)}))"
)


def email_settings(tmp_path, **env) -> dict:
    clean = {key: value for key, value in os.environ.items() if not key.startswith("NAVBAT_")}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean.update(NAVBAT_VAR_DIR=str(tmp_path / "var"), **env)
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", SHOW_EMAIL],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_embedded_mode_writes_mail_to_files_under_var(tmp_path):
    found = email_settings(tmp_path)
    assert found["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert found["EMAIL_FILE_PATH"] == str(tmp_path / "var" / "mail")
    assert found["DEFAULT_FROM_EMAIL"] == "navbat <no-reply@127.0.0.1>"


def test_production_sends_by_smtp_from_the_environment(tmp_path):
    from cryptography.fernet import Fernet

    found = email_settings(
        tmp_path,
        NAVBAT_MODE="production",
        NAVBAT_SECRET_KEY="s" * 50,
        NAVBAT_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        NAVBAT_PUBLIC_URL="https://salon.example.uz",
        NAVBAT_ALLOWED_HOSTS="salon.example.uz",
        NAVBAT_EMAIL_HOST="smtp.example.uz",
        NAVBAT_EMAIL_PORT="2525",
        NAVBAT_EMAIL_USER="mailer",
        NAVBAT_EMAIL_PASSWORD="mail-secret",
        NAVBAT_EMAIL_USE_TLS="false",
        NAVBAT_EMAIL_FROM="Salon <desk@example.uz>",
    )
    assert found == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.uz",
        "EMAIL_PORT": "2525",
        "EMAIL_HOST_USER": "mailer",
        "EMAIL_HOST_PASSWORD": "mail-secret",
        "EMAIL_USE_TLS": "False",
        "EMAIL_TIMEOUT": "10",
        "DEFAULT_FROM_EMAIL": "Salon <desk@example.uz>",
    }


def test_production_smtp_defaults_to_tls_on_587(tmp_path):
    from cryptography.fernet import Fernet

    found = email_settings(
        tmp_path,
        NAVBAT_MODE="production",
        NAVBAT_SECRET_KEY="s" * 50,
        NAVBAT_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        NAVBAT_PUBLIC_URL="https://salon.example.uz",
        NAVBAT_ALLOWED_HOSTS="salon.example.uz",
        NAVBAT_EMAIL_HOST="smtp.example.uz",
    )
    assert (found["EMAIL_PORT"], found["EMAIL_USE_TLS"]) == ("587", "True")
    assert found["DEFAULT_FROM_EMAIL"] == "navbat <no-reply@salon.example.uz>"
