"""Guessing from many addresses: an IPv6 /64 is one address, an account has a ceiling across
all addresses that spares the devices its owner logged in from before (a signed device
cookie), those devices also pass their address's ceiling, failed attempts store no request
data, and a forwarded header nobody is trusted to write is reported once."""

import logging

import pytest
from django.test import Client, override_settings

from navbat.accounts.models import User
from tests.factories import UserFactory

from .conftest import PASSWORD
from .test_throttle import (
    ATTACKER,
    LOGIN,
    OWNER,
    WRONG,
    age,
    assert_throttled,
    attempt,
    attempts,
    clock,  # noqa: F401 - the fixed clock of those tests, autouse here too
    failures,
    logged_in,
)

DEVICE_COOKIE = "navbat_device"

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(db) -> User:
    return UserFactory(email="owner@salon.uz")


def botnet(count: int, start: int = 0):
    """``count`` different addresses, none of them the owner's."""
    return [
        f"192.0.2.{index}" if index < 250 else f"10.9.{index}.1"
        for index in range(start, start + count)
    ]


def device_of(email: str, address: str = OWNER) -> Client:
    """A browser that logged in to ``email`` once and logged out again."""
    browser = Client()
    response = attempt(browser, email, PASSWORD, address=address)
    assert response.status_code == 302
    browser.post("/accounts/logout/")
    assert logged_in(browser) is None
    return browser


# ------------------------------------------------------------------------ IPv6 /64


