"""The Checkout client against a scripted bank (httpx.MockTransport): the envelope, the
error codes, retries, timeouts and the exact headers and bodies it sends."""

import json
import socket
import threading
import uuid
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from django.conf import settings

from navbat.uzum.checkout import (
    ERRORS_BY_CODE,
    PRODUCTION_BASE_URL,
    TEST_BASE_URL,
    AuthenticationFailed,
    BankTimeout,
    BankUnavailable,
    Cart,
    CartItem,
    CheckoutClient,
    CheckoutError,
    Declined,
    Forbidden,
    MalformedAnswer,
    Operation,
    OperationResult,
    OperationState,
    OperationType,
    OrderNotFound,
    OrderState,
    OrderStatus,
    PayType,
    Receipt,
    ReceiptParams,
    ReceiptType,
    RegisterRequest,
    RegisterResult,
    TransportError,
    UnknownCheckoutError,
    ViewType,
    base_url_for,
    content_language,
    error_for,
)
from navbat.uzum.services import default_checkout_url

BASE = "https://bank.example/sandbox/uzum/checkout"
TERMINAL = "0b7c2a8e-3f9d-4a54-9d5e-2b9b6c1e8f10"
KEY = "5f4dcc3b5aa765d61d8327deb882cf99a1b2c3d4e5f60718293a4b5c6d7e8f90"
ORDER_ID = uuid.UUID("6a0f3f1c-9b7e-4c5a-8d42-1f0e2d3c4b5a")
OPERATION_ID = uuid.UUID("11111111-2222-4333-8444-555555555555")


def envelope(result=None, code=0, message=None):
    return {"errorCode": code, "message": message, "result": result}


class Bank:
    """A scripted bank: answers in order (the last one repeats) and records every request.
    An answer is a dict (the JSON body, HTTP 200), an httpx.Response, or an exception."""

    def __init__(self, *answers):
        self.answers = list(answers) or [envelope({})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json=answer)

    def body(self, index=-1):
        return json.loads(self.requests[index].content)


@pytest.fixture
def sleeps():
    return []


def make_client(bank, sleeps=None, **options):
    options.setdefault("retry_backoff", 0)
    return CheckoutClient(
        BASE + "/",
        TERMINAL,
        KEY,
        transport=httpx.MockTransport(bank),
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
        **options,
    )


def register_request(**overrides):
    fields = {
        "amount": 15_000_000,
        "order_number": "NB-2025-0001",
        "client_id": "client-42",
        "success_url": "https://salon.example/pay/ok",
        "failure_url": "https://salon.example/pay/fail",
    }
    fields.update(overrides)
    return RegisterRequest(**fields)


def a_cart(total=15_000_000):
    return Cart(
        cart_id="cart-1",
        total=total,
        items=[
            CartItem(
                title="Haircut",
                product_id="svc-1",
                quantity=1,
                unit_price=10_000_000,
                total=10_000_000,
                receipt_params=ReceiptParams(
                    spic="10305001001000000", package_code="1501", vat_percent=12, tin="123456789"
                ),
            ),
            CartItem(
                title="Shampoo",
                product_id="prd-7",
                quantity=2,
                unit_price=2_500_000,
                total=5_000_000,
                receipt_params=ReceiptParams(
                    spic="10305002001000000",
                    package_code="1502",
                    vat_percent=0,
                    pinfl="12345678901234",
                ),
            ),
        ],
    )


