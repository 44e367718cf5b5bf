"""The sandbox held to "Further facts from the spec that a faithful sandbox keeps" and the
error table of uzum-bank.md §1: what third-party Uzum clients found differing from Uzum's
published spec, one rule per test (issue 12, item 10). Each failed before the fix."""

import html
import re
import uuid

import pytest

from navbat.accounts.sandbox import sandbox_owner
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.checkout import ENDPOINTS, is_public_url
from navbat.uzum_sandbox.models import IdempotentCall, Operation, Order, Terminal

from .conftest import AMOUNT, CHECKOUT, pay, register_body

# Every code of the spec's error table (uzum-bank.md §1, Checkout 1.10.3).
SPEC_CODES = {0, 1001, 1006, 2000, *range(3000, 3017), *range(3019, 3024), 3027, 3028, 3029}
SPEC_CODES |= {3030, 3034, 3035, 3036, 3037, 3038, 3039, 3040, 3041, 3042, 3043, 3045, 3046}
SPEC_CODES |= {3047, 3048, 3049, 3050, 3051, 3052, 3055, 3056, 3058, 3059, 3060, 5000}
SPEC_CODES -= {3017, 3018}

UNUSED = (
    "acquiring/getBindings",
    "acquiring/unBindCard",
    "payment/merchantPay",
    "acquiring/getMerchantCertificate",
    "acquiring/purchaseReceipt",
)


def test_every_code_the_sandbox_answers_is_in_the_spec_table():
    codes = {
        value
        for name, value in vars(bank).items()
        if name.isupper() and isinstance(value, int) and not isinstance(value, bool)
    }
    assert codes - SPEC_CODES == set()
    assert bank.AUTH_FAILED == 1006


# ------------------------------------------------------------------ 1. operationType


@pytest.mark.parametrize("pay_type", ["ONE_STEP", "TWO_STEP"])
def test_payment_params_need_only_pay_type(checkout_api, pay_type):
    order_id = checkout_api.register(paymentParams={"payType": pay_type})
    order = Order.objects.get(order_id=order_id)
    assert (order.pay_type, order.amount) == (pay_type, AMOUNT)


def test_an_operation_type_other_than_payment_is_still_refused(checkout_api):
    body = register_body(paymentParams={"payType": "ONE_STEP", "operationType": "REFUND"})
    answer = checkout_api.error("payment/register", body)
    assert answer["errorCode"] == 2000
    assert "paymentParams.operationType" in answer["message"]
    assert not Order.objects.exists()


# ------------------------------------------------------------ 2. sessionTimeoutSecs


def test_session_timeout_is_required(checkout_api):
    answer = checkout_api.error("payment/register", register_body(sessionTimeoutSecs=None))
    assert answer["errorCode"] == 2000
    assert "sessionTimeoutSecs" in answer["message"]
    assert not Order.objects.exists()


# --------------------------------------------------------------- 3. partial reverse


@pytest.mark.parametrize("amount", [1, AMOUNT - 1, AMOUNT + 1])
def test_a_reverse_of_other_than_the_authorised_amount_is_3019(checkout_api, amount):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    answer = checkout_api.reverse(order_id, amount)
    assert answer["errorCode"] == 3019
    assert answer["result"] is None
    status = checkout_api.status(order_id)
    assert (status["status"], status["reversedAmount"]) == ("AUTHORIZED", 0)
    assert [op["operationType"] for op in status["operations"]] == ["AUTHORIZE"]
    assert not IdempotentCall.objects.exists()
    assert checkout_api.reverse(order_id, AMOUNT)["errorCode"] == 0


# ------------------------------------------------------------ 4. unknown operation


