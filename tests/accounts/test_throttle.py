"""Login throttling that an attacker cannot turn against a salon: failures count per account
*and* client address together, each failure past the limit doubles the wait, one address
has a much higher ceiling across accounts, the Django admin login is covered too, and the
client address is the one the trusted proxies report."""

from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext, ngettext

from navbat.accounts.models import User
from tests.factories import UserFactory

from .conftest import PASSWORD

LOGIN = "/accounts/login/"
ADMIN_LOGIN = "/admin/login/?next=/admin/"
WRONG = "Wrong e-mail or password."
ATTACKER = "203.0.113.5"
OWNER = "198.51.100.7"
BALANCER = "10.0.0.2"

pytestmark = pytest.mark.django_db


def attempt(client, email, password, address=ATTACKER, **extra):
    return client.post(LOGIN, {"email": email, "password": password}, REMOTE_ADDR=address, **extra)


def admin_attempt(client, email, password, address=ATTACKER):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def waited(response, minutes: int) -> str:
    """The wait as the page says it: a client that logged in as a user gets that user's
    language, so the message is the translated one, with the plural form of ``minutes``."""
    if response["Content-Language"] == "en":
        unit = "minute" if minutes == 1 else "minutes"
        return f"Too many failed attempts. Try again in {minutes} {unit}."
    with translation.override(response["Content-Language"]):
        message = ngettext(
            "Too many failed attempts. Try again in %(minutes)d minute.",
            "Too many failed attempts. Try again in %(minutes)d minutes.",
            minutes,
        )
    return message % {"minutes": minutes}


