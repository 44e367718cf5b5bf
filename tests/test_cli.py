"""The `navbat` command: the demo salon, settings at start-up, and `navbat run`."""

import io
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from contextlib import redirect_stdout
from datetime import timedelta
from pathlib import Path
from unittest import mock

import httpx
import pytest
from cryptography.fernet import Fernet
from django.contrib.auth import authenticate
from django.db import transaction

from navbat import demo
from navbat.accounts.models import ApiToken, Membership, Role
from navbat.accounts.services import business_for_token
from navbat.booking.models import Appointment, Status
from navbat.cli import main
from navbat.kit.phones import normalise_phone
from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import local_today, to_local
from navbat.salons.models import (
    Business,
    CheckoutPoint,
    Client,
    Location,
    Product,
    Service,
    ServiceCategory,
    Specialist,
)

PYTHON = sys.executable
NAVBAT = Path(sys.executable).with_name("navbat")
TZ = "Asia/Tashkent"


def run_demo(capsys) -> dict:
    assert main(["demo", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="class")
def demo_loaded(django_db_setup, django_db_blocker):
    """`navbat demo --json` on an empty database, once for the class of tests that only read
    what it made and printed: its output, its rows kept in a transaction the class's tests run
    inside (each test's own changes roll back to a savepoint), rolled back after the class."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            printed = io.StringIO()
            with redirect_stdout(printed):
                assert main(["demo", "--json"]) == 0
            yield json.loads(printed.getvalue())
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.mark.django_db
@pytest.mark.seedless
class TestTheDemoAsLoaded:
    """What one `navbat demo --json` on an empty database printed and made."""

    def test_demo_json_prints_the_logins(self, demo_loaded):
        info = demo_loaded
        business = Business.objects.get(name="Navbat Demo")
        assert info["created"] is True
        assert info["business"] == {"id": business.pk, "name": "Navbat Demo"}
        assert info["login"] == {"email": "demo@navbat.uz", "password": "navbat-demo"}
        assert re.fullmatch(r"nbt_demo_[0-9a-f]{40}", info["api_token"])
        assert info["public_url"].startswith("http")
        assert set(info) == {
            "created",
            "business",
            "login",
            "api_token",
            "public_url",
            "uzum",
            "sandbox_token",
        }

    def test_demo_twice_keeps_one_business_and_the_same_token(self, capsys, demo_loaded):
        first = demo_loaded
        counts = {
            model: model.objects.count()
            for model in (Appointment, Client, Service, Product, Specialist, ApiToken, Membership)
        }
        second = run_demo(capsys)
        assert second["created"] is False
        assert second["api_token"] == first["api_token"]
        assert second["business"] == first["business"]
        assert Business.objects.filter(name="Navbat Demo").count() == 1
        assert Business.objects.count() == 1
        assert {model: model.objects.count() for model in counts} == counts
        assert ApiToken.objects.filter(business__slug="navbat-demo").count() == 1

    def test_demo_content_matches_the_issue(self, demo_loaded):
        info = demo_loaded
        business = Business.objects.get(pk=info["business"]["id"])

        assert scoped(Location, business).count() == 1
        assert scoped(CheckoutPoint, business).count() == 2
        assert scoped(Specialist, business).count() == 4

        services = list(scoped(Service, business))
        assert len(services) == 12
        categories = scoped(ServiceCategory, business)
        assert categories.count() == 3
        assert sorted(Counter(s.category_id for s in services).values()) == [3, 4, 5]
        assert {s.category_id for s in services} == set(categories.values_list("pk", flat=True))
        for service in services:
            assert re.fullmatch(r"\d{17}", service.ikpu_code), service.name
            assert service.price > 0
            service.full_clean()  # every demo row passes the model's own validation
        assert len({s.ikpu_code for s in services}) == 12

        products = list(scoped(Product, business))
        assert len(products) == 6
        for product in products:
            assert re.fullmatch(r"\d{17}", product.ikpu_code), product.name
            product.full_clean()

        phones = list(scoped(Client, business).values_list("phone", flat=True))
        # 30 clients of the desk, and 2 new ones who booked themselves online.
        assert len(phones) == 32
        assert len(set(phones)) == 32
        for phone in phones:
            assert phone.startswith("+998")
            assert normalise_phone(phone) == phone  # valid, and already in E.164

        for specialist in scoped(Specialist, business):
            assert specialist.services.exists()
            assert specialist.hours.exists()

    def test_demo_books_online_with_prepayments(self, demo_loaded):
        """Issue 14: the widget on for the location, required prepayment (30 %) on some
        services, optional on others, none on the rest; one online booking prepaid on the
        sandbox bank, one awaiting its prepayment with the time held."""
        from django.utils import timezone

        from navbat.booking.models import BookingSettings, Source
        from navbat.payments import payables
        from navbat.payments.models import Channel, PaymentOrder

        business = Business.objects.get(pk=demo_loaded["business"]["id"])
        widget = scoped(BookingSettings, business).get()
        assert widget.location == scoped(Location, business).get()
        assert (widget.enabled, widget.min_notice_minutes, widget.hold_minutes) == (True, 60, 15)
        rules = {
            service.name: (service.prepayment, service.prepayment_amount, service.prepayment_value)
            for service in scoped(Service, business)
        }
        assert Counter(mode for mode, _kind, _value in rules.values()) == {
            "required": 4,
            "optional": 4,
            "none": 4,
        }
        for mode, kind, value in rules.values():
            if mode != "none":
                assert (kind, value) == ("percent", 30)
        assert rules["Soch bo'yash / Hair colouring"][0] == "required"

        booked = {a.status: a for a in scoped(Appointment, business).filter(source=Source.ONLINE)}
        assert set(booked) == {"confirmed", "awaiting_payment"}
        prepaid, waiting = booked["confirmed"], booked["awaiting_payment"]
        # 30 % of the lowest price of a range (350 000 so'm); 30 % of 150 000 so'm.
        assert (prepaid.prepayment, prepaid.prepayment_required, prepaid.hold_until) == (
            10_500_000,
            True,
            None,
        )
        order = scoped(PaymentOrder, business).get()
        assert (order.state, order.amount, order.paid_amount, order.channel) == (
            "paid",
            10_500_000,
            10_500_000,
            Channel.BOOKING,
        )
        assert order.payable_id == prepaid.pk
        view = payables.describe(business=business, kind="appointment", payable_id=prepaid.pk)
        assert view.paid == 10_500_000
        assert view.rest == prepaid.total - 10_500_000
        assert waiting.prepayment == 4_500_000
        assert timezone.now() < waiting.hold_until <= timezone.now() + timedelta(minutes=15)
        for appointment in (prepaid, waiting):
            assert appointment.online.manage_token
            assert appointment.starts_at > timezone.now()

    def test_demo_owner_and_token_work(self, demo_loaded):
        info = demo_loaded
        business = Business.objects.get(pk=info["business"]["id"])
        owner = authenticate(username="demo@navbat.uz", password="navbat-demo")
        assert owner is not None
        assert Membership.objects.get(user=owner).role == Role.OWNER
        assert Membership.objects.get(user=owner).business == business
        assert business_for_token(info["api_token"]) == business


@pytest.mark.django_db
def test_demo_text_output(capsys):
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "Demo salon: Navbat Demo" in out
    assert "log in    demo@navbat.uz / navbat-demo" in out
    assert f"API token {demo.demo_token()}" in out


@pytest.mark.django_db
@pytest.mark.seedless
def test_demo_does_not_touch_other_businesses(capsys, salon_a):
    before = scoped(Appointment, salon_a.business).count()
    info = run_demo(capsys)
    assert info["created"] is True
    assert Business.objects.count() == 2
    assert scoped(Appointment, salon_a.business).count() == before
    assert business_for_token(info["api_token"]).pk == info["business"]["id"]


def weekday_shift_ids():
    return [f"today+{n}" for n in range(7)]


@pytest.mark.django_db
@pytest.mark.parametrize("shift", range(7), ids=weekday_shift_ids())
def test_demo_week_covers_every_day_and_status(shift):
    """Whatever weekday the demo is loaded on: 3 days before, today, 3 after, all statuses."""
    today = local_today(TZ) + timedelta(days=shift)
    with mock.patch.object(demo, "local_today", return_value=today):
        demo.load_demo()
    business = demo.demo_business()
    appointments = list(scoped(Appointment, business))
    days = Counter((to_local(a.starts_at, TZ).date() - today).days for a in appointments)
    assert sorted(days) == [-3, -2, -1, 0, 1, 2, 3]
    assert all(count >= 2 for count in days.values())
    statuses = Counter(a.status for a in appointments)
    assert set(statuses) == set(Status.values)
    assert set(Status.values) == {
        "awaiting_payment",
        "booked",
        "confirmed",
        "arrived",
        "completed",
        "no_show",
        "cancelled",
    }
    by_period = {"past": set(), "today": set(), "future": set()}
    for appointment in appointments:
        offset = (to_local(appointment.starts_at, TZ).date() - today).days
        period = "past" if offset < 0 else "today" if offset == 0 else "future"
        by_period[period].add(appointment.status)
    # Visits before today are settled; today's are under way; later ones are still to come.
    assert by_period["past"] <= {"completed", "no_show", "cancelled"}
    assert by_period["today"] <= {"booked", "confirmed", "arrived"}
    assert by_period["future"] <= {"awaiting_payment", "booked", "confirmed", "cancelled"}
    for appointment in appointments:
        start = to_local(appointment.starts_at, TZ)
        end = to_local(appointment.ends_at, TZ)
        assert 9 <= start.hour < 20
        assert end > start


def test_no_arguments_prints_help_and_returns_2(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: navbat")
    for command in ("run", "serve", "worker", "demo"):
        assert command in out


def clean_env(**extra) -> dict:
    """The environment without any NAVBAT_* setting, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("NAVBAT_")}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def test_navbat_command_without_arguments_exits_2(tmp_path):
    result = subprocess.run(  # noqa: S603 - our own command
        [str(NAVBAT)],
        env=clean_env(NAVBAT_VAR_DIR=str(tmp_path)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout.startswith("usage: navbat")
    assert "navbat demo [--json]" in result.stdout


SHOW_SECRETS = (
    "import navbat.settings as s; print(s.SECRET_KEY); print(','.join(s.NAVBAT_ENCRYPTION_KEYS))"
)


def import_settings(tmp_path, code="import navbat.settings", **env):
    return subprocess.run(  # noqa: S603 - our own interpreter
        [PYTHON, "-c", code],
        env=clean_env(**env),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_a_secret_key_refuses_to_start(tmp_path):
    var = tmp_path / "var"
    result = import_settings(tmp_path, NAVBAT_MODE="production", NAVBAT_VAR_DIR=str(var))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "NAVBAT_SECRET_KEY must be set in production mode" in result.stderr
    assert not (var / "secret_key").exists()


def test_production_without_encryption_keys_refuses_to_start(tmp_path):
    var = tmp_path / "var"
    result = import_settings(
        tmp_path, NAVBAT_MODE="production", NAVBAT_VAR_DIR=str(var), NAVBAT_SECRET_KEY="k" * 50
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "NAVBAT_ENCRYPTION_KEYS must be set in production mode" in result.stderr
    assert not (var / "encryption_keys").exists()


def test_production_with_its_secrets_starts(tmp_path):
    key = Fernet.generate_key().decode()
    result = import_settings(
        tmp_path,
        SHOW_SECRETS,
        NAVBAT_MODE="production",
        NAVBAT_VAR_DIR=str(tmp_path / "var"),
        NAVBAT_SECRET_KEY="s" * 50,
        NAVBAT_ENCRYPTION_KEYS=f" {key} ,",
        NAVBAT_PUBLIC_URL="https://salon.example.uz",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["s" * 50, key]


def test_an_unknown_mode_refuses_to_start(tmp_path):
    result = import_settings(tmp_path, NAVBAT_MODE="staging", NAVBAT_VAR_DIR=str(tmp_path))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "NAVBAT_MODE must be 'embedded' or 'production'" in result.stderr


def test_embedded_mode_keeps_its_generated_secrets(tmp_path):
    var = tmp_path / "var"
    first = import_settings(tmp_path, SHOW_SECRETS, NAVBAT_VAR_DIR=str(var))
    assert first.returncode == 0, first.stderr
    secret, keys = first.stdout.splitlines()
    assert len(secret) >= 50
    assert (var / "secret_key").read_text().strip() == secret
    assert (var / "encryption_keys").read_text().strip() == keys
    assert (var / "secret_key").stat().st_mode & 0o777 == 0o600
    assert (var / "encryption_keys").stat().st_mode & 0o777 == 0o600

    second = import_settings(tmp_path, SHOW_SECRETS, NAVBAT_VAR_DIR=str(var))
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout

    elsewhere = import_settings(tmp_path, SHOW_SECRETS, NAVBAT_VAR_DIR=str(tmp_path / "other"))
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert elsewhere.stdout.splitlines()[0] != secret


_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port free now, for a server started after this returns. Below the kernel's ephemeral
    range (32768+), so no client connection takes it in the meantime, and in a block of its
    own per pytest-xdist worker, so two workers never pick the same one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    block = int(worker[2:]) % 4 if worker[2:].isdigit() else 0
    low = 20000 + block * 3000
    for port in random.sample(range(low, low + 3000), 3000):
        if port in _HANDED_OUT:  # given to a server that may not have bound it yet
            continue
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            _HANDED_OUT.add(port)
            return port
    raise AssertionError(f"no free port in {low}-{low + 2999}")


def navbat_command() -> list[str]:
    return [str(NAVBAT)] if NAVBAT.exists() else [PYTHON, "-m", "navbat.cli"]


def start_navbat_run(tmp_path, *, preexec_fn=None, **settings):
    """`navbat run` on a free port, on its own SQLite database (``tmp_path/db.sqlite3``),
    with any further ``NAVBAT_*`` settings; returns (process, url, log)."""
    port = free_port()
    env = clean_env(
        NAVBAT_VAR_DIR=str(tmp_path / "var"),
        # SQLite even when the suite itself runs against PostgreSQL.
        NAVBAT_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        PYTHONUNBUFFERED="1",
        **settings,
    )
    log_path = tmp_path / "navbat-run.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*navbat_command(), "run", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=preexec_fn,  # only ever sets a signal disposition
        )
    return process, f"http://127.0.0.1:{port}", log_path


def wait_healthy(process, http, log_path, seconds=120):
    # A first start migrates, collects static files and loads the demo: past a minute was seen
    # on a 2-core machine with every core busy.
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, log_path.read_text()
        try:
            return http.get("/healthz")
        except httpx.TransportError:
            time.sleep(0.25)
    raise AssertionError(f"no answer within {seconds} s:\n" + log_path.read_text())


def stop(process):
    if process.poll() is None:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.slow
def test_navbat_run_serves_runs_its_worker_and_stops_on_ctrl_c(tmp_path):
    """One `navbat run` for the pages, the embedded worker's heartbeat in /healthz (under
    supervision) and a clean stop on Ctrl-C: starting it is most of the cost."""
    process, base, log_path = start_navbat_run(tmp_path)
    try:
        with httpx.Client(base_url=base, timeout=5, follow_redirects=False) as http:
            health = wait_healthy(process, http, log_path)
            assert health.status_code == 200
            assert health.json()["status"] == "ok"

            page = http.get("/accounts/login/")
            assert page.status_code == 200
            assert 'name="email"' in page.text
            # The demo loaded on the empty database opens with its printed login.
            login = http.post(
                "/accounts/login/",
                data={
                    "email": "demo@navbat.uz",
                    "password": "navbat-demo",
                    "csrfmiddlewaretoken": http.cookies["csrftoken"],
                },
            )
            assert login.status_code == 302
            assert login.headers["location"] == "/journal/"
            assert http.get("/journal/").status_code == 200

            deadline = time.monotonic() + 30
            while True:
                health = http.get("/healthz").json()
                if health["worker_heartbeat_age"] is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.25)
            assert health["status"] == "ok", log_path.read_text()
            assert health["database"] == "ok"
            assert 0 <= health["worker_heartbeat_age"] <= 10, health
            assert health["problems"] == []

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        stop(process)
    output = log_path.read_text()
    assert "navbat.worker worker embedded-" in output
    assert "Exception in thread" not in output
    port = base.rsplit(":", 1)[1]
    assert (tmp_path / "db.sqlite3").exists()
    assert f"navbat serves http://127.0.0.1:{port}/" in output
    # Printed links follow the port served when NAVBAT_PUBLIC_URL is not set.
    assert f"open      http://127.0.0.1:{port}/" in output
    assert "log in    demo@navbat.uz / navbat-demo" in output
    assert "navbat stopped." in output
    assert "Traceback" not in output


def ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("stop_signal", "preexec_fn"),
    [
        # A shell starts background jobs with SIGINT ignored; Ctrl-C must still stop navbat.
        (signal.SIGINT, ignore_sigint),
        # Service managers and containers stop with SIGTERM: a clean stop too.
        (signal.SIGTERM, None),
    ],
    ids=["sigint-when-inherited-ignored", "sigterm"],
)
def test_navbat_run_stops_cleanly_on_signals(tmp_path, stop_signal, preexec_fn):
    process, base, log_path = start_navbat_run(tmp_path, preexec_fn=preexec_fn)
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            assert wait_healthy(process, http, log_path).status_code == 200
        process.send_signal(stop_signal)
        assert process.wait(timeout=10) == 0, log_path.read_text()
    finally:
        stop(process)
    assert "navbat stopped." in log_path.read_text()