def test_get_operation_state_of_an_unknown_operation_is_3035(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    answer = checkout_api.error("payment/getOperationState", {"operationId": str(uuid.uuid4())})
    assert answer["errorCode"] == 3035


# ---------------------------------------------------- 5. the endpoints navbat does not use


@pytest.mark.parametrize(
    ("endpoint", "body", "code"),
    [
        ("acquiring/getBindings", {"clientId": "client-1"}, 3006),
        ("acquiring/unBindCard", {"bindingId": str(uuid.uuid4())}, 3006),
        ("payment/merchantPay", {"bindingId": str(uuid.uuid4()), "amount": AMOUNT}, 3037),
        ("acquiring/getMerchantCertificate", {}, 3037),
        ("acquiring/purchaseReceipt", {"orderId": None}, 3037),
    ],
)
def test_the_unused_endpoints_answer_the_envelope(checkout_api, endpoint, body, code):
    if body.get("orderId", "") is None:
        order_id = checkout_api.register()
        pay(order_id)
        body = {"orderId": order_id}
    response = checkout_api.post(endpoint, body, **{"X-Operation-Id": str(uuid.uuid4())})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) == {"errorCode", "message", "result"}
    assert (answer["errorCode"], answer["result"]) == (code, None)
    assert answer["message"]
    assert not IdempotentCall.objects.exists()
    assert (
        Operation.objects.exclude(operation_type="AUTHORIZE")
        .exclude(operation_type="COMPLETE")
        .count()
        == 0
    )


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("acquiring/getBindings", {}, "clientId"),
        ("acquiring/unBindCard", {}, "bindingId"),
        ("acquiring/unBindCard", {"bindingId": "card-1"}, "bindingId"),
        ("acquiring/purchaseReceipt", {}, "orderId"),
    ],
)
def test_the_unused_endpoints_check_their_fields(checkout_api, endpoint, body, field):
    answer = checkout_api.error(endpoint, body, **{"X-Operation-Id": str(uuid.uuid4())})
    assert answer["errorCode"] == 2000
    assert field in answer["message"]


@pytest.mark.parametrize("endpoint", ["payment/merchantPay", "acquiring/purchaseReceipt"])
@pytest.mark.parametrize("operation_id", [None, "not-a-uuid"])
def test_merchant_pay_and_purchase_receipt_need_an_operation_id(
    checkout_api, endpoint, operation_id
):
    order_id = checkout_api.register()
    answer = checkout_api.error(endpoint, {"orderId": order_id}, **{"X-Operation-Id": operation_id})
    assert answer["errorCode"] == 2000
    assert "X-Operation-Id" in answer["message"]


def test_purchase_receipt_of_an_unknown_order_is_3005(checkout_api):
    body = {"orderId": str(uuid.uuid4())}
    answer = checkout_api.error(
        "acquiring/purchaseReceipt", body, **{"X-Operation-Id": str(uuid.uuid4())}
    )
    assert answer["errorCode"] == 3005


@pytest.mark.parametrize("endpoint", UNUSED)
def test_the_unused_endpoints_check_the_keys_first(checkout_api, endpoint):
    answer = checkout_api.error(endpoint, {}, **{"X-API-Key": "wrong"})
    assert answer["errorCode"] == 1006


def test_the_unused_endpoints_are_listed(checkout_api):
    assert set(UNUSED) <= set(ENDPOINTS)


@pytest.mark.parametrize(
    "endpoint", ["payment/nothing", "acquiring/getbindings", "payment/register/x", "v2/x"]
)
def test_other_paths_under_api_v1_are_403(client, checkout_api, endpoint):
    response = checkout_api.post(endpoint, {})
    assert response.status_code == 403
    assert client.get(CHECKOUT + endpoint).status_code == 403


# -------------------------------------------------------------------- 6. wrong keys


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "0" * 64},
        {"X-Terminal-Id": str(uuid.uuid4())},
        {"X-Terminal-Id": None, "X-API-Key": None},
    ],
)
def test_wrong_keys_answer_1006_a_code_of_the_table(checkout_api, headers):
    answer = checkout_api.error("payment/getOrderStatus", {"orderId": str(uuid.uuid4())}, **headers)
    assert answer["errorCode"] == 1006
    assert answer["errorCode"] in SPEC_CODES


# ------------------------------------------------- 7. localhost / private success URLs


