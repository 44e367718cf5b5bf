"""Fixtures for the sandbox bank: terminals, services, and the Checkout and control APIs
driven over the Django test client (HTTP level)."""

import json
import uuid

import pytest

from navbat.kit.sandbox_tokens import token_for
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import MerchantService, Terminal

CHECKOUT = "/sandbox/uzum/checkout/api/v1/"
CONTROL = "/sandbox/uzum/control/"
AMOUNT = 15_000_000  # 150 000 so'm
CARD = "8600000000000018"  # Uzcard, succeeds without 3-D Secure
HUMO_3DS = "9860090101219724"  # the official Humo test card, asks for 3-D Secure
DECLINE_3008 = "8600000000003008"
SPIC = "10305001001000000"
# The owner of the sandbox rows a test makes, and its token for the control API.
OWNER = "tests-owner"


@pytest.fixture(autouse=True)
def public_root(settings):
    """This navbat's address, where sandbox callbacks and Merchant API calls may go."""
    settings.NAVBAT_PUBLIC_URL = "http://127.0.0.1:8000"


@pytest.fixture
def make_terminal(db):
    def make(pay_types=("ONE_STEP", "TWO_STEP"), auto_fiscal=False, **fields) -> Terminal:
        fields.setdefault("owner", OWNER)
        return Terminal.objects.create(pay_types=list(pay_types), auto_fiscal=auto_fiscal, **fields)

    return make


@pytest.fixture
def terminal(make_terminal) -> Terminal:
    return make_terminal()


@pytest.fixture
def fiscal_terminal(make_terminal) -> Terminal:
    return make_terminal(auto_fiscal=True)


@pytest.fixture
def make_service(db):
    def make(**fields) -> MerchantService:
        last = MerchantService.objects.order_by("-service_id").first()
        fields.setdefault("service_id", (last.service_id + 1) if last else 500_001)
        fields.setdefault("login", f"merchant{fields['service_id']}")
        fields.setdefault("password", "s3cret-pass")
        fields.setdefault("merchant_base_url", "http://127.0.0.1:9/uzum")
        fields.setdefault("owner", OWNER)
        return MerchantService.objects.create(**fields)

    return make


def cart_item(total=AMOUNT, product_id="svc-1", **receipt) -> dict:
    params = {"spic": SPIC, "packageCode": "1501", "vatPercent": 12, "TIN": "123456789"}
    params.update(receipt)
    return {
        "title": "Haircut",
        "productId": product_id,
        "quantity": 1,
        "unitPrice": total,
        "total": total,
        "receiptParams": {k: v for k, v in params.items() if v is not None},
    }


def make_cart(total=AMOUNT, items=None, receipt_type="PURCHASE") -> dict:
    return {
        "cartId": f"cart-{uuid.uuid4().hex[:8]}",
        "receiptType": receipt_type,
        "total": total,
        "items": items if items is not None else [cart_item(total)],
    }


def fiscal_cart_for(order) -> dict:
    """A refund cart for an auto-fiscal order: its purchase lines, total = completed amount."""
    return {**order.cart, "total": order.completed_amount}


def register_body(**overrides) -> dict:
    """A valid payment/register body; an override of None removes the field."""
    body = {
        "amount": AMOUNT,
        "clientId": "client-1",
        "currency": 860,
        "orderNumber": f"NB-{uuid.uuid4().hex[:12]}",
        "paymentDetails": "Haircut",
        "viewType": "REDIRECT",
        "successUrl": "http://127.0.0.1:8000/pay/success",
        "failureUrl": "http://127.0.0.1:8000/pay/failure",
        "paymentParams": {"payType": "ONE_STEP", "operationType": "PAYMENT"},
        "sessionTimeoutSecs": 900,
    }
    body.update(overrides)
    return {key: value for key, value in body.items() if value is not None}


