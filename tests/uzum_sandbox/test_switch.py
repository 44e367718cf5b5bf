"""The sandbox is on in the embedded mode and absent in production unless switched on."""

import importlib
import subprocess  # noqa: S404 - runs our own settings module, fixed arguments
import sys

import pytest
from django.urls import clear_url_caches

import navbat.urls
from navbat.kit.sandbox_tokens import token_for

pytestmark = pytest.mark.django_db

SANDBOX_URLS = [
    "/sandbox/uzum/",
    "/sandbox/uzum/control/terminals",
    "/sandbox/uzum/checkout/api/v1/payment/getOrderStatus",
    "/sandbox/uzum/open-service?serviceId=1&order=1",
]


@pytest.fixture
def reload_urls():
    def _reload():
        clear_url_caches()
        importlib.reload(navbat.urls)

    yield _reload
    _reload()


def test_switched_off_none_of_its_urls_answer(settings, client, reload_urls):
    settings.NAVBAT_SANDBOX = False
    reload_urls()
    for url in SANDBOX_URLS:
        assert client.get(url).status_code == 404, url
        assert client.post(url, "{}", content_type="application/json").status_code == 404, url


def test_switched_on_the_control_api_answers(settings, client, reload_urls):
    settings.NAVBAT_SANDBOX = True
    reload_urls()
    response = client.post(
        "/sandbox/uzum/control/terminals",
        {"merchantName": "Switch test"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for('switch-test')}"},
    )
    assert response.status_code in (200, 201)
    assert response.json()["terminalId"]


def test_default_follows_the_mode(tmp_path):

    code = "import navbat.settings as s; print(s.NAVBAT_SANDBOX)"
    env = {
        "NAVBAT_MODE": "production",
        "NAVBAT_SECRET_KEY": "x" * 50,
        "NAVBAT_ENCRYPTION_KEYS": "q" * 43 + "=",
        "NAVBAT_PUBLIC_URL": "https://salon.example.uz",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "False", out.stderr
    env["NAVBAT_SANDBOX"] = "1"
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "True", out.stderr
    embedded = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "NAVBAT_VAR_DIR": str(tmp_path)},
    )
    assert embedded.stdout.strip() == "True", embedded.stderr