STATUS_RESULT = {
    "orderId": str(ORDER_ID),
    "status": "COMPLETED",
    "merchantOrderId": "NB-2025-0001",
    "amount": 15_000_000,
    "totalAmount": 10_000_000,
    "completedAmount": 15_000_000,
    "refundedAmount": 5_000_000,
    "reversedAmount": 0,
    "operations": [
        {
            "operationId": str(OPERATION_ID),
            "merchantOperationId": None,
            "startAt": "2025-03-01T10:00:00+05:00",
            "doneAt": "2025-03-01T10:00:02+05:00",
            "operationType": "COMPLETE",
            "state": "SUCCESS",
            "rrn": "123456789012",
            "actionCodeDescription": None,
        },
        {
            "operationId": "22222222-2222-4333-8444-555555555555",
            "merchantOperationId": "9d1c7a3e-0c59-4e8e-9f5d-0a1b2c3d4e5f",
            "startAt": 1740808800000,
            "operationType": "REFUND",
            "state": "SUCCESS",
            "rrn": "123456789013",
        },
    ],
    "cardType": 2,
    "actionCode": 0,
    "ips": "UZCARD",
    "approvalCode": "123456",
    "bindingId": None,
    "maskedPan": "860000******0018",
}


# ---------------------------------------------------------------- requests: what goes out


def test_register_sends_the_exact_headers_path_and_body():
    bank = Bank(
        envelope({"orderId": str(ORDER_ID), "paymentRedirectUrl": "https://pay.example/o/1"})
    )
    result = make_client(bank).register(register_request(), "uz")

    assert result == RegisterResult(
        order_id=ORDER_ID, payment_redirect_url="https://pay.example/o/1"
    )
    (request,) = bank.requests
    assert request.method == "POST"
    assert str(request.url) == BASE + "/api/v1/payment/register"
    assert request.headers["X-Terminal-Id"] == TERMINAL
    assert request.headers["X-API-Key"] == KEY
    assert request.headers["Content-Language"] == "uz-UZ"
    assert request.headers["Content-Type"] == "application/json"
    assert "X-Operation-Id" not in request.headers
    assert bank.body() == {
        "amount": 15_000_000,
        "clientId": "client-42",
        "currency": 860,
        "orderNumber": "NB-2025-0001",
        "viewType": "REDIRECT",
        "successUrl": "https://salon.example/pay/ok",
        "failureUrl": "https://salon.example/pay/fail",
        "paymentParams": {"payType": "ONE_STEP", "operationType": "PAYMENT"},
        "sessionTimeoutSecs": 1800,  # required by the bank: the longest session by default
    }


def test_register_serialises_every_optional_field_and_the_cart_exactly():
    bank = Bank(envelope({"orderId": str(ORDER_ID), "paymentRedirectUrl": "https://p/1"}))
    request = register_request(
        view_type=ViewType.WEB_VIEW,
        pay_type=PayType.TWO_STEP,
        payment_details="Haircut on 1 March",
        session_timeout_secs=900,
        force3ds=True,
        cart=a_cart(),
    )
    make_client(bank).register(request, "ru")

    body = bank.body()
    assert body["viewType"] == "WEB_VIEW"
    assert body["paymentDetails"] == "Haircut on 1 March"
    assert body["sessionTimeoutSecs"] == 900
    assert body["paymentParams"] == {
        "payType": "TWO_STEP",
        "operationType": "PAYMENT",
        "force3ds": True,
    }
    assert body["merchantParams"] == {
        "cart": {
            "cartId": "cart-1",
            "receiptType": "PURCHASE",
            "total": 15_000_000,
            "items": [
                {
                    "title": "Haircut",
                    "productId": "svc-1",
                    "quantity": 1,
                    "unitPrice": 10_000_000,
                    "total": 10_000_000,
                    "receiptParams": {
                        "spic": "10305001001000000",
                        "packageCode": "1501",
                        "vatPercent": 12,
                        "TIN": "123456789",
                    },
                },
                {
                    "title": "Shampoo",
                    "productId": "prd-7",
                    "quantity": 2,
                    "unitPrice": 2_500_000,
                    "total": 5_000_000,
                    "receiptParams": {
                        "spic": "10305002001000000",
                        "packageCode": "1502",
                        "vatPercent": 0,
                        "PINFL": "12345678901234",
                    },
                },
            ],
        }
    }
    assert bank.requests[0].headers["Content-Language"] == "ru-RU"


