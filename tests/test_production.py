"""Production mode is safe by default: https only (unless a private network is declared),
HSTS, Secure cookies, the proxy's scheme believed only behind trusted proxies, hosts pinned,
and `navbat check --deploy` clean in the documented production settings.

Settings are computed in a fresh interpreter with the production environment (settings are
read once at import); the header tests then apply those exact values to this process."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from csp.constants import NONCE
from django.test import Client

from navbat.payments import services as payments

PYTHON = sys.executable
NAVBAT = Path(sys.executable).with_name("navbat")
PUBLIC = "https://salon.example.uz"
HOST = "salon.example.uz"
SECRET = secrets.token_urlsafe(50)
KEY = Fernet.generate_key().decode()
YEAR = 365 * 24 * 3600

# Every setting that production mode decides and the header tests apply in-process.
DECIDED = [
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE_SECURE",
    "DEBUG",
    "LANGUAGE_COOKIE_SECURE",
    "MIDDLEWARE",
    "NAVBAT_PUBLIC_URL",
    "NAVBAT_TRUSTED_PROXIES",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_REFERRER_POLICY",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
]

DUMP = f"""
import json
import navbat.settings as s
from csp.constants import NONCE

def plain(value):
    if value is NONCE:
        return "__nonce__"
    return str(value)

