"""The sandbox's Checkout API over HTTP: every endpoint, the envelope, authentication, and
the one-step, two-step and refund sequences with exact amounts at every step."""

import uuid

import pytest
from django.db import connection

from navbat.uzum_sandbox.models import Callback, Order

from .conftest import AMOUNT, CHECKOUT, HUMO_3DS, fiscal_cart_for, make_cart, pay, register_body

STATUS_KEYS = {
    "orderId",
    "status",
    "merchantOrderId",
    "amount",
    "totalAmount",
    "completedAmount",
    "refundedAmount",
    "reversedAmount",
    "operations",
    "cardType",
    "actionCode",
    "ips",
    "approvalCode",
    "maskedPan",
    "bindingId",
}
OPERATION_KEYS = {
    "operationId",
    "merchantOperationId",
    "startAt",
    "doneAt",
    "operationType",
    "state",
    "rrn",
    "actionCodeDescription",
}


def amounts(status: dict) -> tuple:
    return (
        status["status"],
        status["amount"],
        status["totalAmount"],
        status["completedAmount"],
        status["refundedAmount"],
        status["reversedAmount"],
    )


def operations(status: dict) -> list[tuple[str, str]]:
    return [(op["operationType"], op["state"]) for op in status["operations"]]


# ------------------------------------------------------------------------------ endpoints


def test_register_answers_order_id_and_the_hosted_page(checkout_api):
    body = register_body()
    result = checkout_api.ok("payment/register", body)
    assert set(result) == {"orderId", "paymentRedirectUrl"}
    order_id = uuid.UUID(result["orderId"])
    assert result["paymentRedirectUrl"] == f"http://testserver/sandbox/uzum/pay/{order_id}/"
    order = Order.objects.get(order_id=order_id)
    assert order.terminal == checkout_api.terminal
    assert (order.order_number, order.amount, order.language) == (
        body["orderNumber"],
        AMOUNT,
        "ru-RU",
    )
    assert order.session_timeout_secs == 900


def test_register_keeps_the_form_language(checkout_api):
    for language in ("ru-RU", "uz-UZ", "en-EN"):
        order_id = checkout_api.ok("payment/register", register_body(), language=language)[
            "orderId"
        ]
        assert Order.objects.get(order_id=order_id).language == language


def test_register_with_web_view_needs_no_urls(checkout_api):
    body = register_body(viewType="WEB_VIEW", successUrl=None, failureUrl=None)
    assert checkout_api.ok("payment/register", body)["orderId"]


def test_get_order_status_of_a_new_order(checkout_api):
    body = register_body()
    order_id = checkout_api.ok("payment/register", body)["orderId"]
    status = checkout_api.status(order_id)
    assert set(status) == STATUS_KEYS
    assert status["orderId"] == order_id
    assert status["merchantOrderId"] == body["orderNumber"]
    assert amounts(status) == ("REGISTERED", AMOUNT, AMOUNT, 0, 0, 0)
    assert status["operations"] == []
    assert status["ips"] is None and status["actionCode"] is None