class CheckoutApi:
    """The sandbox's Checkout API over the Django test client."""

    def __init__(self, client, terminal: Terminal):
        self.client = client
        self.terminal = terminal

    def headers(self, endpoint: str, operation_id=None, language="ru-RU", **extra) -> dict:
        headers = {
            "X-Terminal-Id": str(self.terminal.terminal_id),
            "X-API-Key": self.terminal.api_key,
        }
        if endpoint == "payment/register" and language is not None:
            headers["Content-Language"] = language
        if endpoint.startswith("acquiring/") and operation_id is not False:
            headers["X-Operation-Id"] = str(uuid.uuid4() if operation_id is None else operation_id)
        headers.update(extra)
        return {key: value for key, value in headers.items() if value is not None}

    def post(self, endpoint: str, body, *, raw: bool = False, **header_options):
        data = body if raw else json.dumps(body)
        return self.client.post(
            CHECKOUT + endpoint,
            data=data,
            content_type="application/json",
            headers=self.headers(endpoint, **header_options),
        )

    def call(self, endpoint: str, body, **options) -> dict:
        response = self.post(endpoint, body, **options)
        assert response.status_code == 200, response.content
        answer = response.json()
        assert set(answer) == {"errorCode", "message", "result"}
        return answer

    def ok(self, endpoint: str, body, **options) -> dict:
        answer = self.call(endpoint, body, **options)
        assert answer["errorCode"] == 0, answer
        assert answer["message"] is None
        return answer["result"]

    def error(self, endpoint: str, body, **options) -> dict:
        answer = self.call(endpoint, body, **options)
        assert answer["errorCode"] != 0, answer
        assert answer["result"] is None
        assert isinstance(answer["message"], str) and answer["message"]
        return answer

    # shortcuts
    def register(self, **overrides) -> str:
        return self.ok("payment/register", register_body(**overrides))["orderId"]

    def register_two_step(self, **overrides) -> str:
        overrides.setdefault("paymentParams", {"payType": "TWO_STEP", "operationType": "PAYMENT"})
        return self.register(**overrides)

    def status(self, order_id: str) -> dict:
        return self.ok("payment/getOrderStatus", {"orderId": order_id})

    def complete(self, order_id: str, amount: int, **options) -> dict:
        return self.call("acquiring/complete", {"orderId": order_id, "amount": amount}, **options)

    def reverse(self, order_id: str, amount: int, **options) -> dict:
        return self.call("acquiring/reverse", {"orderId": order_id, "amount": amount}, **options)

    def refund(self, order_id: str, amount: int, cart=None, **options) -> dict:
        body = {"orderId": order_id, "amount": amount}
        if cart is not None:
            body["cart"] = cart
        return self.call("acquiring/refund", body, **options)


@pytest.fixture
def checkout_api(client, terminal) -> CheckoutApi:
    return CheckoutApi(client, terminal)


@pytest.fixture
def api_for(client):
    def make(terminal: Terminal) -> CheckoutApi:
        return CheckoutApi(client, terminal)

    return make


def pay(order_id, card=CARD, code=""):
    """Pay a registered order as the hosted page would."""
    return bank.pay(order_id=order_id, card_number=card, code=code)


class ControlApi:
    """The control API as a script calls it, with a sandbox token (None: without one)."""

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.token = token

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def request(self, method: str, path: str, body=None, *, raw=None):
        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method, CONTROL + path, data=data, content_type="application/json", headers=self.headers
        )

    def get(self, path: str):
        return self.client.get(CONTROL + path, headers=self.headers)

    def post(self, path: str, body=None, **kw):
        return self.request("POST", path, body, **kw)

    def patch(self, path: str, body=None, **kw):
        return self.request("PATCH", path, body, **kw)

    def delete(self, path: str):
        return self.request("DELETE", path)


@pytest.fixture
def control(client, db) -> ControlApi:
    return ControlApi(client, token=token_for(OWNER))


# ------------------------------------------------------------------ the test merchant
# (callbacks, hosted page and app tests: tests/uzum_sandbox/merchant.py)


@pytest.fixture
def merchant_server(settings):
    """A merchant on a real local HTTP server: receives callbacks, speaks the Merchant API.
    Its origin is allowed as an operator allows an integrator's server under test."""
    from tests.uzum_sandbox.merchant import TestMerchant

    merchant = TestMerchant().start()
    allow_origin(settings, merchant.url)
    yield merchant
    merchant.stop()


def allow_origin(settings, origin: str) -> None:
    """Let the sandbox send callbacks and Merchant API calls to ``origin`` in this test."""
    allowed = list(getattr(settings, "NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS", []))
    settings.NAVBAT_SANDBOX_ALLOWED_CALLBACK_ORIGINS = [*allowed, origin]
