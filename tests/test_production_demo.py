"""Production mode never loads the demo, never creates a sandbox connection and never prints
a secret; the embedded demo prints no Merchant API password and, with the sandbox off,
connects nothing."""

import json
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from navbat import cli, demo
from navbat.accounts.models import ApiToken, User
from navbat.cli import main
from navbat.salons.models import Business
from navbat.uzum.models import Connection
from navbat.uzum_sandbox.models import MerchantService, Terminal
from tests.test_production import HOST, production_env

PYTHON = sys.executable
NAVBAT = Path(sys.executable).with_name("navbat")
REFUSAL = "navbat demo: the demo salon is for the embedded mode only; production never loads it."


def nothing_created() -> dict:
    return {
        "businesses": Business.objects.count(),
        "users": User.objects.count(),
        "tokens": ApiToken.objects.count(),
        "connections": Connection.objects.count(),
        "terminals": Terminal.objects.count(),
        "services": MerchantService.objects.count(),
    }


# Every test here is about a database holding nothing but what the test made.
pytestmark = pytest.mark.seedless

EMPTY = {"businesses": 0, "users": 0, "tokens": 0, "connections": 0, "terminals": 0, "services": 0}


@pytest.fixture
def production_mode(settings):
    settings.NAVBAT_MODE = "production"
    settings.EMBEDDED = False
    settings.NAVBAT_SANDBOX = False
    return settings


@pytest.mark.django_db
def test_navbat_demo_refuses_in_production(production_mode, capsys):
    assert main(["demo"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == REFUSAL
    assert nothing_created() == EMPTY


@pytest.mark.django_db
def test_navbat_demo_json_refuses_in_production(production_mode, capsys):
    assert main(["demo", "--json"]) == 2
    assert capsys.readouterr().err.strip() == REFUSAL
    assert nothing_created() == EMPTY


@pytest.mark.django_db
def test_load_demo_itself_refuses_in_production(production_mode):
    with pytest.raises(demo.DemoRefused):
        demo.load_demo()
    assert nothing_created() == EMPTY


@pytest.mark.django_db
def test_the_first_run_of_production_loads_nothing(production_mode):
    assert cli._first_run_demo() is None
    assert nothing_created() == EMPTY


@pytest.mark.django_db
def test_the_first_run_of_embedded_mode_loads_the_demo_once(settings):
    settings.NAVBAT_PUBLIC_URL = "http://127.0.0.1:8000"
    text = cli._first_run_demo()
    assert text.startswith("Demo salon: Navbat Demo\n")
    assert Business.objects.count() == 1
    assert cli._first_run_demo() is None  # not an empty database any more
    assert Business.objects.count() == 1


@pytest.mark.django_db
def test_the_embedded_demo_text_prints_no_merchant_api_password(settings, capsys):
    settings.NAVBAT_PUBLIC_URL = "http://127.0.0.1:8000"
    assert main(["demo", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    password = info["uzum"]["merchant_password"]
    assert len(password) >= 20
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert password not in out
    assert info["uzum"]["merchant_login"] in out
    assert "navbat demo --json" in out  # says where scripts find the password


@pytest.mark.django_db
def test_the_embedded_demo_without_the_sandbox_connects_nothing(settings, capsys):
    settings.NAVBAT_SANDBOX = False
    assert main(["demo", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["uzum"] is None
    assert Business.objects.count() == 1
    assert (Connection.objects.count(), Terminal.objects.count()) == (0, 0)
    assert MerchantService.objects.count() == 0
    assert main(["demo"]) == 0
    assert "Uzum Bank" not in capsys.readouterr().out


# --- the whole `navbat` command in a production environment ---------------------------------


def navbat_command() -> list[str]:
    return [str(NAVBAT)] if NAVBAT.exists() else [PYTHON, "-m", "navbat.cli"]


def test_the_navbat_demo_command_refuses_in_production(tmp_path):
    result = subprocess.run(  # noqa: S603 - our own command
        [*navbat_command(), "demo"],
        env=production_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr.strip() == REFUSAL
    assert not (tmp_path / "db.sqlite3").exists()  # refused before touching the database


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_navbat_run_in_production_on_an_empty_database(tmp_path):
    """The issue's finding: no demo owner, no token, no sandbox connection, no secret in the
    log, over a real `navbat run` in production mode on an empty database."""
    port = free_port()
    log_path = tmp_path / "run.log"
    env = production_env(tmp_path, PYTHONUNBUFFERED="1")
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*navbat_command(), "run", "--port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        health = None
        while time.monotonic() < deadline and health is None:
            assert process.poll() is None, log_path.read_text()
            try:
                # /healthz answers over plain http: load balancers probe that way.
                health = httpx.get(
                    f"http://127.0.0.1:{port}/healthz", headers={"Host": HOST}, timeout=5
                )
            except httpx.TransportError:
                time.sleep(0.25)
        assert health is not None, log_path.read_text()
        assert health.status_code == 200, health.text
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    output = log_path.read_text()
    database = sqlite3.connect(tmp_path / "db.sqlite3")
    try:
        counts = {
            table: database.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
            for table in (
                "salons_business",
                "accounts_user",
                "accounts_apitoken",
                "uzum_connection",
                "uzum_sandbox_terminal",
                "uzum_sandbox_merchantservice",
            )
        }
    finally:
        database.close()
    assert counts == dict.fromkeys(counts, 0), output
    for secret_word in ("demo@navbat.uz", "navbat-demo", "nbt_", "password", "Merchant API"):
        assert secret_word not in output, output
    assert env["NAVBAT_SECRET_KEY"] not in output
    assert env["NAVBAT_ENCRYPTION_KEYS"] not in output