@pytest.mark.parametrize(
    ("url", "public"),
    [
        ("https://salon.example/pay/ok", True),
        ("http://93.184.216.34/ok", True),
        ("https://[2606:4700::1111]/ok", True),
        ("http://localhost:8000/ok", False),
        ("http://LOCALHOST./ok", False),
        ("http://app.localhost/ok", False),
        ("http://127.0.0.1:8000/ok", False),
        ("http://10.1.2.3/ok", False),
        ("http://172.16.0.5/ok", False),
        ("http://192.168.1.10/ok", False),
        ("http://169.254.1.1/ok", False),
        ("http://100.64.0.1/ok", False),
        ("http://0.0.0.0/ok", False),
        ("http://[::1]:8000/ok", False),
        ("http://[fd00::1]/ok", False),
        ("http://printer.local/ok", False),
        ("http://web/ok", False),
    ],
)
def test_what_counts_as_public(url, public):
    assert is_public_url(url) is public


def test_a_private_url_is_accepted_and_the_order_marked(checkout_api):
    local = checkout_api.register(successUrl="http://localhost:8000/ok")
    private = checkout_api.register(
        successUrl="https://salon.example/ok", failureUrl="http://192.168.1.10/fail"
    )
    public = checkout_api.register(
        successUrl="https://salon.example/ok", failureUrl="https://salon.example/fail"
    )
    marks = dict(Order.objects.values_list("order_id", "private_urls"))
    assert {str(k): v for k, v in marks.items()} == {local: True, private: True, public: False}


def test_a_strict_terminal_refuses_private_urls(control, api_for):
    response = control.post("terminals", {"strictUrls": True})
    assert response.status_code == 201
    assert response.json()["strictUrls"] is True
    terminal = Terminal.objects.get(terminal_id=response.json()["terminalId"])
    assert terminal.strict_urls is True
    api = api_for(terminal)
    for field, url in (
        ("successUrl", "http://127.0.0.1:8000/ok"),
        ("failureUrl", "http://[::1]/f"),
    ):
        body = register_body(**{"successUrl": "https://salon.example/ok", field: url})
        answer = api.error("payment/register", body)
        assert answer["errorCode"] == 2000
        assert field in answer["message"] and "public" in answer["message"]
    assert not Order.objects.exists()
    body = register_body(
        successUrl="https://salon.example/ok", failureUrl="https://salon.example/f"
    )
    order_id = api.ok("payment/register", body)["orderId"]
    assert Order.objects.get(order_id=order_id).private_urls is False


def test_strict_urls_is_a_setting_of_the_control_api(control):
    created = control.post("terminals", {})
    assert created.json()["strictUrls"] is False
    terminal_id = created.json()["terminalId"]
    assert control.post("terminals", {"strictUrls": "yes"}).status_code == 400
    changed = control.patch(f"terminals/{terminal_id}", {"strictUrls": True})
    assert changed.status_code == 200 and changed.json()["strictUrls"] is True
    assert Terminal.objects.get(terminal_id=terminal_id).strict_urls is True


def test_the_control_api_shows_the_mark(control, api_for):
    terminal = Terminal.objects.get(terminal_id=control.post("terminals", {}).json()["terminalId"])
    order_id = api_for(terminal).register(successUrl="http://localhost:8000/ok")
    assert control.get(f"orders/{order_id}").json()["privateUrls"] is True


def test_the_dashboard_warns_on_the_marked_order_only(login, salon_a, make_terminal, api_for):
    terminal = make_terminal(owner=sandbox_owner(salon_a.business.pk))
    api = api_for(terminal)
    marked = api.register(successUrl="http://localhost:8000/ok")
    clean = api.register(
        successUrl="https://salon.example/ok", failureUrl="https://salon.example/f"
    )
    body = html.unescape(login(salon_a.owner).get("/sandbox/uzum/").content.decode())

    def row(order_id: str) -> str:
        return re.search(rf'<tr data-order="{order_id}">.*?</tr>', body, re.S).group(0)

    assert 'class="small url-warning"' in row(marked)
    assert "localhost or a private address" in row(marked)
    assert "url-warning" not in row(clean)
    assert body.count("url-warning") == 1
