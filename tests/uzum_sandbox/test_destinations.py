"""The sandbox sends callbacks and Merchant API calls only to this navbat or to origins the
operator allows: refused when set, and checked again right before each request."""

import html

import pytest

from navbat.uzum_sandbox import app, bank, callbacks, destinations
from navbat.uzum_sandbox.models import AppTransaction, Callback, MerchantService, Terminal
from tests.uzum_sandbox.conftest import CARD
from tests.uzum_sandbox.merchant import register_order

INSIDE = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://127.0.0.1:5432/"]
TRICKS = [
    "http://127.0.0.1:8000@169.254.169.254/",
    "http://127.0.0.1:8000\\@10.0.0.1/",
    "https://127.0.0.1:8000/uzum/",  # another scheme is another origin
    "http://127.0.0.1:8001/uzum/",
    "http://127.0.0.1.nip.io:8000/",
]


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = "http://127.0.0.1:8000"
    settings.NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = []
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0


@pytest.mark.parametrize("url", INSIDE + TRICKS)
def test_a_callback_url_outside_navbat_is_400_and_nothing_changes(control, terminal, url):
    before = Terminal.objects.count()
    made = control.post("terminals", {"paymentCallbackUrl": url})
    assert made.status_code == 400
    assert made.json() == {
        "error": "paymentCallbackUrl must point at this navbat (http://127.0.0.1:8000) or at an "
        "origin allowed in NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS"
    }
    assert Terminal.objects.count() == before
    for name in ("paymentCallbackUrl", "eventCallbackUrl", "receiptCallbackUrl"):
        patched = control.patch(f"terminals/{terminal.terminal_id}", {name: url})
        assert patched.status_code == 400, name
    terminal.refresh_from_db()
    assert (
        terminal.payment_callback_url,
        terminal.event_callback_url,
        terminal.receipt_callback_url,
    ) == ("", "", "")


@pytest.mark.parametrize("url", INSIDE + TRICKS)
def test_a_merchant_api_url_outside_navbat_is_400(control, make_service, url):
    service = make_service(merchant_base_url="http://127.0.0.1:8000/uzum/merchant/x")
    assert control.post("services", {"merchantBaseUrl": url}).status_code == 400
    assert (
        control.patch(f"services/{service.service_id}", {"merchantBaseUrl": url}).status_code == 400
    )
    assert MerchantService.objects.count() == 1
    service.refresh_from_db()
    assert service.merchant_base_url == "http://127.0.0.1:8000/uzum/merchant/x"


def test_this_navbat_and_the_allowed_origins_are_accepted(control, settings):
    settings.NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = [
        "http://merchant.test:9000",
        "https://i.test/hooks",
    ]
    accepted = [
        "http://127.0.0.1:8000/uzum/checkout/x/callback",
        "HTTP://127.0.0.1:8000/uzum/checkout/x/event",
        "http://merchant.test:9000/anything",
        "https://i.test/hooks/payment",
        "https://i.test:443/hooks",
    ]
    for url in accepted:
        assert control.post("terminals", {"paymentCallbackUrl": url}).status_code == 201, url
    for url in ["https://i.test/hooksmith", "https://i.test/other", "http://merchant.test/"]:
        assert control.post("terminals", {"paymentCallbackUrl": url}).status_code == 400, url


def test_a_root_with_a_path_allows_only_under_it(settings):
    settings.NAVBAT_PUBLIC_URL = "https://salon.example/navbat"
    assert destinations.is_allowed("https://salon.example/navbat/uzum/x")
    assert not destinations.is_allowed("https://salon.example/navbat-evil/uzum/x")
    assert not destinations.is_allowed("https://salon.example/other")


def test_a_callback_to_an_inside_address_is_never_posted(make_terminal, monkeypatch):
    """As after a setting changed: the stored URL is no longer allowed when the callback is
    due. The worker records the refusal and never sends it, nor retries."""
    posted = []
    monkeypatch.setattr(callbacks, "post", lambda url, body: posted.append(url) or (200, ""))
    terminal = make_terminal(payment_callback_url="http://127.0.0.1:8000/uzum/checkout/x/callback")
    Terminal.objects.filter(pk=terminal.pk).update(
        payment_callback_url="http://169.254.169.254/latest/meta-data/"
    )
    terminal.refresh_from_db()
    order = register_order(terminal)
    bank.pay(order_id=order.order_id, card_number=CARD)
    other = make_terminal(payment_callback_url="http://10.0.0.1/")
    bank.pay(order_id=register_order(other).order_id, card_number=CARD)
    assert callbacks.deliver_due() == 2
    assert posted == []
    for callback in Callback.objects.all():
        assert (callback.delivered, callback.refused, callback.attempts) == (False, True, 1)
        [attempt] = callback.attempt_log.all()
        assert attempt.status_code is None
        assert attempt.error.startswith(f"not sent: {callback.url}")
        assert callbacks.state(callback) == "refused"
    assert callbacks.deliver_due() == 0