@pytest.mark.parametrize(
    ("language", "header"),
    [
        ("ru", "ru-RU"),
        ("uz", "uz-UZ"),
        ("en", "en-EN"),
        ("ru-RU", "ru-RU"),
        ("uz-UZ", "uz-UZ"),
        ("en-EN", "en-EN"),
        ("en-us", "en-EN"),
        ("uz-Latn", "uz-UZ"),
        ("RU", "ru-RU"),
    ],
)
def test_content_language_maps_our_languages_to_the_banks_values(language, header):
    assert content_language(language) == header


def test_an_unsupported_language_is_refused_before_calling():
    bank = Bank()
    with pytest.raises(ValueError, match="language"):
        make_client(bank).register(register_request(), "de")
    assert bank.requests == []


def test_receipt_params_take_exactly_one_of_tin_or_pinfl():
    with pytest.raises(ValueError):
        ReceiptParams(spic="1" * 17, package_code="1", vat_percent=12)
    with pytest.raises(ValueError):
        ReceiptParams(spic="1" * 17, package_code="1", vat_percent=12, tin="1", pinfl="2")


def test_amounts_must_be_integer_tiyin():
    with pytest.raises(TypeError):
        register_request(amount=150.0)
    with pytest.raises(TypeError):
        register_request(amount=True)
    bank = Bank()
    with pytest.raises(TypeError):
        make_client(bank).refund(ORDER_ID, 10.5, OPERATION_ID)
    assert bank.requests == []


@pytest.mark.parametrize("endpoint", ["complete", "reverse", "refund"])
def test_money_calls_send_the_callers_operation_id(endpoint):
    bank = Bank(envelope({"operationId": str(OPERATION_ID)}))
    key = uuid.uuid4()
    result = getattr(make_client(bank), endpoint)(ORDER_ID, 5_000_000, key)

    assert result == OperationResult(operation_id=OPERATION_ID)
    (request,) = bank.requests
    assert str(request.url) == f"{BASE}/api/v1/acquiring/{endpoint}"
    assert request.headers["X-Operation-Id"] == str(key)
    assert request.headers["X-Terminal-Id"] == TERMINAL
    assert request.headers["X-API-Key"] == KEY
    assert "Content-Language" not in request.headers
    assert bank.body() == {"orderId": str(ORDER_ID), "amount": 5_000_000}


def test_refund_sends_its_cart():
    bank = Bank(envelope({"operationId": str(OPERATION_ID)}))
    make_client(bank).refund(ORDER_ID, 15_000_000, str(uuid.uuid4()), cart=a_cart())
    assert bank.body()["cart"]["total"] == 15_000_000
    assert bank.body()["cart"]["items"][1]["receiptParams"]["PINFL"] == "12345678901234"


@pytest.mark.parametrize("bad", [None, "", "not-a-uuid", "12345"])
@pytest.mark.parametrize("endpoint", ["complete", "reverse", "refund"])
def test_money_calls_refuse_to_go_without_an_operation_id(endpoint, bad):
    bank = Bank()
    with pytest.raises(ValueError, match="operation_id"):
        getattr(make_client(bank), endpoint)(ORDER_ID, 100, bad)
    assert bank.requests == []


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get_order_status", "payment/getOrderStatus", {"orderId": str(ORDER_ID)}),
        ("get_receipts", "payment/getReceipts", {"orderId": str(ORDER_ID)}),
    ],
)
def test_reads_send_only_the_terminal_headers(method, path, body):
    bank = Bank(envelope(STATUS_RESULT | {"receipts": []}))
    getattr(make_client(bank), method)(str(ORDER_ID))
    (request,) = bank.requests
    assert str(request.url) == f"{BASE}/api/v1/{path}"
    assert request.headers["X-Terminal-Id"] == TERMINAL
    assert request.headers["X-API-Key"] == KEY
    assert "X-Operation-Id" not in request.headers
    assert "Content-Language" not in request.headers
    assert bank.body() == body


# ------------------------------------------------------------ results: what comes back