values = {{name: getattr(s, name) for name in {DECIDED!r} if hasattr(s, name)}}
print(json.dumps(values, default=plain))
"""


def clean_env(**extra) -> dict:
    """The environment without any NAVBAT_* setting, plus ``extra``."""
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (Playwright) and never a deployment's.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("NAVBAT_") and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(extra)
    return env


def production_env(tmp_path, **extra) -> dict:
    """The documented production settings (README, "Production mode")."""
    values = {
        "NAVBAT_MODE": "production",
        "NAVBAT_SECRET_KEY": SECRET,
        "NAVBAT_ENCRYPTION_KEYS": KEY,
        "NAVBAT_PUBLIC_URL": PUBLIC,
        "NAVBAT_VAR_DIR": str(tmp_path / "var"),
        "NAVBAT_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    values.update(extra)
    return clean_env(**{key: value for key, value in values.items() if value is not None})


def python(tmp_path, code: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter
        [PYTHON, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


def decided(tmp_path, **extra) -> dict:
    result = python(tmp_path, DUMP, production_env(tmp_path, **extra))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


# --- what production refuses ----------------------------------------------------------------


def test_production_refuses_an_http_public_url(tmp_path):
    result = python(
        tmp_path,
        "import navbat.settings",
        production_env(tmp_path, NAVBAT_PUBLIC_URL="http://salon.example.uz"),
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert (
        "NAVBAT_PUBLIC_URL must be an https:// address in production mode "
        "(NAVBAT_ALLOW_HTTP=1 allows http on a private network only)"
    ) in result.stderr


def test_production_refuses_to_start_without_a_public_url(tmp_path):
    result = python(
        tmp_path, "import navbat.settings", production_env(tmp_path, NAVBAT_PUBLIC_URL=None)
    )
    assert result.returncode != 0
    assert "NAVBAT_PUBLIC_URL must be set in production mode" in result.stderr


def test_production_refuses_a_public_url_without_a_host(tmp_path):
    result = python(
        tmp_path, "import navbat.settings", production_env(tmp_path, NAVBAT_PUBLIC_URL="https://")
    )
    assert result.returncode != 0
    assert "NAVBAT_PUBLIC_URL must be an https:// address" in result.stderr


def test_http_is_accepted_only_when_declared_private(tmp_path):
    values = decided(tmp_path, NAVBAT_PUBLIC_URL="http://10.0.0.5:8000", NAVBAT_ALLOW_HTTP="1")
    # Over plain http a Secure cookie would never come back, and HSTS would lock the site out.
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["LANGUAGE_COOKIE_SECURE"] is False
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["ALLOWED_HOSTS"] == ["10.0.0.5"]


# --- what production decides ----------------------------------------------------------------


def test_production_settings_are_safe_by_default(tmp_path):
    values = decided(tmp_path)
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] == YEAR
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    # Load balancers probe over plain http.
    assert values["SECURE_REDIRECT_EXEMPT"] == [r"^healthz$"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["LANGUAGE_COOKIE_SECURE"] is True
    assert values["SECURE_REFERRER_POLICY"] == "same-origin"
    assert values["X_FRAME_OPTIONS"] == "DENY"
    assert values["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert values["ALLOWED_HOSTS"] == [HOST]
    assert values["CSRF_TRUSTED_ORIGINS"] == [PUBLIC]
    # No proxy declared: a client's X-Forwarded-Proto is not believed.
    assert values["SECURE_PROXY_SSL_HEADER"] is None


def test_the_proxy_scheme_is_believed_only_behind_trusted_proxies(tmp_path):
    values = decided(tmp_path, NAVBAT_TRUSTED_PROXIES="1")
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert decided(tmp_path, NAVBAT_TRUSTED_PROXIES="0")["SECURE_PROXY_SSL_HEADER"] is None


def test_hosts_given_are_kept_and_hsts_options_are_settings(tmp_path):
    values = decided(
        tmp_path,
        NAVBAT_ALLOWED_HOSTS="salon.example.uz, www.salon.example.uz",
        NAVBAT_HSTS_SECONDS="600",
        NAVBAT_HSTS_INCLUDE_SUBDOMAINS="0",
    )
    assert values["ALLOWED_HOSTS"] == ["salon.example.uz", "www.salon.example.uz"]
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False


def test_check_deploy_is_clean_in_the_documented_production_settings(tmp_path):
    command = [str(NAVBAT)] if NAVBAT.exists() else [PYTHON, "-m", "navbat.cli"]
    result = subprocess.run(  # noqa: S603 - our own command
        [*command, "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path, NAVBAT_TRUSTED_PROXIES="1"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "WARNINGS" not in output and "security.W" not in output, output
    # One check stays silenced on purpose: HSTS preload is the domain owner's commitment.
    assert "System check identified no issues (1 silenced)." in output, output


# --- the headers, with production's values applied to this process ----------------------------


@pytest.fixture(scope="module")
def production_values(tmp_path_factory):
    return decided(tmp_path_factory.mktemp("production"), NAVBAT_TRUSTED_PROXIES="1")


def _restore(value):
    if value == "__nonce__":
        return NONCE
    if isinstance(value, list):
        return [_restore(item) for item in value]
    if isinstance(value, dict):
        return {key: _restore(item) for key, item in value.items()}
    return value


@pytest.fixture
def production(settings, production_values):
    for name, value in production_values.items():
        value = _restore(value)
        if name == "SECURE_PROXY_SSL_HEADER" and value:
            value = tuple(value)
        setattr(settings, name, value)
    return settings


def https_client(**extra) -> Client:
    # The TLS-terminating proxy says https; navbat believes it (one trusted proxy).
    defaults = {
        "HTTP_HOST": HOST,
        "HTTP_X_FORWARDED_PROTO": "https",
        "HTTP_X_FORWARDED_FOR": "203.0.113.7",
    }
    return Client(**{**defaults, **extra})


def assert_hardened(response):
    assert response["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy + ";"
    assert "frame-ancestors 'none'" in policy


def assert_no_store(response):
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


@pytest.mark.django_db
def test_the_login_page_over_https_carries_every_header_and_secure_cookies(production):
    client = https_client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert_hardened(page)
    assert_no_store(page)
    assert page.cookies["csrftoken"]["secure"] is True
    assert page.cookies["csrftoken"]["samesite"] == "Lax"


@pytest.mark.django_db
def test_logging_in_and_choosing_a_language_set_secure_cookies(production, salon_a):
    from tests.conftest import PASSWORD

    client = https_client()
    logged_in = client.post(
        "/accounts/login/",
        {"email": salon_a.owner.email, "password": PASSWORD},
        HTTP_REFERER=f"{PUBLIC}/accounts/login/",
    )
    assert logged_in.status_code == 302, logged_in.content[:500]
    session = logged_in.cookies["sessionid"]
    assert (session["secure"], session["httponly"], session["samesite"]) == (True, True, "Lax")

    chosen = client.post(
        "/accounts/language/",
        {"language": "ru", "next": "/journal/"},
        HTTP_REFERER=f"{PUBLIC}/journal/",
    )
    assert chosen.status_code == 302
    assert chosen.cookies["django_language"]["secure"] is True


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_except_the_health_probe(production):
    plain = Client(HTTP_HOST=HOST)
    response = plain.get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == f"https://{HOST}/accounts/login/"
    health = plain.get("/healthz")
    assert health.status_code == 200
    assert (health.json()["status"], health.json()["database"]) == ("ok", "ok")


@pytest.mark.django_db
def test_a_client_claiming_https_without_the_proxy_is_still_redirected(production, settings):
    settings.SECURE_PROXY_SSL_HEADER = None  # production with no trusted proxy declared
    response = https_client().get("/accounts/login/")
    assert response.status_code == 301


@pytest.mark.django_db
def test_an_unknown_host_is_refused(production):
    response = https_client(HTTP_HOST="evil.example").get("/accounts/login/")
    assert response.status_code == 400


@pytest.mark.django_db
def test_administration_pages_are_never_stored(production, salon_a):
    client = https_client()
    client.force_login(salon_a.owner)
    appointment = salon_a.appointments[0]
    for path in (
        "/journal/",
        f"/appointments/{appointment.pk}/",
        "/catalog/clients/",
        "/finance/transactions/",
        "/payments/",
        "/integrations/uzum/",
    ):
        response = client.get(path, follow=False)
        assert response.status_code in (200, 302), (path, response.status_code)
        assert_hardened(response)
        assert_no_store(response)


@pytest.mark.django_db
def test_the_django_admin_is_never_stored(production, salon_a):
    salon_a.owner.is_staff = True
    salon_a.owner.is_superuser = True
    salon_a.owner.save()
    client = https_client()
    client.force_login(salon_a.owner)
    for path in ("/admin/login/", "/admin/", "/admin/salons/business/"):
        response = client.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)
        assert_hardened(response)
        assert_no_store(response)


@pytest.mark.django_db
def test_the_quick_payment_page_is_never_stored_nor_its_address_sent_away(production, salon_a):
    link = payments.link_for(
        business=salon_a.business,
        kind="appointment",
        payable_id=salon_a.appointments[0].pk,
        author=salon_a.owner,
    )
    for path in (f"/pay/{link.token}", f"/pay/{'x' * len(link.token)}"):
        response = https_client().get(path)
        assert response.status_code in (200, 404), (path, response.status_code)
        assert_hardened(response)
        assert_no_store(response)
        # The /pay/ token never leaves the site in a Referer.
        assert response["Referrer-Policy"] == "same-origin"