def test_an_allowed_callback_still_goes_out(make_terminal, monkeypatch):
    posted = []
    monkeypatch.setattr(callbacks, "post", lambda url, body: posted.append(url) or (200, ""))
    url = "http://127.0.0.1:8000/uzum/checkout/x/callback"
    terminal = make_terminal(payment_callback_url=url)
    bank.pay(order_id=register_order(terminal).order_id, card_number=CARD)
    assert callbacks.deliver_due() == 1
    assert posted == [url]


def test_the_app_never_calls_a_merchant_url_outside_navbat(client, make_service, monkeypatch):
    sent = []

    def fake_post(url, **kwargs):  # pragma: no cover - must never run
        sent.append(url)
        raise AssertionError("sent")

    monkeypatch.setattr(app.httpx, "post", fake_post)
    service = make_service(merchant_base_url="http://10.0.0.1/uzum")
    response = client.get(
        "/sandbox/uzum/open-service", {"serviceId": service.service_id, "order": "ABC"}
    )
    assert sent == []
    tx = AppTransaction.objects.get()
    assert tx.status == "FAILED"
    assert tx.exchange[0]["status"] is None
    assert tx.exchange[0]["error"].startswith("not sent: http://10.0.0.1/uzum/check")
    outcome = client.get(response.url)
    assert "not sent" in html.unescape(outcome.content.decode())


ESCAPES = [
    "http://merchant.test:9000/merchant/%2e%2e/admin",
    "http://merchant.test:9000/merchant/%2E%2E/admin",
    "http://merchant.test:9000/merchant/.%2e/admin",
    "http://merchant.test:9000/merchant/%2e./admin",
    "http://merchant.test:9000/merchant/%2e/x",
    "http://merchant.test:9000/merchant/..%2fadmin",
    "http://merchant.test:9000/merchant/..%2Fadmin",
    "http://merchant.test:9000/merchant/..%5cadmin",
    "http://merchant.test:9000/merchant/..%5Cadmin",
    "http://merchant.test:9000/merchant/x/../../admin",
    "http://merchant.test:9000/merchant/./x",
    "http://merchant.test:9000/merchant/..",
]


@pytest.mark.parametrize("url", ESCAPES)
def test_a_path_limited_origin_cannot_be_left_by_dot_segments(control, settings, url):
    """httpx decodes %2e%2e to ".." for the check but sends the raw path, which the merchant's
    server resolves out of the allowed prefix: such paths are refused outright."""
    settings.NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = ["http://merchant.test:9000/merchant"]
    assert destinations.is_allowed("http://merchant.test:9000/merchant/callback")
    assert not destinations.is_allowed(url)
    before = Terminal.objects.count()
    assert control.post("terminals", {"paymentCallbackUrl": url}).status_code == 400
    assert Terminal.objects.count() == before


def test_dots_and_encodings_outside_the_path_are_fine(settings):
    settings.NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = ["http://merchant.test:9000/merchant"]
    assert destinations.is_allowed("http://merchant.test:9000/merchant/v1.2/cb?next=%2e%2e%2f")
    assert destinations.is_allowed("http://merchant.test:9000/merchant/a..b/cb")


def test_an_escaping_callback_already_stored_is_never_posted(make_terminal, monkeypatch, settings):
    settings.NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = ["http://merchant.test:9000/merchant"]
    posted = []
    monkeypatch.setattr(callbacks, "post", lambda url, body: posted.append(url) or (200, ""))
    terminal = make_terminal(payment_callback_url="http://merchant.test:9000/merchant/cb")
    Terminal.objects.filter(pk=terminal.pk).update(
        payment_callback_url="http://merchant.test:9000/merchant/%2e%2e/admin"
    )
    terminal.refresh_from_db()
    bank.pay(order_id=register_order(terminal).order_id, card_number=CARD)
    assert callbacks.deliver_due() == 1
    assert posted == []
    callback = Callback.objects.get()
    assert (callback.delivered, callback.refused, callback.attempts) == (False, True, 1)