def test_order_status_is_unwrapped_into_its_dataclass():
    bank = Bank(envelope(STATUS_RESULT))
    status = make_client(bank).get_order_status(ORDER_ID)

    assert isinstance(status, OrderStatus)
    assert status.order_id == ORDER_ID
    assert status.status is OrderState.COMPLETED
    assert status.merchant_order_id == "NB-2025-0001"
    assert (status.amount, status.total_amount) == (15_000_000, 10_000_000)
    assert (status.completed_amount, status.refunded_amount, status.reversed_amount) == (
        15_000_000,
        5_000_000,
        0,
    )
    assert status.refundable_amount == 10_000_000
    assert (status.card_type, status.action_code, status.ips, status.approval_code) == (
        2,
        0,
        "UZCARD",
        "123456",
    )
    assert status.binding_id is None
    assert status.masked_pan == "860000******0018"
    first, second = status.operations
    assert first == Operation(
        operation_id=OPERATION_ID,
        operation_type=OperationType.COMPLETE,
        state=OperationState.SUCCESS,
        start_at=datetime(2025, 3, 1, 5, 0, tzinfo=UTC),
        done_at=datetime(2025, 3, 1, 5, 0, 2, tzinfo=UTC),
        merchant_operation_id=None,
        rrn="123456789012",
        action_code_description=None,
    )
    assert second.operation_type is OperationType.REFUND
    assert second.start_at == datetime(2025, 3, 1, 6, 0, tzinfo=UTC)  # epoch milliseconds
    assert second.done_at is None
    assert second.merchant_operation_id == "9d1c7a3e-0c59-4e8e-9f5d-0a1b2c3d4e5f"


def test_a_time_without_offset_is_read_as_tashkent_time():
    result = STATUS_RESULT | {
        "operations": [STATUS_RESULT["operations"][0] | {"startAt": "2025-03-01T10:00:00"}]
    }
    status = make_client(Bank(envelope(result))).get_order_status(ORDER_ID)
    assert status.operations[0].start_at == datetime(
        2025, 3, 1, 10, 0, tzinfo=timezone(timedelta(hours=5))
    )


@pytest.mark.parametrize(
    "moment", [10**20, -(10**20), 253402300800000, "9999-12-31T23:59:59-23:59", "+10000-01-01"]
)
def test_a_time_past_the_calendar_is_a_malformed_answer(moment):
    """Out of the calendar's range (epoch overflow, a year past 9999): the answer is
    malformed, never an OverflowError that escapes the client."""
    result = STATUS_RESULT | {"operations": [STATUS_RESULT["operations"][0] | {"startAt": moment}]}
    with pytest.raises(MalformedAnswer):
        status = make_client(Bank(envelope(result))).get_order_status(ORDER_ID)
        # An aware time that reads fine may still overflow when moved to UTC.
        status.operations[0].start_at.astimezone(UTC)


def test_a_minimal_status_fills_the_optional_fields():
    result = {"orderId": str(ORDER_ID), "status": "REGISTERED", "amount": 500}
    status = make_client(Bank(envelope(result))).get_order_status(ORDER_ID)
    assert status.status is OrderState.REGISTERED
    assert (status.total_amount, status.completed_amount, status.refunded_amount) == (500, 0, 0)
    assert status.operations == ()
    assert status.ips is None and status.card_type is None and status.action_code is None
    assert status.refundable_amount == 0


def test_operation_state_is_unwrapped():
    bank = Bank(envelope({"operation": STATUS_RESULT["operations"][1]}))
    operation = make_client(bank).get_operation_state(str(OPERATION_ID))
    assert operation.operation_type is OperationType.REFUND
    assert operation.state is OperationState.SUCCESS
    assert operation.rrn == "123456789013"
    assert bank.body() == {"operationId": str(OPERATION_ID)}
    assert str(bank.requests[0].url) == f"{BASE}/api/v1/payment/getOperationState"


