"""The sandbox held to uzum-bank.md §1's tables: every request field rule of
payment/register (2000, with a message naming the field), the headers, and every error
code the salon flows meet."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.uzum_sandbox.models import IdempotentCall, Operation, Order

from .conftest import AMOUNT, cart_item, fiscal_cart_for, make_cart, pay, register_body

ONE_STEP = {"payType": "ONE_STEP", "operationType": "PAYMENT"}
LONG_URL = "https://salon.example/" + "a" * 2062  # 2084 characters


def with_cart_item(**changes) -> dict:
    item = cart_item()
    params = dict(item["receiptParams"])
    receipt_changes = changes.pop("receiptParams", {})
    if receipt_changes is None:
        del item["receiptParams"]
    else:
        for key, value in receipt_changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        item["receiptParams"] = params
    for key, value in changes.items():
        if value is None:
            item.pop(key, None)
        else:
            item[key] = value
    return {"cart": make_cart(items=[item])}


# (case id, overrides of the valid body, the field the message must name)
REGISTER_RULES = [
    ("amount missing", {"amount": None}, "amount"),
    ("amount zero", {"amount": 0}, "amount"),
    ("amount negative", {"amount": -100}, "amount"),
    ("amount too large", {"amount": 1_000_000_000_000}, "amount"),
    ("amount float", {"amount": 15000000.0}, "amount"),
    ("amount string", {"amount": "15000000"}, "amount"),
    ("amount bool", {"amount": True}, "amount"),
    ("clientId missing", {"clientId": None}, "clientId"),
    ("clientId not a string", {"clientId": 42}, "clientId"),
    ("clientId too long", {"clientId": "c" * 101}, "clientId"),
    ("currency missing", {"currency": None}, "currency"),
    ("currency UZS", {"currency": "UZS"}, "currency"),
    ("currency string 860", {"currency": "860"}, "currency"),
    ("currency other", {"currency": 840}, "currency"),
    ("currency float", {"currency": 860.0}, "currency"),
    ("orderNumber missing", {"orderNumber": None}, "orderNumber"),
    ("orderNumber empty", {"orderNumber": ""}, "orderNumber"),
    ("orderNumber 37 chars", {"orderNumber": "n" * 37}, "orderNumber"),
    ("orderNumber not a string", {"orderNumber": 12345}, "orderNumber"),
    ("paymentDetails too long", {"paymentDetails": "d" * 1025}, "paymentDetails"),
    ("paymentDetails not a string", {"paymentDetails": ["x"]}, "paymentDetails"),
    ("viewType missing", {"viewType": None}, "viewType"),
    ("viewType unknown", {"viewType": "POPUP"}, "viewType"),
    ("viewType lower case", {"viewType": "redirect"}, "viewType"),
    ("REDIRECT without successUrl", {"successUrl": None}, "successUrl"),
    ("REDIRECT without failureUrl", {"failureUrl": None}, "failureUrl"),
    ("successUrl relative", {"successUrl": "/pay/success"}, "successUrl"),
    ("successUrl not http", {"successUrl": "ftp://salon.example/ok"}, "successUrl"),
    ("successUrl javascript", {"successUrl": "javascript:alert(1)"}, "successUrl"),
    ("successUrl too long", {"successUrl": LONG_URL}, "successUrl"),
    ("failureUrl no host", {"failureUrl": "https:///fail"}, "failureUrl"),
    ("failureUrl not a string", {"failureUrl": 7}, "failureUrl"),
    (
        "WEB_VIEW with a bad successUrl",
        {"viewType": "WEB_VIEW", "successUrl": "not a url"},
        "successUrl",
    ),
    ("paymentParams missing", {"paymentParams": None}, "paymentParams"),
    ("paymentParams not an object", {"paymentParams": "ONE_STEP"}, "paymentParams"),
    (
        "payType missing",
        {"paymentParams": {"operationType": "PAYMENT"}},
        "paymentParams.payType",
    ),
    (
        "payType unknown",
        {"paymentParams": {**ONE_STEP, "payType": "THREE_STEP"}},
        "paymentParams.payType",
    ),
    (
        "operationType other",
        {"paymentParams": {**ONE_STEP, "operationType": "TOP_UP"}},
        "paymentParams.operationType",
    ),
    (
        "force3ds not a bool",
        {"paymentParams": {**ONE_STEP, "force3ds": "yes"}},
        "paymentParams.force3ds",
    ),
    ("sessionTimeoutSecs missing", {"sessionTimeoutSecs": None}, "sessionTimeoutSecs"),
    ("sessionTimeoutSecs 599", {"sessionTimeoutSecs": 599}, "sessionTimeoutSecs"),
    ("sessionTimeoutSecs 1801", {"sessionTimeoutSecs": 1801}, "sessionTimeoutSecs"),
    ("sessionTimeoutSecs string", {"sessionTimeoutSecs": "900"}, "sessionTimeoutSecs"),
    ("sessionTimeoutSecs float", {"sessionTimeoutSecs": 900.0}, "sessionTimeoutSecs"),
    ("merchantParams not an object", {"merchantParams": []}, "merchantParams"),
]

CART_RULES = [
    ("cart not an object", {"cart": "x"}, "merchantParams.cart"),
    ("cartId missing", {"cart": {**make_cart(), "cartId": None}}, "cartId"),
    ("receiptType unknown", {"cart": {**make_cart(), "receiptType": "REFUND"}}, "receiptType"),
    ("total not int", {"cart": {**make_cart(), "total": float(AMOUNT)}}, "total"),
    (
        "total differs from amount",
        {"cart": make_cart(total=AMOUNT - 1, items=[cart_item(AMOUNT - 1)])},
        "merchantParams.cart.total",
    ),
    (
        "sum of items differs from total",
        {"cart": make_cart(items=[cart_item(AMOUNT - 100)])},
        "merchantParams.cart.total",
    ),
    ("items empty", {"cart": make_cart(items=[])}, "items"),
    ("items not a list", {"cart": {**make_cart(), "items": {}}}, "items"),
    ("item title missing", with_cart_item(title=None), "items[0].title"),
    ("item productId missing", with_cart_item(productId=None), "items[0].productId"),
    ("item quantity zero", with_cart_item(quantity=0), "items[0].quantity"),
    ("item unitPrice float", with_cart_item(unitPrice=1.5), "items[0].unitPrice"),
    ("item total missing", with_cart_item(total=None), "items[0].total"),
    ("receiptParams missing", with_cart_item(receiptParams=None), "receiptParams"),
    (
        "spic 16 chars",
        with_cart_item(receiptParams={"spic": "1" * 16}),
        "receiptParams.spic",
    ),
    (
        "spic 18 chars",
        with_cart_item(receiptParams={"spic": "1" * 18}),
        "receiptParams.spic",
    ),
    (
        "packageCode missing",
        with_cart_item(receiptParams={"packageCode": None}),
        "receiptParams.packageCode",
    ),
    (
        "vatPercent string",
        with_cart_item(receiptParams={"vatPercent": "12"}),
        "receiptParams.vatPercent",
    ),
    (
        "neither TIN nor PINFL",
        with_cart_item(receiptParams={"TIN": None}),
        "TIN or PINFL",
    ),
    (
        "both TIN and PINFL",
        with_cart_item(receiptParams={"PINFL": "12345678901234"}),
        "TIN or PINFL",
    ),
    ("TIN too long", with_cart_item(receiptParams={"TIN": "1234567890"}), "receiptParams.TIN"),
    (
        "PINFL too long",
        with_cart_item(receiptParams={"TIN": None, "PINFL": "123456789012345"}),
        "receiptParams.PINFL",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [pytest.param(o, f, id=case) for case, o, f in REGISTER_RULES],
)
def test_register_field_rules_answer_2000(checkout_api, overrides, field):
    answer = checkout_api.error("payment/register", register_body(**overrides))
    assert answer["errorCode"] == 2000
    assert field in answer["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("merchant_params", "field"),
    [pytest.param(o, f, id=case) for case, o, f in CART_RULES],
)
def test_register_cart_rules_answer_2000(fiscal_terminal, api_for, merchant_params, field):
    api = api_for(fiscal_terminal)
    answer = api.error("payment/register", register_body(merchantParams=merchant_params))
    assert answer["errorCode"] == 2000
    assert field in answer["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"amount": 1}, id="amount 1"),
        pytest.param({"amount": 999_999_999_999}, id="amount max"),
        pytest.param({"orderNumber": "n"}, id="orderNumber 1 char"),
        pytest.param({"orderNumber": "n" * 36}, id="orderNumber 36 chars"),
        pytest.param({"paymentDetails": "d" * 1024}, id="paymentDetails 1024"),
        pytest.param({"paymentDetails": None}, id="paymentDetails absent"),
        pytest.param({"sessionTimeoutSecs": 600}, id="timeout 600"),
        pytest.param({"sessionTimeoutSecs": 1800}, id="timeout 1800"),
        pytest.param({"viewType": "IFRAME", "successUrl": None, "failureUrl": None}, id="IFRAME"),
        pytest.param({"successUrl": "https://salon.example/" + "a" * 2061}, id="url 2083"),
        pytest.param({"successUrl": "http://localhost:8000/ok"}, id="localhost url"),
        pytest.param({"paymentParams": {**ONE_STEP, "force3ds": True}}, id="force3ds"),
        pytest.param({"merchantParams": {}}, id="merchantParams without cart"),
    ],
)
def test_register_accepts_the_edges(checkout_api, overrides):
    assert checkout_api.ok("payment/register", register_body(**overrides))["orderId"]


def test_register_cart_edges(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    items = [
        cart_item(5_000_000, product_id="a", TIN=None, PINFL="12345678901234"),
        cart_item(10_000_000, product_id="b", vatPercent=0, TIN="123456789"),
    ]
    body = register_body(merchantParams={"cart": make_cart(items=items)})
    order_id = api.ok("payment/register", body)["orderId"]
    assert Order.objects.get(order_id=order_id).cart["items"][0]["productId"] == "a"


# ----------------------------------------------------------------------------- headers


@pytest.mark.parametrize("language", [None, "", "ru", "ru-ru", "en-US", "uz-Latn-UZ", "de-DE"])
def test_content_language_must_be_exact(checkout_api, language):
    answer = checkout_api.error("payment/register", register_body(), language=language)
    assert answer["errorCode"] == 2000
    assert "Content-Language" in answer["message"]


@pytest.mark.parametrize("endpoint", ["complete", "reverse", "refund"])
@pytest.mark.parametrize("operation_id", [False, "", "not-a-uuid"])
def test_money_calls_need_an_operation_id(checkout_api, endpoint, operation_id):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    answer = getattr(checkout_api, endpoint)(order_id, AMOUNT, operation_id=operation_id)
    assert answer["errorCode"] == 2000
    assert "X-Operation-Id" in answer["message"]
    assert not Operation.objects.exclude(operation_type="AUTHORIZE").exists()


def test_body_must_be_a_json_object(checkout_api):
    for raw in ("{not json", "[1, 2]", "", "null"):
        answer = checkout_api.post("payment/getOrderStatus", raw, raw=True).json()
        assert answer["errorCode"] == 2000, raw
        assert answer["result"] is None


@pytest.mark.parametrize("endpoint", ["payment/getOrderStatus", "payment/getReceipts"])
@pytest.mark.parametrize("order_id", [None, 42, "not-a-uuid"])
def test_order_id_must_be_a_uuid(checkout_api, endpoint, order_id):
    body = {} if order_id is None else {"orderId": order_id}
    answer = checkout_api.error(endpoint, body)
    assert answer["errorCode"] == 2000
    assert "orderId" in answer["message"]


@pytest.mark.parametrize("amount", [None, 0, -1, 1.0, "100", True, 1_000_000_000_000])
def test_money_call_amount_rules(checkout_api, amount):
    order_id = checkout_api.register()
    pay(order_id)
    body = {"orderId": order_id}
    if amount is not None:
        body["amount"] = amount
    answer = checkout_api.error("acquiring/refund", body)
    assert answer["errorCode"] == 2000
    assert "amount" in answer["message"]


# ---------------------------------------------------------------------------- the codes


def test_3000_refund_of_a_refunded_order(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    assert checkout_api.refund(order_id, AMOUNT)["errorCode"] == 0
    answer = checkout_api.refund(order_id, 1)
    assert answer["errorCode"] == 3000


def test_3000_refund_of_an_unpaid_order(checkout_api):
    order_id = checkout_api.register()
    assert checkout_api.refund(order_id, 1)["errorCode"] == 3000


def test_3000_refund_of_an_authorised_order(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    assert checkout_api.refund(order_id, 1)["errorCode"] == 3000


def test_3000_complete_of_an_unpaid_two_step_order(checkout_api):
    order_id = checkout_api.register_two_step()
    assert checkout_api.complete(order_id, AMOUNT)["errorCode"] == 3000


def test_3004_pay_type_not_allowed(make_terminal, api_for):
    api = api_for(make_terminal(pay_types=["ONE_STEP"]))
    body = register_body(paymentParams={"payType": "TWO_STEP", "operationType": "PAYMENT"})
    assert api.error("payment/register", body)["errorCode"] == 3004
    api = api_for(make_terminal(pay_types=["TWO_STEP"]))
    assert api.error("payment/register", register_body())["errorCode"] == 3004
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("endpoint", "extra"),
    [
        ("payment/getOrderStatus", {}),
        ("payment/getReceipts", {}),
        ("acquiring/complete", {"amount": 1}),
        ("acquiring/reverse", {"amount": 1}),
        ("acquiring/refund", {"amount": 1}),
    ],
)
def test_3005_unknown_order(checkout_api, endpoint, extra):
    answer = checkout_api.error(endpoint, {"orderId": str(uuid.uuid4()), **extra})
    assert answer["errorCode"] == 3005


def test_3021_refund_larger_than_left(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    assert checkout_api.refund(order_id, AMOUNT + 1)["errorCode"] == 3021
    assert checkout_api.refund(order_id, AMOUNT - 10)["errorCode"] == 0
    assert checkout_api.refund(order_id, 11)["errorCode"] == 3021


def test_3027_order_number_unique_per_terminal(checkout_api, make_terminal, api_for):
    body = register_body()
    checkout_api.ok("payment/register", body)
    answer = checkout_api.error("payment/register", {**body, "amount": 100})
    assert answer["errorCode"] == 3027
    # Another terminal may use the same number.
    assert api_for(make_terminal()).ok("payment/register", body)["orderId"]
    assert Order.objects.count() == 2


def test_3028_operation_id_with_another_body(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    key = str(uuid.uuid4())
    assert checkout_api.refund(order_id, 100, operation_id=key)["errorCode"] == 0
    assert checkout_api.refund(order_id, 101, operation_id=key)["errorCode"] == 3028
    assert IdempotentCall.objects.count() == 1


def test_3030_complete_on_one_step(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    assert checkout_api.complete(order_id, AMOUNT)["errorCode"] == 3030


def test_3036_reverse_on_one_step(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    assert checkout_api.reverse(order_id, AMOUNT)["errorCode"] == 3036


def _expire(order_id):
    Order.objects.filter(order_id=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))


def test_3041_session_timeout(checkout_api, control):
    order_id = checkout_api.register(sessionTimeoutSecs=600)
    order = Order.objects.get(order_id=order_id)
    assert order.expires_at - order.created_at == pytest.approx(
        timedelta(seconds=600), abs=timedelta(seconds=5)
    )
    _expire(order_id)
    response = control.post(f"orders/{order_id}/pay", {"cardNumber": "8600000000000018"})
    assert response.status_code == 409
    assert response.json()["errorCode"] == 3041
    status = checkout_api.status(order_id)
    assert status["status"] == "REGISTERED"
    assert status["operations"] == []


def test_3041_complete_of_an_expired_two_step_order(checkout_api):
    order_id = checkout_api.register_two_step()
    _expire(order_id)
    assert checkout_api.complete(order_id, AMOUNT)["errorCode"] == 3041
    assert checkout_api.reverse(order_id, AMOUNT)["errorCode"] == 3041
    assert checkout_api.status(order_id)["status"] == "REGISTERED"


def test_a_paid_order_is_not_affected_by_the_session_timeout(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    _expire(order_id)
    assert checkout_api.complete(order_id, AMOUNT)["errorCode"] == 0


def test_3045_cart_required_on_auto_fiscal(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    assert api.error("payment/register", register_body())["errorCode"] == 3045
    assert api.error("payment/register", register_body(merchantParams={}))["errorCode"] == 3045


def test_3045_refund_cart_required_on_auto_fiscal(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    order_id = api.ok("payment/register", register_body(merchantParams={"cart": make_cart()}))[
        "orderId"
    ]
    pay(order_id)
    assert api.refund(order_id, AMOUNT)["errorCode"] == 3045


def test_3058_cart_without_auto_fiscal(checkout_api):
    body = register_body(merchantParams={"cart": make_cart()})
    assert checkout_api.error("payment/register", body)["errorCode"] == 3058


def test_3058_refund_cart_without_auto_fiscal(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    assert checkout_api.refund(order_id, AMOUNT, cart=make_cart())["errorCode"] == 3058


def test_3059_refund_cart_total_must_equal_the_completed_amount(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    order_id = api.ok("payment/register", register_body(merchantParams={"cart": make_cart()}))[
        "orderId"
    ]
    pay(order_id)
    partial = make_cart(total=5_000_000, items=[cart_item(5_000_000)])
    assert api.refund(order_id, 5_000_000, cart=partial)["errorCode"] == 3059
    full = fiscal_cart_for(Order.objects.get(order_id=order_id))
    assert api.refund(order_id, 5_000_000, cart=full)["errorCode"] == 0


def test_3046_refund_cart_product_not_on_the_receipt(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    order_id = api.ok("payment/register", register_body(merchantParams={"cart": make_cart()}))[
        "orderId"
    ]
    pay(order_id)
    cart = make_cart(items=[cart_item(product_id="not-bought")])
    assert api.refund(order_id, AMOUNT, cart=cart)["errorCode"] == 3046


def test_refund_cart_shape_is_checked(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    order_id = api.ok("payment/register", register_body(merchantParams={"cart": make_cart()}))[
        "orderId"
    ]
    pay(order_id)
    cart = make_cart()
    cart["items"][0]["receiptParams"]["spic"] = "short"
    answer = api.refund(order_id, AMOUNT, cart=cart)
    assert answer["errorCode"] == 2000
    assert "cart.items[0].receiptParams.spic" in answer["message"]


def test_1006_wrong_key(checkout_api):
    answer = checkout_api.error("payment/register", register_body(), **{"X-API-Key": "nope"})
    assert answer["errorCode"] == 1006