def test_addresses_of_one_ipv6_64_count_as_one(client, owner):
    for index in range(5):
        response = attempt(client, owner.email, "wrong", address=f"2001:db8:1:2::{index + 1:x}")
        assert response.status_code == 400
    assert failures(owner.email, "2001:db8:1:2::") == 5
    response = attempt(client, owner.email, PASSWORD, address="2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert_throttled(response, 1, 60)
    # The next /64 is someone else.
    neighbour = Client()
    assert attempt(neighbour, owner.email, PASSWORD, address="2001:db8:1:3::1").status_code == 302


def test_ipv4_addresses_stay_exact(owner):
    attacker = Client()
    for _attempt in range(5):
        attempt(attacker, owner.email, "wrong", address="203.0.113.5")
    assert attempt(attacker, owner.email, PASSWORD, address="203.0.113.5").status_code == 429
    assert attempt(Client(), owner.email, PASSWORD, address="203.0.113.6").status_code == 302


def test_an_ipv4_mapped_ipv6_address_is_the_ipv4_address(owner):
    for _attempt in range(5):
        attempt(Client(), owner.email, "wrong", address="::ffff:203.0.113.5")
    assert failures(owner.email, "203.0.113.5") == 5
    assert attempt(Client(), owner.email, PASSWORD, address="203.0.113.5").status_code == 429


# ----------------------------------------------------------- an account, anywhere


def test_an_account_guessed_from_many_addresses_waits_everywhere(settings, owner):
    assert settings.NAVBAT_LOGIN_FAILURES_PER_ACCOUNT_ANYWHERE == 20
    for address in botnet(20):
        response = attempt(Client(), owner.email, "wrong", address=address)
        assert response.status_code == 400
        assert WRONG in response.content.decode()
    assert sum(attempts().values_list("failures_since_start", flat=True)) == 20
    # A 21st address, even with the right password, waits; so does an IPv6 one.
    assert_throttled(attempt(Client(), owner.email, PASSWORD, address="198.18.0.1"), 1, 60)
    assert_throttled(attempt(Client(), owner.email, "wrong", address="2001:db8::1"), 1, 60)
    # Refused attempts are not counted, and the wait doubles with each failure past it.
    assert sum(attempts().values_list("failures_since_start", flat=True)) == 20
    age(60)
    assert attempt(Client(), owner.email, "wrong", address="198.18.0.2").status_code == 400
    assert_throttled(attempt(Client(), owner.email, PASSWORD, address="198.18.0.3"), 2, 120)
    age(120)
    assert attempt(Client(), owner.email, "wrong", address="198.18.0.4").status_code == 400
    assert_throttled(attempt(Client(), owner.email, PASSWORD, address="198.18.0.5"), 4, 240)
    assert logged_in(Client()) is None
    assert User.objects.get(pk=owner.pk).last_login is None
    # Other accounts are not affected.
    colleague = UserFactory(email="desk@salon.uz")
    assert attempt(Client(), colleague.email, PASSWORD, address="198.18.0.6").status_code == 302


def test_the_owners_devices_log_in_during_a_spread_attack(owner):
    desk = device_of(owner.email, address=OWNER)
    phone = device_of(owner.email, address="2001:db8:aaaa::7")
    for address in botnet(30):
        attempt(Client(), owner.email, "wrong", address=address)
    assert attempt(Client(), owner.email, PASSWORD, address=OWNER).status_code == 429
    # Each device that logged in before passes, from its usual address or a new one.
    assert attempt(desk, owner.email, PASSWORD, address=OWNER).status_code == 302
    assert logged_in(desk) == str(owner.pk)
    assert attempt(phone, owner.email, PASSWORD, address="198.18.7.7").status_code == 302
    assert logged_in(phone) == str(owner.pk)
    # The owner's success does not free the attackers.
    assert attempt(Client(), owner.email, PASSWORD, address="198.18.0.9").status_code == 429


def test_a_device_cookie_opens_only_its_own_account(owner):
    colleague = UserFactory(email="desk@salon.uz")
    theirs = device_of(colleague.email)
    value = device_of(owner.email).cookies[DEVICE_COOKIE].value
    for address in botnet(20):
        attempt(Client(), owner.email, "wrong", address=address)
    assert attempt(theirs, owner.email, PASSWORD, address=OWNER).status_code == 429
    # A forged or altered cookie is no cookie.
    forged = Client()
    forged.cookies[DEVICE_COOKIE] = "owner@salon.uz"
    assert attempt(forged, owner.email, PASSWORD, address=OWNER).status_code == 429
    altered = Client()
    altered.cookies[DEVICE_COOKIE] = value[:-2] + ("AA" if not value.endswith("AA") else "BB")
    assert attempt(altered, owner.email, PASSWORD, address=OWNER).status_code == 429


def test_the_device_cookie_is_signed_httponly_long_lived_and_names_several_accounts(owner):
    colleague = UserFactory(email="desk@salon.uz")
    browser = Client()
    response = attempt(browser, owner.email, PASSWORD, address=OWNER)
    cookie = response.cookies[DEVICE_COOKIE]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == 365 * 24 * 3600
    assert owner.email not in cookie.value
    browser.post("/accounts/logout/")
    # A shared desk: the second account joins the first on the same device.
    assert attempt(browser, colleague.email, PASSWORD, address=OWNER).status_code == 302
    browser.post("/accounts/logout/")
    for address in botnet(20):
        attempt(Client(), owner.email, "wrong", address=address)
        attempt(Client(), colleague.email, "wrong", address=address)
    assert attempt(browser, owner.email, PASSWORD, address="198.18.1.1").status_code == 302
    browser.post("/accounts/logout/")
    assert attempt(browser, colleague.email, PASSWORD, address="198.18.1.1").status_code == 302


def test_a_device_still_waits_after_its_own_failures_at_its_address(owner):
    desk = device_of(owner.email)
    for _attempt in range(5):
        assert attempt(desk, owner.email, "wrong", address=OWNER).status_code == 400
    assert_throttled(attempt(desk, owner.email, PASSWORD, address=OWNER), 1, 60)


def test_a_failed_login_does_not_set_the_device_cookie(client, owner):
    response = attempt(client, owner.email, "wrong")
    assert DEVICE_COOKIE not in response.cookies


# ---------------------------------------------------------- an address's ceiling


@override_settings(NAVBAT_LOGIN_FAILURES_PER_ADDRESS=12)
def test_a_device_passes_its_addresss_ceiling_for_its_own_account(owner):
    desk = device_of(owner.email, address=ATTACKER)
    for index in range(12):
        attempt(Client(), f"guess{index}@salon.uz", "wrong", address=ATTACKER)
    assert attempt(Client(), owner.email, PASSWORD, address=ATTACKER).status_code == 429
    assert attempt(desk, owner.email, PASSWORD, address=ATTACKER).status_code == 302
    assert logged_in(desk) == str(owner.pk)
    desk.post("/accounts/logout/")
    # Not for another account.
    colleague = UserFactory(email="desk@salon.uz")
    assert attempt(desk, colleague.email, PASSWORD, address=ATTACKER).status_code == 429


# ------------------------------------------------------------- stored request data


def test_a_megabyte_of_junk_does_not_grow_the_failure_row(client, owner):
    junk = "x" * 1_000_000
    for _attempt in range(3):
        response = client.post(
            f"{LOGIN}?q={'y' * 5000}",
            {"email": owner.email, "password": "wrong", "junk": junk},
            REMOTE_ADDR=ATTACKER,
        )
        assert response.status_code == 400
    row = attempts().get()
    assert row.failures_since_start == 3
    assert row.post_data == ""
    assert row.get_data == ""
    assert len(row.http_accept) <= 1025
    assert len(row.path_info) <= 255


# ------------------------------------------------- a proxy nobody said to trust


@pytest.fixture
def fresh_warning(monkeypatch):
    from navbat.accounts import throttle

    monkeypatch.setattr(throttle, "_warned_untrusted_proxy", False, raising=False)


@override_settings(NAVBAT_MODE="production", NAVBAT_TRUSTED_PROXIES=0)
def test_production_warns_once_of_a_forwarded_header_with_no_trusted_proxy(
    owner, caplog, fresh_warning
):
    caplog.set_level(logging.WARNING, logger="navbat.security")
    for index in range(3):
        response = attempt(
            Client(), owner.email, "wrong", address=OWNER, HTTP_X_FORWARDED_FOR=f"192.0.2.{index}"
        )
        assert response.status_code == 400  # warned, never refused
    warnings = [r for r in caplog.records if r.name == "navbat.security"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "NAVBAT_TRUSTED_PROXIES" in warnings[0].getMessage()
    assert failures(owner.email, OWNER) == 3


@override_settings(NAVBAT_MODE="production", NAVBAT_TRUSTED_PROXIES=0)
def test_any_request_with_a_forwarded_header_warns_not_only_a_login(caplog, fresh_warning):
    caplog.set_level(logging.WARNING, logger="navbat.security")
    response = Client().get(
        "/api/v1/services",
        HTTP_AUTHORIZATION="Bearer nbt_wrong",
        HTTP_X_FORWARDED_FOR="192.0.2.1",
    )
    assert response.status_code == 401
    assert len([r for r in caplog.records if r.name == "navbat.security"]) == 1


@override_settings(NAVBAT_MODE="production", NAVBAT_TRUSTED_PROXIES=0)
def test_an_asgi_request_with_a_forwarded_header_warns(caplog, fresh_warning):
    """What ``request_started`` passes under ASGI (a scope, not an environ)."""
    from django.core.handlers.asgi import ASGIHandler
    from django.core.signals import request_started

    caplog.set_level(logging.WARNING, logger="navbat.security")
    plain = {"type": "http", "headers": [(b"host", b"salon.example.uz")]}
    request_started.send(sender=ASGIHandler, scope=plain)
    assert [r for r in caplog.records if r.name == "navbat.security"] == []
    forwarded = {"type": "http", "headers": [(b"x-forwarded-for", b"192.0.2.1")]}
    request_started.send(sender=ASGIHandler, scope=forwarded)
    request_started.send(sender=ASGIHandler, scope=forwarded)
    assert len([r for r in caplog.records if r.name == "navbat.security"]) == 1


@pytest.mark.parametrize(
    ("mode", "proxies", "forwarded"),
    [("embedded", 0, "192.0.2.1"), ("production", 1, "192.0.2.1"), ("production", 0, None)],
)
def test_no_warning_otherwise(owner, caplog, fresh_warning, mode, proxies, forwarded):
    caplog.set_level(logging.WARNING, logger="navbat.security")
    extra = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    with override_settings(NAVBAT_MODE=mode, NAVBAT_TRUSTED_PROXIES=proxies):
        attempt(Client(), owner.email, "wrong", address=OWNER, **extra)
    assert [r for r in caplog.records if r.name == "navbat.security"] == []