def test_receipts_are_unwrapped():
    bank = Bank(
        envelope(
            {
                "receipts": [
                    {"receiptUrl": "https://ofd.soliq.uz/check?a=1", "receiptType": "PURCHASE"},
                    {"receiptUrl": "https://ofd.soliq.uz/check?a=2", "receiptType": "REFUND"},
                ]
            }
        )
    )
    assert make_client(bank).get_receipts(ORDER_ID) == [
        Receipt("https://ofd.soliq.uz/check?a=1", ReceiptType.PURCHASE),
        Receipt("https://ofd.soliq.uz/check?a=2", ReceiptType.REFUND),
    ]


# ------------------------------------------------------------------------- bank errors


@pytest.mark.parametrize(("code", "cls"), sorted(ERRORS_BY_CODE.items()))
def test_each_error_code_raises_its_named_exception(code, cls):
    bank = Bank(envelope(None, code=code, message=f"bank says {code}"))
    with pytest.raises(cls) as caught:
        make_client(bank).get_order_status(ORDER_ID)
    error = caught.value
    assert isinstance(error, CheckoutError)
    assert type(error) is cls
    assert (error.code, error.message, error.endpoint) == (
        code,
        f"bank says {code}",
        "payment/getOrderStatus",
    )
    assert str(code) in str(error)
    assert len(bank.requests) == 1  # a bank answer is never retried


def test_the_documented_codes_have_their_names():
    expected = {
        2000: "ValidationFailed",
        3000: "InvalidOrderState",
        3004: "PayTypeNotAllowed",
        3005: "OrderNotFound",
        3008: "DeclinedInsufficientFunds",
        3009: "DeclinedAntifraud",
        3011: "DeclinedByIssuer",
        3015: "CardBrandNotAllowed",
        3019: "ReverseAmountInvalid",
        3021: "RefundExceedsAmount",
        3027: "DuplicateOrderNumber",
        3028: "OperationIdReused",
        3030: "CompleteNotAllowed",
        3035: "OperationNotFound",
        3036: "ReverseNotAllowed",
        3041: "SessionExpired",
        3045: "CartRequired",
        3046: "CartProductUnknown",
        3058: "CartNotAllowed",
        3059: "CartTotalMismatch",
        1006: "AuthenticationFailed",
        3001: "TerminalNotFound",
    }
    assert {code: cls.__name__ for code, cls in ERRORS_BY_CODE.items()} == expected
    for code in (3008, 3009, 3011):
        assert issubclass(ERRORS_BY_CODE[code], Declined)


def test_an_unknown_code_raises_unknown_checkout_error_with_code_and_message():
    bank = Bank(envelope(None, code=9999, message="Something new"))
    with pytest.raises(UnknownCheckoutError) as caught:
        make_client(bank).complete(ORDER_ID, 100, OPERATION_ID)
    assert (caught.value.code, caught.value.message) == (9999, "Something new")
    assert len(bank.requests) == 1
    assert isinstance(error_for(1234, "x"), UnknownCheckoutError)


def test_an_error_code_given_as_text_is_still_an_error():
    bank = Bank({"errorCode": "3005", "message": "Order not found", "result": None})
    with pytest.raises(OrderNotFound):
        make_client(bank).get_order_status(ORDER_ID)


def test_an_error_without_message_has_empty_text():
    bank = Bank({"errorCode": 3000, "result": None})
    with pytest.raises(CheckoutError) as caught:
        make_client(bank).refund(ORDER_ID, 1, OPERATION_ID)
    assert caught.value.message == ""


def test_the_banks_message_is_scrubbed_of_the_key_and_card_numbers():
    message = f"bad key {KEY} for card 8600 0000 0000 0018 / 9860090101219724"
    bank = Bank(envelope(None, code=2000, message=message))
    with pytest.raises(CheckoutError) as caught:
        make_client(bank).get_order_status(ORDER_ID)
    text = str(caught.value) + repr(caught.value) + caught.value.message
    assert KEY not in text
    assert "8600 0000 0000 0018" not in text and "9860090101219724" not in text
    assert "****" in text