def attempts():
    """The recorded failures (axes's table; imported late so that this file also runs, and
    fails, on code without axes)."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects


def logged_in(client) -> str | None:
    return client.session.get("_auth_user_id")


def failures(email: str, address: str) -> int:
    return sum(
        attempts()
        .filter(username=email, ip_address=address)
        .values_list("failures_since_start", flat=True)
    )


CLOCK = {}


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """A clock that moves only when a test says: the waits and Retry-After are exact, however
    slow the machine. axes stamps attempts from both of these."""
    import axes.handlers.proxy
    from django.utils import timezone

    CLOCK["now"] = timezone.now()

    def now():
        return CLOCK["now"]

    monkeypatch.setattr(timezone, "now", now)
    monkeypatch.setattr(axes.handlers.proxy, "now", now)


def age(seconds: int) -> None:
    """Let ``seconds`` pass."""
    CLOCK["now"] += timedelta(seconds=seconds)


def assert_throttled(response, minutes: int, seconds: int):
    assert response.status_code == 429
    assert response["Retry-After"] == str(seconds)
    page = response.content.decode()
    assert escape(waited(response, minutes)) in page
    with translation.override(response["Content-Language"]):
        assert escape(gettext(WRONG)) not in page
    assert 'role="alert"' in page


@pytest.fixture
def owner(db) -> User:
    return UserFactory(email="owner@salon.uz")


def test_the_defaults(settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.NAVBAT_LOGIN_FAILURES_PER_ADDRESS == 100
    assert settings.NAVBAT_LOGIN_FIRST_DELAY.total_seconds() == 60
    assert settings.NAVBAT_LOGIN_LONGEST_DELAY.total_seconds() == 3600
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 24 * 3600
    assert settings.AUTHENTICATION_BACKENDS[0] == "navbat.accounts.throttle.ThrottleBackend"
    assert settings.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"


def test_five_failures_throttle_the_pair_of_account_and_address(client, owner):
    for _attempt in range(5):
        response = attempt(client, owner.email, "wrong")
        assert response.status_code == 400
        assert WRONG in response.content.decode()
    assert failures(owner.email, ATTACKER) == 5
    # Now even the right password from that address waits, and is told how long.
    response = attempt(client, owner.email, PASSWORD)
    assert_throttled(response, 1, 60)
    assert 'name="email"' in response.content.decode()  # the form is there to try again
    assert logged_in(client) is None
    assert User.objects.get(pk=owner.pk).last_login is None
    # Attempts while throttled are refused unchecked and not counted: no one waits longer
    # for having knocked.
    for _attempt in range(3):
        assert_throttled(attempt(client, owner.email, "wrong"), 1, 60)
    assert failures(owner.email, ATTACKER) == 5


def test_four_failures_do_not_throttle(client, owner):
    for _attempt in range(4):
        attempt(client, owner.email, "wrong")
    response = attempt(client, owner.email, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client) == str(owner.pk)
    # Success forgets this pair's failures.
    assert attempts().count() == 0


def test_the_owner_logs_in_from_another_address_while_the_attacker_waits(owner):
    attacker, salon = Client(), Client()
    for _attempt in range(30):
        attempt(attacker, owner.email, "wrong")
    assert failures(owner.email, ATTACKER) == 5
    assert attempt(attacker, owner.email, PASSWORD).status_code == 429
    response = attempt(salon, owner.email, PASSWORD, address=OWNER)
    assert response.status_code == 302
    assert logged_in(salon) == str(owner.pk)
    # The owner's success does not free the attacker.
    assert failures(owner.email, ATTACKER) == 5
    assert attempt(attacker, owner.email, PASSWORD).status_code == 429


def test_a_throttled_pair_does_not_throttle_other_accounts_at_that_address(client, owner):
    colleague = UserFactory(email="desk@salon.uz")
    for _attempt in range(5):
        attempt(client, owner.email, "wrong")
    response = attempt(client, colleague.email, PASSWORD)
    assert response.status_code == 302
    assert logged_in(client) == str(colleague.pk)


def test_the_case_of_the_email_and_the_user_agent_do_not_split_the_count(client, owner):
    spellings = [
        "OWNER@salon.uz",
        "owner@SALON.UZ",
        " owner@salon.uz ",
        "Owner@Salon.uz",
        "owner@salon.UZ",
    ]
    for index, email in enumerate(spellings):
        attempt(client, email, "wrong", HTTP_USER_AGENT=f"agent-{index}")
    assert failures(owner.email, ATTACKER) == 5
    response = attempt(client, "Owner@Salon.uz", PASSWORD, HTTP_USER_AGENT="fresh")
    assert response.status_code == 429


def test_each_failure_past_the_limit_doubles_the_wait_up_to_an_hour(client, owner):
    for _attempt in range(5):
        attempt(client, owner.email, "wrong")
    for wait in [60, 120, 240, 480, 960, 1920, 3600, 3600]:
        assert_throttled(attempt(client, owner.email, "wrong"), -(-wait // 60), wait)
        age(wait - 10)
        # Not yet: the answer counts down and the attempt is not counted.
        assert_throttled(attempt(client, owner.email, PASSWORD), 1, 10)
        age(10)
        response = attempt(client, owner.email, "wrong")
        assert response.status_code == 400
        assert WRONG in response.content.decode()
    assert failures(owner.email, ATTACKER) == 13


def test_the_right_password_after_the_wait_logs_in_and_starts_the_count_again(client, owner):
    for _attempt in range(6):
        attempt(client, owner.email, "wrong")
        age(60)
    assert failures(owner.email, ATTACKER) == 6
    assert attempt(client, owner.email, PASSWORD).status_code == 429
    age(60)
    assert attempt(client, owner.email, PASSWORD).status_code == 302
    assert failures(owner.email, ATTACKER) == 0
    client.post("/accounts/logout/")
    for _attempt in range(4):
        assert attempt(client, owner.email, "wrong").status_code == 400
    assert attempt(client, owner.email, PASSWORD).status_code == 302


def test_failures_are_remembered_for_a_day_after_the_last_one(client, owner):
    for _attempt in range(4):
        attempt(client, owner.email, "wrong")
    age(24 * 3600 - 30)
    assert attempt(client, owner.email, "wrong").status_code == 400
    assert failures(owner.email, ATTACKER) == 5
    assert attempt(client, owner.email, PASSWORD).status_code == 429
    age(24 * 3600 + 1)
    # A day of quiet: the count starts again, and the next attempt purges the old rows.
    assert attempt(client, owner.email, "wrong").status_code == 400
    assert failures(owner.email, ATTACKER) == 1
    assert attempts().count() == 1


def test_twenty_failures_at_a_salon_desk_lock_nobody_out(client, owner):
    staff = [UserFactory(email=f"staff{index}@salon.uz") for index in range(10)]
    for person in staff:
        for _attempt in range(2):
            assert attempt(client, person.email, "wrong", address=OWNER).status_code == 400
    assert attempts().filter(ip_address=OWNER).count() == 10
    response = attempt(client, owner.email, PASSWORD, address=OWNER)
    assert response.status_code == 302
    assert logged_in(client) == str(owner.pk)


@override_settings(NAVBAT_LOGIN_FAILURES_PER_ADDRESS=12)
def test_one_address_trying_many_accounts_reaches_its_ceiling(owner):
    attacker = Client()
    for index in range(11):
        assert attempt(attacker, f"guess{index}@salon.uz", "wrong").status_code == 400
    # Below the ceiling the address still logs in to an account it knows.
    assert attempt(attacker, owner.email, PASSWORD).status_code == 302
    attacker.post("/accounts/logout/")
    assert attempt(attacker, "guess11@salon.uz", "wrong").status_code == 400
    # (A browser that has not logged in to the account before: test_throttle_spread.py has
    # the devices that did.)
    assert_throttled(attempt(Client(), owner.email, PASSWORD), 1, 60)
    assert_throttled(attempt(attacker, "guess12@salon.uz", "wrong"), 1, 60)
    assert sum(attempts().values_list("failures_since_start", flat=True)) == 12
    # Other addresses are untouched.
    salon = Client()
    assert attempt(salon, owner.email, PASSWORD, address=OWNER).status_code == 302
    # Past the ceiling the address's wait grows like an account's.
    age(60)
    assert attempt(attacker, "guess12@salon.uz", "wrong").status_code == 400
    assert_throttled(attempt(Client(), owner.email, PASSWORD), 2, 120)


@override_settings(NAVBAT_TRUSTED_PROXIES=1)
def test_behind_the_balancer_each_client_is_counted_on_its_own(owner):
    attacker, salon = Client(), Client()

    def through_balancer(client, password, forwarded):
        return attempt(
            client, owner.email, password, address=BALANCER, HTTP_X_FORWARDED_FOR=forwarded
        )

    for _attempt in range(5):
        assert through_balancer(attacker, "wrong", ATTACKER).status_code == 400
    assert failures(owner.email, ATTACKER) == 5
    assert attempts().filter(ip_address=BALANCER).count() == 0
    assert through_balancer(attacker, PASSWORD, ATTACKER).status_code == 429
    # Claiming another address to the left of what the balancer wrote changes nothing.
    assert through_balancer(attacker, PASSWORD, f"{OWNER}, {ATTACKER}").status_code == 429
    # The owner comes through the same balancer and logs in.
    assert through_balancer(salon, PASSWORD, OWNER).status_code == 302
    assert logged_in(salon) == str(owner.pk)


def test_without_trusted_proxies_a_forwarded_header_is_not_believed(client, owner):
    for index in range(5):
        attempt(client, owner.email, "wrong", HTTP_X_FORWARDED_FOR=f"192.0.2.{index}")
    assert failures(owner.email, ATTACKER) == 5
    response = attempt(client, owner.email, PASSWORD, HTTP_X_FORWARDED_FOR=OWNER)
    assert response.status_code == 429


@pytest.fixture
def operator(db) -> User:
    return User.objects.create_superuser(email="root@navbat.uz", password=PASSWORD)


def test_the_admin_login_is_throttled_too(operator):
    attacker = Client()
    for _attempt in range(30):
        response = admin_attempt(attacker, operator.email, "wrong")
        assert response.status_code in (200, 429)
    assert failures(operator.email, ATTACKER) == 5
    response = admin_attempt(attacker, operator.email, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "Too many failed attempts. Try again in 1 minute." in response.content.decode()
    assert logged_in(attacker) is None
    assert User.objects.get(pk=operator.pk).last_login is None
    # The operator, from their own address, gets in.
    desk = Client()
    response = admin_attempt(desk, operator.email, PASSWORD, address=OWNER)
    assert response.status_code == 302
    assert response.url == "/admin/"
    assert logged_in(desk) == str(operator.pk)


def test_the_admin_and_the_app_share_one_count(client, operator):
    for _attempt in range(3):
        assert admin_attempt(client, operator.email, "wrong").status_code == 200
    for _attempt in range(2):
        assert attempt(client, operator.email, "wrong").status_code == 400
    assert admin_attempt(client, operator.email, PASSWORD).status_code == 429
    assert attempt(client, operator.email, PASSWORD).status_code == 429


def test_the_api_token_is_not_affected(client, salon_a):
    for _attempt in range(5):
        attempt(client, salon_a.owner.email, "wrong", address="127.0.0.1")
    assert attempt(client, salon_a.owner.email, PASSWORD, address="127.0.0.1").status_code == 429
    for index in range(30):
        response = client.get("/api/v1/services", HTTP_AUTHORIZATION=f"Bearer nbt_wrong{index}")
        assert response.status_code == 401
    assert attempts().count() == 1
    response = client.get("/api/v1/services", HTTP_AUTHORIZATION=f"Bearer {salon_a.api_token}")
    assert response.status_code == 200


def test_a_call_from_code_without_a_request_is_not_counted(owner):
    from django.contrib.auth import authenticate

    for _attempt in range(10):
        assert authenticate(username=owner.email, password="wrong") is None
    assert authenticate(username=owner.email, password=PASSWORD) == owner
    assert attempts().count() == 0