def test_get_operation_state(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    op_key = str(uuid.uuid4())
    operation_id = checkout_api.refund(order_id, 1_000_000, operation_id=op_key)["result"][
        "operationId"
    ]
    result = checkout_api.ok("payment/getOperationState", {"operationId": operation_id})
    assert set(result) == {"operation"}
    operation = result["operation"]
    assert set(operation) == OPERATION_KEYS
    assert operation["operationId"] == operation_id
    assert operation["operationType"] == "REFUND"
    assert operation["state"] == "SUCCESS"
    assert operation["merchantOperationId"] == op_key
    assert len(operation["rrn"]) == 12 and operation["rrn"].isdigit()
    assert operation["startAt"] and operation["doneAt"]


def test_get_operation_state_of_an_unknown_operation(checkout_api):
    answer = checkout_api.error("payment/getOperationState", {"operationId": str(uuid.uuid4())})
    assert answer["errorCode"] == 3035


def test_get_operation_state_of_another_terminals_operation(checkout_api, make_terminal, api_for):
    order_id = checkout_api.register()
    pay(order_id)
    operation_id = checkout_api.status(order_id)["operations"][0]["operationId"]
    other = api_for(make_terminal())
    answer = other.error("payment/getOperationState", {"operationId": operation_id})
    assert answer["errorCode"] == 3035


def test_get_receipts_without_auto_fiscal_is_empty(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    assert checkout_api.ok("payment/getReceipts", {"orderId": order_id}) == {"receipts": []}


def test_get_receipts_on_an_auto_fiscal_terminal(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    order_id = api.ok("payment/register", register_body(merchantParams={"cart": make_cart()}))[
        "orderId"
    ]
    assert api.ok("payment/getReceipts", {"orderId": order_id}) == {"receipts": []}
    pay(order_id)
    receipts = api.ok("payment/getReceipts", {"orderId": order_id})["receipts"]
    assert [r["receiptType"] for r in receipts] == ["PURCHASE"]
    assert receipts[0]["receiptUrl"].startswith("https://")
    cart = fiscal_cart_for(Order.objects.get(order_id=order_id))
    assert api.refund(order_id, 5_000_000, cart=cart)["errorCode"] == 0
    assert api.refund(order_id, 10_000_000, cart=cart)["errorCode"] == 0
    receipts = api.ok("payment/getReceipts", {"orderId": order_id})["receipts"]
    assert [r["receiptType"] for r in receipts] == ["PURCHASE", "REFUND", "REFUND"]
    assert len({r["receiptUrl"] for r in receipts}) == 3


def test_prepaid_cart_issues_a_prepaid_receipt(fiscal_terminal, api_for):
    api = api_for(fiscal_terminal)
    cart = make_cart(receipt_type="PREPAID")
    order_id = api.ok("payment/register", register_body(merchantParams={"cart": cart}))["orderId"]
    pay(order_id)
    receipts = api.ok("payment/getReceipts", {"orderId": order_id})["receipts"]
    assert [r["receiptType"] for r in receipts] == ["PREPAID"]


# ---------------------------------------------------------------------------- sequences


def test_one_step_payment_then_partial_then_full_refund(checkout_api):
    order_id = checkout_api.register()
    assert amounts(checkout_api.status(order_id)) == ("REGISTERED", AMOUNT, AMOUNT, 0, 0, 0)

    pay(order_id)
    status = checkout_api.status(order_id)
    assert amounts(status) == ("COMPLETED", AMOUNT, AMOUNT, AMOUNT, 0, 0)
    assert operations(status) == [("COMPLETE", "SUCCESS")]
    assert status["ips"] == "UZCARD" and status["cardType"] == 2
    assert status["actionCode"] == 0
    assert status["maskedPan"] == "860000******0018"
    assert len(status["approvalCode"]) == 6
    assert status["operations"][0]["rrn"]

    assert checkout_api.refund(order_id, 4_000_000)["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("COMPLETED", AMOUNT, 11_000_000, AMOUNT, 4_000_000, 0)
    assert operations(status) == [("COMPLETE", "SUCCESS"), ("REFUND", "SUCCESS")]

    assert checkout_api.refund(order_id, 11_000_001)["errorCode"] == 3021
    assert amounts(checkout_api.status(order_id))[2] == 11_000_000

    assert checkout_api.refund(order_id, 6_000_000)["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("COMPLETED", AMOUNT, 5_000_000, AMOUNT, 10_000_000, 0)

    assert checkout_api.refund(order_id, 5_000_000)["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("REFUNDED", AMOUNT, 0, AMOUNT, AMOUNT, 0)
    assert operations(status) == [("COMPLETE", "SUCCESS")] + [("REFUND", "SUCCESS")] * 3

    assert checkout_api.refund(order_id, 1)["errorCode"] == 3000


def test_one_step_full_refund(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    result = checkout_api.refund(order_id, AMOUNT)
    assert result["errorCode"] == 0
    assert set(result["result"]) == {"operationId"}
    status = checkout_api.status(order_id)
    assert amounts(status) == ("REFUNDED", AMOUNT, 0, AMOUNT, AMOUNT, 0)
    refund_op = status["operations"][-1]
    assert refund_op["operationId"] == result["result"]["operationId"]
    assert refund_op["operationType"] == "REFUND"


def test_two_step_full_complete(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    status = checkout_api.status(order_id)
    assert amounts(status) == ("AUTHORIZED", AMOUNT, AMOUNT, 0, 0, 0)
    assert operations(status) == [("AUTHORIZE", "SUCCESS")]

    result = checkout_api.complete(order_id, AMOUNT)
    assert result["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("COMPLETED", AMOUNT, AMOUNT, AMOUNT, 0, 0)
    assert operations(status) == [("AUTHORIZE", "SUCCESS"), ("COMPLETE", "SUCCESS")]
    assert status["operations"][1]["operationId"] == result["result"]["operationId"]

    assert checkout_api.complete(order_id, AMOUNT)["errorCode"] == 3000
    assert checkout_api.refund(order_id, AMOUNT)["errorCode"] == 0
    assert amounts(checkout_api.status(order_id)) == ("REFUNDED", AMOUNT, 0, AMOUNT, AMOUNT, 0)


def test_two_step_partial_complete_then_refunds(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    assert checkout_api.complete(order_id, 10_000_000)["errorCode"] == 0
    status = checkout_api.status(order_id)
    # The rest of the authorisation is released; totalAmount = amount − refunded.
    assert amounts(status) == ("COMPLETED", AMOUNT, AMOUNT, 10_000_000, 0, 5_000_000)

    assert checkout_api.refund(order_id, 10_000_001)["errorCode"] == 3021
    assert checkout_api.refund(order_id, 3_000_000)["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("COMPLETED", AMOUNT, 12_000_000, 10_000_000, 3_000_000, 5_000_000)
    assert checkout_api.refund(order_id, 7_000_000)["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("REFUNDED", AMOUNT, 5_000_000, 10_000_000, 10_000_000, 5_000_000)
    assert operations(status) == [
        ("AUTHORIZE", "SUCCESS"),
        ("COMPLETE", "SUCCESS"),
        ("REFUND", "SUCCESS"),
        ("REFUND", "SUCCESS"),
    ]


def test_two_step_complete_more_than_authorised_is_refused(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    assert checkout_api.complete(order_id, AMOUNT + 1)["errorCode"] == 2000
    assert amounts(checkout_api.status(order_id))[0] == "AUTHORIZED"


def test_two_step_reverse(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    assert checkout_api.reverse(order_id, AMOUNT - 1)["errorCode"] == 3019
    result = checkout_api.reverse(order_id, AMOUNT)
    assert result["errorCode"] == 0
    status = checkout_api.status(order_id)
    assert amounts(status) == ("REVERSED", AMOUNT, AMOUNT, 0, 0, AMOUNT)
    assert operations(status) == [("AUTHORIZE", "SUCCESS"), ("REVERSE", "SUCCESS")]
    assert status["operations"][1]["operationId"] == result["result"]["operationId"]
    # Nothing more can happen to a reversed order.
    assert checkout_api.reverse(order_id, AMOUNT)["errorCode"] == 3000
    assert checkout_api.complete(order_id, AMOUNT)["errorCode"] == 3000
    assert checkout_api.refund(order_id, AMOUNT)["errorCode"] == 3000


def test_declined_attempt_leaves_the_order_registered_and_payable(checkout_api):
    order_id = checkout_api.register()
    pay(order_id, card="8600000000003008")
    status = checkout_api.status(order_id)
    assert amounts(status) == ("REGISTERED", AMOUNT, AMOUNT, 0, 0, 0)
    assert status["actionCode"] == 3008
    assert operations(status) == [("AUTHORIZE", "FAIL")]
    assert status["operations"][0]["actionCodeDescription"] == "Insufficient funds"
    pay(order_id, card=HUMO_3DS, code="777777")
    status = checkout_api.status(order_id)
    assert amounts(status) == ("COMPLETED", AMOUNT, AMOUNT, AMOUNT, 0, 0)
    assert status["ips"] == "HUMO" and status["actionCode"] == 0


def test_operations_queue_payment_callbacks(checkout_api, make_terminal, api_for):
    api = api_for(make_terminal(payment_callback_url="http://127.0.0.1:9/cb"))
    order_id = api.register()
    pay(order_id)
    key = str(uuid.uuid4())
    api.refund(order_id, AMOUNT, operation_id=key)
    bodies = [c.body for c in Callback.objects.filter(kind="payment").order_by("id")]
    assert [(b["operationType"], b["operationState"]) for b in bodies] == [
        ("COMPLETE", "SUCCESS"),
        ("REFUND", "SUCCESS"),
    ]
    assert bodies[1]["merchantOperationId"] == key
    assert all(b["orderId"] == order_id for b in bodies)


# ------------------------------------------------------------------ operation-id reuse


@pytest.mark.parametrize("endpoint", ["complete", "reverse", "refund"])
def test_same_operation_id_same_body_answers_the_first_result(checkout_api, endpoint):
    two_step = endpoint in ("complete", "reverse")
    order_id = checkout_api.register_two_step() if two_step else checkout_api.register()
    pay(order_id)
    amount = AMOUNT if endpoint != "refund" else 1_000_000
    key = str(uuid.uuid4())
    first = getattr(checkout_api, endpoint)(order_id, amount, operation_id=key)
    again = getattr(checkout_api, endpoint)(order_id, amount, operation_id=key)
    assert first["errorCode"] == 0
    assert again == first
    status = checkout_api.status(order_id)
    assert len(status["operations"]) == 2  # the payment and one operation, not two


def test_same_operation_id_other_body_is_3028(checkout_api):
    order_id = checkout_api.register()
    pay(order_id)
    key = str(uuid.uuid4())
    assert checkout_api.refund(order_id, 1_000_000, operation_id=key)["errorCode"] == 0
    answer = checkout_api.refund(order_id, 2_000_000, operation_id=key)
    assert answer["errorCode"] == 3028
    assert answer["result"] is None
    assert amounts(checkout_api.status(order_id))[4] == 1_000_000


def test_operation_id_reused_on_another_endpoint_is_3028(checkout_api):
    order_id = checkout_api.register_two_step()
    pay(order_id)
    key = str(uuid.uuid4())
    assert checkout_api.complete(order_id, AMOUNT, operation_id=key)["errorCode"] == 0
    assert checkout_api.refund(order_id, AMOUNT, operation_id=key)["errorCode"] == 3028


def test_a_refused_call_does_not_burn_its_operation_id(checkout_api):
    order_id = checkout_api.register()
    key = str(uuid.uuid4())
    assert checkout_api.refund(order_id, AMOUNT, operation_id=key)["errorCode"] == 3000
    pay(order_id)
    assert checkout_api.refund(order_id, AMOUNT, operation_id=key)["errorCode"] == 0


def test_operation_ids_belong_to_their_terminal(checkout_api, make_terminal, api_for):
    other = api_for(make_terminal())
    mine, theirs = checkout_api.register(), other.register()
    pay(mine)
    pay(theirs)
    key = str(uuid.uuid4())
    assert checkout_api.refund(mine, AMOUNT, operation_id=key)["errorCode"] == 0
    assert other.refund(theirs, AMOUNT, operation_id=key)["errorCode"] == 0


# ---------------------------------------------------------------- auth, paths, methods


def test_wrong_key_and_unknown_terminal_answer_alike(checkout_api, terminal):
    wrong_key = checkout_api.error(
        "payment/getOrderStatus", {"orderId": str(uuid.uuid4())}, **{"X-API-Key": "0" * 64}
    )
    unknown = checkout_api.error(
        "payment/getOrderStatus",
        {"orderId": str(uuid.uuid4())},
        **{"X-Terminal-Id": str(uuid.uuid4())},
    )
    assert wrong_key == unknown
    assert wrong_key["errorCode"] == 1006
    assert terminal.api_key not in wrong_key["message"]
    assert str(terminal.terminal_id) not in wrong_key["message"]
    for word in ("exist", "unknown", "not found"):
        assert word not in wrong_key["message"].lower()


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": None},
        {"X-Terminal-Id": None},
        {"X-API-Key": ""},
        {"X-Terminal-Id": "not-a-uuid"},
        {"X-Terminal-Id": None, "X-API-Key": None},
    ],
)
def test_missing_or_malformed_credentials_are_1006(checkout_api, headers):
    answer = checkout_api.error("payment/register", register_body(), **headers)
    assert answer["errorCode"] == 1006
    assert not Order.objects.exists()


def test_auth_is_checked_before_the_body(checkout_api):
    response = checkout_api.post("payment/register", "{not json", raw=True, **{"X-API-Key": "x"})
    assert response.json()["errorCode"] == 1006


def test_another_terminals_order_is_3005(checkout_api, make_terminal, api_for):
    order_id = checkout_api.register()
    other = api_for(make_terminal())
    assert other.error("payment/getOrderStatus", {"orderId": order_id})["errorCode"] == 3005


@pytest.mark.parametrize(
    "path",
    [
        "/sandbox/uzum/checkout/",
        "/sandbox/uzum/checkout/payment/register",
        "/sandbox/uzum/checkout/api/v2/payment/register",
        "/sandbox/uzum/checkout/api/payment/register",
        "/sandbox/uzum/checkout/admin",
    ],
)
def test_paths_outside_api_v1_are_403(client, checkout_api, path):
    response = client.post(
        path,
        data="{}",
        content_type="application/json",
        headers=checkout_api.headers("payment/getOrderStatus"),
    )
    assert response.status_code == 403
    assert client.get(path).status_code == 403


def test_get_is_refused(client, checkout_api):
    response = client.get(
        CHECKOUT + "payment/getOrderStatus",
        headers=checkout_api.headers("payment/getOrderStatus"),
    )
    assert response.status_code == 405
    assert response.json()["errorCode"] != 0


def test_unknown_endpoint_is_403(checkout_api):
    response = checkout_api.post("payment/nothing", {})
    assert response.status_code == 403


def test_no_csrf_needed(terminal):
    from django.test import Client

    api_client = Client(enforce_csrf_checks=True)
    response = api_client.post(
        CHECKOUT + "payment/register",
        data=register_body(),
        content_type="application/json",
        headers={
            "X-Terminal-Id": str(terminal.terminal_id),
            "X-API-Key": terminal.api_key,
            "Content-Language": "en-EN",
        },
    )
    assert response.json()["errorCode"] == 0


# ---------------------------------------------------------------- concurrency (PostgreSQL)


def _race(count: int, call) -> list:
    import threading

    from django.db import connections

    barrier = threading.Barrier(count)
    outcomes: list = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            result = call(index)
        except Exception as exc:  # the test shows anything unexpected
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
)


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_calls_with_one_operation_id_refund_once(make_terminal):
    from django.test import Client

    from .conftest import CheckoutApi

    terminal = make_terminal()
    setup = CheckoutApi(Client(), terminal)
    order_id = setup.register()
    pay(order_id)
    key = str(uuid.uuid4())
    outcomes = _race(
        10,
        lambda i: CheckoutApi(Client(), terminal).refund(order_id, 1_000_000, operation_id=key),
    )
    assert all(isinstance(o, dict) and o["errorCode"] == 0 for o in outcomes), outcomes
    assert len({o["result"]["operationId"] for o in outcomes}) == 1
    status = setup.status(order_id)
    assert status["refundedAmount"] == 1_000_000
    assert operations(status) == [("COMPLETE", "SUCCESS"), ("REFUND", "SUCCESS")]


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_never_exceed_the_amount(make_terminal):
    from django.test import Client

    from .conftest import CheckoutApi

    terminal = make_terminal()
    setup = CheckoutApi(Client(), terminal)
    order_id = setup.register()
    pay(order_id)
    outcomes = _race(10, lambda i: CheckoutApi(Client(), terminal).refund(order_id, 4_000_000))
    codes = sorted(o["errorCode"] for o in outcomes)
    assert codes == [0, 0, 0] + [3021] * 7, outcomes
    assert amounts(setup.status(order_id)) == (
        "COMPLETED",
        AMOUNT,
        3_000_000,
        AMOUNT,
        12_000_000,
        0,
    )


@postgres_only
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registers_of_one_order_number_make_one_order(make_terminal):
    from django.test import Client

    from .conftest import CheckoutApi

    terminal = make_terminal()
    body = register_body()
    outcomes = _race(10, lambda i: CheckoutApi(Client(), terminal).call("payment/register", body))
    codes = sorted(o["errorCode"] for o in outcomes)
    assert codes == [0] + [3027] * 9, outcomes
    assert Order.objects.filter(order_number=body["orderNumber"]).count() == 1