def test_verify_credentials_passes_on_not_found_and_fails_on_auth():
    make_client(Bank(envelope(None, code=3005, message="Order not found"))).verify_credentials()
    # What the bank answers to wrong keys is unknown: 1006 (insufficient rights, the
    # sandbox's answer) and 3001 (terminal not found) both mean the keys were refused.
    for code in (1006, 3001):
        with pytest.raises(AuthenticationFailed):
            make_client(Bank(envelope(None, code=code, message="No"))).verify_credentials()


# ------------------------------------------------------------------ malformed answers


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(200, text="<html>gateway</html>"),
        httpx.Response(200, json=["errorCode", 0]),
        httpx.Response(200, json={"message": None, "result": {}}),
        httpx.Response(200, json={"errorCode": None, "result": {}}),
        httpx.Response(200, json={"errorCode": True, "result": {}}),
        httpx.Response(200, json={"errorCode": 0, "message": None, "result": None}),
        httpx.Response(200, json={"errorCode": 0, "result": "COMPLETED"}),
        httpx.Response(200, json=envelope({"orderId": str(ORDER_ID), "status": "COMPLETED"})),
        httpx.Response(200, json=envelope(STATUS_RESULT | {"status": "TELEPORTED"})),
        httpx.Response(200, json=envelope(STATUS_RESULT | {"orderId": "nope"})),
        httpx.Response(200, json=envelope(STATUS_RESULT | {"amount": "15000000"})),
        httpx.Response(200, json=envelope(STATUS_RESULT | {"operations": [{"state": "X"}]})),
        httpx.Response(404, text="not found"),
        httpx.Response(400, json=envelope(None, code=2000)),
    ],
)
def test_anything_but_the_envelope_is_a_malformed_answer(answer):
    bank = Bank(answer)
    with pytest.raises(MalformedAnswer) as caught:
        make_client(bank, read_retries=3).get_order_status(ORDER_ID)
    assert isinstance(caught.value, TransportError)
    assert len(bank.requests) == 1  # not retried: repeating will not fix it


def test_a_register_result_without_the_redirect_url_is_malformed():
    bank = Bank(envelope({"orderId": str(ORDER_ID)}))
    with pytest.raises(MalformedAnswer, match="paymentRedirectUrl"):
        make_client(bank).register(register_request(), "en")


def test_a_money_result_without_operation_id_is_malformed():
    with pytest.raises(MalformedAnswer):
        make_client(Bank(envelope({}))).complete(ORDER_ID, 1, OPERATION_ID)


# ------------------------------------------------------------------ transport failures


@pytest.mark.parametrize("status", [500, 502, 503, 504, 429])
def test_5xx_is_bank_unavailable(status):
    bank = Bank(httpx.Response(status, text="oops"))
    with pytest.raises(BankUnavailable) as caught:
        make_client(bank, read_retries=0).get_order_status(ORDER_ID)
    assert caught.value.http_status == status
    assert caught.value.retryable


def test_403_is_forbidden_and_not_retried():
    bank = Bank(httpx.Response(403, text="Forbidden"))
    with pytest.raises(Forbidden):
        make_client(bank).get_order_status(ORDER_ID)
    assert len(bank.requests) == 1


@pytest.mark.parametrize(
    ("failure", "cls"),
    [
        (httpx.ReadTimeout("timed out"), BankTimeout),
        (httpx.WriteTimeout("timed out"), BankTimeout),
        (httpx.ConnectTimeout("timed out"), BankUnavailable),
        (httpx.PoolTimeout("timed out"), BankUnavailable),
        (httpx.ConnectError("refused"), BankUnavailable),
        (httpx.ReadError("reset"), BankUnavailable),
        (httpx.RemoteProtocolError("closed"), BankUnavailable),
    ],
)
def test_transport_failures_map_to_bank_timeout_or_unavailable(failure, cls):
    bank = Bank(failure)
    with pytest.raises(cls) as caught:
        make_client(bank).register(register_request(), "ru")
    assert type(caught.value) is cls
    assert caught.value.endpoint == "payment/register"


