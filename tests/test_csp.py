"""A Content-Security-Policy on every page, with no inline script anywhere: scripts come from
navbat's own static files only, nothing is evaluated, no other site frames a page, forms go
only to navbat (and, from the Quick Payment page, on to the bank's page)."""

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.test import RequestFactory

import navbat
from navbat.payments import services as payments
from navbat.payments.models import PaymentOrder

ROOT = "http://127.0.0.1:8000"
TEMPLATES = sorted(Path(navbat.__file__).parent.glob("**/templates/**/*.html"))
STATIC = Path(navbat.__file__).parent

BASE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
    "form-action": ["'self'", ROOT],
}


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        assert name not in directives, header
        directives[name] = values
    return directives


def without_nonce(directives: dict) -> dict:
    return {
        name: [value for value in values if not value.startswith("'nonce-")]
        for name, values in directives.items()
    }


@pytest.fixture
def root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT
    return settings


# --- the templates ---------------------------------------------------------------------------

INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.I),
    "event handler attribute": re.compile(r"<[^>]*\son[a-z]+\s*=", re.I),
    "hx-on (needs eval)": re.compile(r"\bhx-on", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "style attribute": re.compile(r"<[^>]*\sstyle\s*=", re.I),
    "<style> without the request's nonce": re.compile(r"<style(?![^>]*\bnonce=)[^>]*>", re.I),
    "js: or eval in htmx values": re.compile(r"hx-vals=['\"]\s*(js|javascript):", re.I),
}


def test_the_templates_are_found():
    names = {path.name for path in TEMPLATES}
    assert {"base.html", "journal.html", "pay_form.html", "app_pay.html", "page.html"} <= names
    assert len(TEMPLATES) >= 50


@pytest.mark.parametrize("kind", INLINE)
def test_no_template_has_inline_code(kind):
    found = [
        f"{path.relative_to(STATIC)}:{text[: match.start()].count(chr(10)) + 1}"
        for path in TEMPLATES
        for text in [path.read_text()]
        for match in INLINE[kind].finditer(text)
    ]
    assert found == []


def test_every_script_a_template_loads_is_a_static_file():
    sources = {
        match
        for path in TEMPLATES
        for match in re.findall(
            r"""<script[^>]*\bsrc="\{% static '([^']+)' %\}\"""", path.read_text()
        )
    }
    assert {
        "navbat/htmx.min.js",
        "navbat/app.js",
        "booking/appointment.js",
        "uzum/connect.js",
        "uzum_sandbox/hosted.js",
        "uzum_sandbox/app.js",
    } <= sources
    for source in sources:
        assert finders.find(source), source


def test_htmx_is_told_to_inject_no_style_and_evaluate_nothing():
    config = (
        """<meta name="htmx-config" content='{"includeIndicatorStyles": false, """
        """"allowEval": false, "allowScriptTags": false}'>"""
    )
    for name in ("templates/base.html", "payments/templates/payments/quick/base.html"):
        assert config in (STATIC / name).read_text(), name
    # The indicator styles htmx would have injected live in the stylesheets.
    for sheet in ("static/navbat/app.css", "payments/static/payments/quick.css"):
        css = (STATIC / sheet).read_text()
        assert ".htmx-indicator" in css and ".htmx-request .htmx-indicator" in css, sheet


# --- the policy on the pages -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_login_page_carries_the_policy(client, root):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert policy(response) == BASE_POLICY


