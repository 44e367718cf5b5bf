"""The sandbox bank's pages in a real browser: the hosted payment page (3-D Secure, a
decline) and the Uzum Bank app paying a test merchant with installments."""

import httpx
import pytest

from navbat.uzum_sandbox.models import MerchantService, Terminal
from tests.uzum_sandbox.conftest import allow_origin
from tests.uzum_sandbox.merchant import TestMerchant

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

HUMO_3DS = "9860 0901 0121 9724"
DECLINE_3008 = "8600 0000 0000 3008"


class Checkout:
    """The sandbox's Checkout API over real HTTP, as a merchant calls it."""

    def __init__(self, live_server, terminal: Terminal):
        self.base = f"{live_server.url}/sandbox/uzum/checkout/api/v1/"
        self.headers = {"X-Terminal-Id": str(terminal.terminal_id), "X-API-Key": terminal.api_key}

    def call(self, endpoint: str, body: dict, **headers) -> dict:
        response = httpx.post(
            self.base + endpoint, json=body, headers={**self.headers, **headers}, timeout=20
        )
        assert response.status_code == 200, response.text
        answer = response.json()
        assert answer["errorCode"] == 0, answer
        return answer["result"]

    def register(self, live_server, number: str, language: str) -> dict:
        body = {
            "amount": 15_000_000,
            "clientId": "client-1",
            "currency": 860,
            "orderNumber": number,
            "paymentDetails": "Haircut",
            "viewType": "REDIRECT",
            "successUrl": f"{live_server.url}/healthz?paid=yes",
            "failureUrl": f"{live_server.url}/healthz?paid=no",
            "paymentParams": {"payType": "ONE_STEP", "operationType": "PAYMENT"},
            "sessionTimeoutSecs": 900,
        }
        result = self.call("payment/register", body, **{"Content-Language": language})
        return {**result, **body}

    def status(self, order_id: str) -> dict:
        return self.call("payment/getOrderStatus", {"orderId": order_id})


@pytest.fixture
def merchant_server(settings):
    merchant = TestMerchant().start()
    allow_origin(settings, merchant.url)
    yield merchant
    merchant.stop()


@pytest.fixture
def checkout(live_server):
    terminal = Terminal.objects.create(merchant_name="Salon Guli", pay_types=["ONE_STEP"])
    return Checkout(live_server, terminal)


def test_a_humo_card_pays_through_3ds_and_lands_on_success_url(page, live_server, checkout):
    order = checkout.register(live_server, "NB-BROWSER-1", "en-EN")

    page.goto(order["paymentRedirectUrl"])
    assert page.inner_text("#merchant-name") == "Salon Guli"
    assert page.inner_text("#amount") == "150 000 so'm"
    assert page.locator(".testcards").get_by_text("9860 0901 0121 9724").count() == 1
    page.fill("#card_number", HUMO_3DS)
    page.fill("#expiry", "10/26")
    page.fill("#cvv", "123")
    page.click("#pay-button")

    page.wait_for_url("**/3ds/")
    assert "986009******9724" in page.inner_text("#code-form")
    page.fill("#code", "777777")
    page.click("#confirm-button")

    page.wait_for_selector("#result[data-result=success]")
    page.wait_for_url(order["successUrl"])  # the page sends the client back by itself
    status = checkout.status(order["orderId"])
    assert status["status"] == "COMPLETED"
    assert status["ips"] == "HUMO"
    assert status["completedAmount"] == 15_000_000


def test_a_declined_card_lands_on_failure_url(page, live_server, checkout):
    order = checkout.register(live_server, "NB-BROWSER-2", "uz-UZ")

    page.goto(order["paymentRedirectUrl"])
    assert page.inner_text("#amount") == "150 000 so'm"
    page.fill("#card_number", DECLINE_3008)
    page.click("#pay-button")

    page.wait_for_selector("#result[data-result=failure]")
    assert "mablag' yetarli emas" in page.inner_text("#reason")
    assert page.locator("#try-again").is_visible()
    page.click("#back-button")
    page.wait_for_url(order["failureUrl"])
    status = checkout.status(order["orderId"])
    assert status["status"] == "REGISTERED"
    assert status["actionCode"] == 3008


def test_the_app_pays_a_merchant_with_installments(page, live_server, merchant_server):
    merchant_server.orders = {"ORD-7": 45_000_000}
    service = MerchantService.objects.create(
        owner="tests-owner",
        service_id=700_001,
        login=merchant_server.login,
        password=merchant_server.password,
        merchant_name="Salon Guli",
        merchant_base_url=merchant_server.base_url,
        attribute_name="order",
    )

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(
        f"{live_server.url}/sandbox/uzum/open-service?serviceId={service.service_id}&order=ORD-7"
    )
    assert "450 000 so'm" in page.inner_text("#merchant-check")
    assert page.inner_text("[data-field=client]") == "Test Client"
    assert not page.locator("#plans").is_visible()
    page.click("label[for=source-INSTALLMENT]")
    page.wait_for_selector("#plans", state="visible")
    page.click("label[for=tariff-012]")
    page.click("#pay-button")

    page.wait_for_selector("#outcome[data-status=CONFIRMED]")
    assert "12 months" in page.inner_text("#outcome")
    assert merchant_server.endpoints() == ["check", "create", "confirm"]
    confirm = merchant_server.last("confirm")
    assert confirm["paymentSource"] == "INSTALLMENT"
    assert confirm["tariff"] == "012"
    assert merchant_server.last("create")["amount"] == 45_000_000