def test_a_real_socket_that_never_answers_is_a_bank_timeout():
    """Not a mock: a server that accepts and says nothing, and the client's own timeout."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted = []

    def accept():
        connection, _ = server.accept()
        accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    host, port = server.getsockname()
    client = CheckoutClient(f"http://{host}:{port}", TERMINAL, KEY, timeout=0.3)
    try:
        with pytest.raises(BankTimeout):
            client.complete(ORDER_ID, 100, OPERATION_ID)
    finally:
        client.close()
        thread.join(2)
        for connection in accepted:
            connection.close()
        server.close()


def test_a_closed_port_is_bank_unavailable():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    host, port = probe.getsockname()
    probe.close()
    client = CheckoutClient(f"http://{host}:{port}", TERMINAL, KEY, read_retries=0)
    with client, pytest.raises(BankUnavailable):
        client.get_order_status(ORDER_ID)


# ------------------------------------------------------------------------------ retries


@pytest.mark.parametrize("method", ["get_order_status", "get_receipts"])
def test_reads_retry_on_unavailable_and_timeout(method, sleeps):
    bank = Bank(
        httpx.Response(503),
        httpx.ReadTimeout("slow"),
        envelope(STATUS_RESULT | {"receipts": []}),
    )
    getattr(make_client(bank, sleeps, read_retries=2), method)(ORDER_ID)
    assert len(bank.requests) == 3
    assert all(bank.body(i) == bank.body(0) for i in range(3))


def test_operation_state_reads_retry_too():
    bank = Bank(
        httpx.ConnectError("refused"), envelope({"operation": STATUS_RESULT["operations"][0]})
    )
    make_client(bank, read_retries=1).get_operation_state(OPERATION_ID)
    assert len(bank.requests) == 2


def test_reads_give_up_after_their_retries_with_growing_backoff(sleeps):
    bank = Bank(httpx.Response(502))
    with pytest.raises(BankUnavailable):
        make_client(bank, sleeps, read_retries=3, retry_backoff=0.25).get_order_status(ORDER_ID)
    assert len(bank.requests) == 4
    assert sleeps == [0.25, 0.5, 1.0]


def test_reads_do_not_retry_a_bank_answer():
    bank = Bank(envelope(None, code=3005, message="Order not found"), envelope(STATUS_RESULT))
    with pytest.raises(OrderNotFound):
        make_client(bank, read_retries=5).get_order_status(ORDER_ID)
    assert len(bank.requests) == 1


@pytest.mark.parametrize("endpoint", ["complete", "reverse", "refund"])
def test_money_calls_retry_with_the_same_operation_id_and_body(endpoint):
    bank = Bank(httpx.ReadTimeout("slow"), envelope({"operationId": str(OPERATION_ID)}))
    key = uuid.uuid4()
    result = getattr(make_client(bank), endpoint)(ORDER_ID, 7_000, key)
    assert result.operation_id == OPERATION_ID
    first, second = bank.requests
    assert first.headers["X-Operation-Id"] == second.headers["X-Operation-Id"] == str(key)
    assert first.content == second.content
    assert first.url == second.url


def test_money_calls_retry_once_by_default_then_raise():
    bank = Bank(httpx.Response(503))
    with pytest.raises(BankUnavailable):
        make_client(bank).refund(ORDER_ID, 100, OPERATION_ID)
    assert len(bank.requests) == 2
    assert {r.headers["X-Operation-Id"] for r in bank.requests} == {str(OPERATION_ID)}


def test_money_retries_are_configurable():
    bank = Bank(httpx.ReadTimeout("slow"))
    with pytest.raises(BankTimeout):
        make_client(bank, money_retries=3).complete(ORDER_ID, 100, OPERATION_ID)
    assert len(bank.requests) == 4
    bank = Bank(httpx.ReadTimeout("slow"))
    with pytest.raises(BankTimeout):
        make_client(bank, money_retries=0).reverse(ORDER_ID, 100, OPERATION_ID)
    assert len(bank.requests) == 1


def test_money_calls_do_not_retry_a_bank_answer():
    bank = Bank(envelope(None, code=3021, message="too much"))
    with pytest.raises(CheckoutError):
        make_client(bank, money_retries=3).refund(ORDER_ID, 100, OPERATION_ID)
    assert len(bank.requests) == 1


@pytest.mark.parametrize(
    "failure", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(503)]
)
def test_register_never_retries(failure):
    bank = Bank(failure, envelope({"orderId": str(ORDER_ID), "paymentRedirectUrl": "https://p/1"}))
    with pytest.raises((BankTimeout, BankUnavailable)):
        make_client(bank, read_retries=5, money_retries=5).register(register_request(), "ru")
    assert len(bank.requests) == 1


# --------------------------------------------------------------- construction, secrets


def test_repr_masks_the_api_key():
    client = make_client(Bank())
    assert KEY not in repr(client)
    assert KEY not in str(client)
    assert "api_key='***'" in repr(client)
    assert KEY not in repr(vars(client))


def test_trailing_slashes_and_base_urls_per_connection():
    assert default_checkout_url("sandbox") == (
        settings.NAVBAT_PUBLIC_URL + "/sandbox/uzum/checkout"
    )
    assert default_checkout_url("test") == TEST_BASE_URL
    assert default_checkout_url("production") == PRODUCTION_BASE_URL
    assert base_url_for("test") == TEST_BASE_URL == "https://test-chk-api.uzumcheckout.uz"
    assert base_url_for("production") == PRODUCTION_BASE_URL
    assert PRODUCTION_BASE_URL == "https://checkout-key.inplat-tech.com"
    with pytest.raises(ValueError):
        base_url_for("sandbox")
    with pytest.raises(ValueError):
        base_url_for("staging")


def test_an_injected_http_client_is_used_and_not_closed():
    bank = Bank(envelope(STATUS_RESULT))
    http = httpx.Client(transport=httpx.MockTransport(bank))
    with CheckoutClient(BASE, TERMINAL, KEY, http_client=http) as client:
        client.get_order_status(ORDER_ID)
    assert len(bank.requests) == 1
    assert not http.is_closed
    http.close()


def test_a_transport_and_a_client_together_are_refused():
    with pytest.raises(ValueError):
        CheckoutClient(
            BASE,
            TERMINAL,
            KEY,
            transport=httpx.MockTransport(Bank()),
            http_client=httpx.Client(),
        )


def test_log_lines_name_endpoint_ids_code_and_duration_never_the_key(caplog):
    caplog.set_level("DEBUG")
    bank = Bank(
        envelope({"orderId": str(ORDER_ID), "paymentRedirectUrl": "https://p/1"}),
        envelope(STATUS_RESULT),
        envelope(None, code=3021, message=f"too much {KEY}"),
    )
    client = make_client(bank)
    client.register(register_request(), "ru")
    client.get_order_status(ORDER_ID)
    with pytest.raises(CheckoutError):
        client.refund(ORDER_ID, 1, OPERATION_ID)

    lines = [r.getMessage() for r in caplog.records if r.name == "navbat.uzum.checkout"]
    assert len(lines) == 3
    assert "payment/register" in lines[0] and "orderNumber=NB-2025-0001" in lines[0]
    assert f"orderId={ORDER_ID}" in lines[0] and "errorCode=0" in lines[0]
    assert "payment/getOrderStatus" in lines[1] and "status=COMPLETED" in lines[1]
    assert "acquiring/refund" in lines[2] and "errorCode=3021" in lines[2]
    assert f"operationKey={OPERATION_ID}" in lines[2]
    assert all("duration_ms=" in line for line in lines)
    assert all(KEY not in r.getMessage() and KEY not in str(r.args) for r in caplog.records)