@pytest.mark.django_db
def test_administration_pages_carry_the_policy(client, root, salon_a, login):
    login(salon_a.owner)
    appointment = salon_a.appointments[0]
    for path in (
        f"/appointments/{appointment.pk}/",
        "/catalog/clients/",
        "/catalog/specialists/",
        "/finance/transactions/",
        "/integrations/uzum/",
        "/integrations/uzum/connect",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert policy(response) == BASE_POLICY, path
        assert " style=" not in response.content.decode(), path


@pytest.mark.django_db
def test_the_journal_places_its_blocks_with_a_nonced_stylesheet(client, root, salon_a, login):
    login(salon_a.owner)
    appointment = salon_a.appointments[0]
    day = appointment.starts_at.astimezone().date().isoformat()
    response = client.get(f"/journal/?date={day}&location={salon_a.location.pk}")
    assert response.status_code == 200
    directives = policy(response)
    assert without_nonce(directives) == BASE_POLICY
    nonces = [value for value in directives["style-src"] if value.startswith("'nonce-")]
    assert len(nonces) == 1
    nonce = nonces[0][len("'nonce-") : -1]
    page = response.content.decode()
    assert " style=" not in page
    sheets = re.findall(r'<style nonce="([^"]+)">(.*?)</style>', page, re.S)
    assert [found for found, _css in sheets] == [nonce]
    css = sheets[0][1]
    assert f'.appt[data-appointment="{appointment.pk}"] {{ top: ' in css
    # A script may never use the style nonce.
    assert all("nonce" not in value for value in directives["script-src"])


@pytest.mark.django_db
def test_the_nonce_differs_on_every_request(client, root, salon_a, login):
    login(salon_a.owner)
    seen = {policy(client.get("/journal/"))["style-src"][-1] for _ in range(3)}
    assert len(seen) == 3


@pytest.mark.django_db
def test_the_quick_payment_page_may_send_its_form_on_to_the_bank(
    client, root, salon_a, connect_uzum
):
    connect_uzum(salon_a)
    link = payments.link_for(
        business=salon_a.business,
        kind="appointment",
        payable_id=salon_a.appointments[0].pk,
        author=salon_a.owner,
    )
    page = client.get(f"/pay/{link.token}")
    assert page.status_code == 200
    # "Pay by card" posts here and is redirected to the bank's page, whose host the bank
    # chooses: browsers hold a redirected form to form-action, so https: is allowed here.
    assert policy(page) == {**BASE_POLICY, "form-action": ["'self'", ROOT, "https:"]}
    started = client.post(f"/pay/{link.token}/card")
    assert started.status_code == 302
    order = PaymentOrder.objects.get(link=link)
    assert started["Location"] == order.redirect_url
    # The sandbox's hosted page (standing in for the bank's) runs under the policy too.
    hosted = client.get(urlsplit(order.redirect_url).path)
    assert hosted.status_code == 200
    assert policy(hosted) == BASE_POLICY
    assert '<script src="/static/uzum_sandbox/hosted.js" defer></script>' in hosted.content.decode()


@pytest.mark.django_db
def test_a_missing_link_and_an_error_page_carry_the_policy(client, root):
    response = client.get("/pay/" + "x" * 40)
    assert response.status_code == 404
    assert policy(response) == {**BASE_POLICY, "form-action": ["'self'", ROOT, "https:"]}
    assert policy(client.get("/no-such-page/")) == BASE_POLICY


@pytest.mark.django_db
def test_the_django_admin_carries_the_policy(client, root):
    response = client.get("/admin/login/")
    assert response.status_code == 200
    assert policy(response) == BASE_POLICY


@pytest.mark.django_db
def test_the_api_docs_load_their_assets_from_navbat(client, root):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert policy(response) == BASE_POLICY
    page = response.content.decode()
    assert "cdn." not in page
    assert '<script src="/static/ninja/swagger-ui-bundle.js">' in page


# --- caching ---------------------------------------------------------------------------------


def test_static_files_keep_their_long_cache():
    from navbat.kit.headers import NoStoreMiddleware

    middleware = NoStoreMiddleware(
        lambda request: HttpResponse(headers={"Cache-Control": "max-age=315360000, public"})
    )
    response = middleware(RequestFactory().get("/static/navbat/app.0123abcd.css"))
    assert response["Cache-Control"] == "max-age=315360000, public"


def test_pages_are_never_stored_even_when_a_view_said_otherwise():
    from navbat.kit.headers import NoStoreMiddleware

    middleware = NoStoreMiddleware(
        lambda request: HttpResponse(headers={"Cache-Control": "max-age=600, public"})
    )
    for path in ("/pay/abc", "/journal/", "/admin/", "/api/v1/appointments"):
        response = middleware(RequestFactory().get(path))
        directives = {part.strip() for part in response["Cache-Control"].split(",")}
        assert {"no-store", "private"} <= directives, path
        assert "public" not in directives and "max-age=600" not in directives, path
