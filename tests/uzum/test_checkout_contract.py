"""Contract tests: the production Checkout client against the sandbox bank over real HTTP
requests and answers, one per endpoint and per documented error code, and the payment
sequences with exact amounts at every step (uzum-bank.md §1). The bank answers in this
process (httpx over WSGI); the tests marked ``over_a_socket`` reach it through a live server."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.uzum.checkout import (
    AuthenticationFailed,
    CardType,
    Cart,
    CartItem,
    CartNotAllowed,
    CartProductUnknown,
    CartRequired,
    CartTotalMismatch,
    CompleteNotAllowed,
    DuplicateOrderNumber,
    Forbidden,
    InvalidOrderState,
    OperationIdReused,
    OperationState,
    OperationType,
    OrderNotFound,
    OrderState,
    PayType,
    PayTypeNotAllowed,
    ReceiptParams,
    ReceiptType,
    RefundExceedsAmount,
    ReverseNotAllowed,
    SessionExpired,
    ValidationFailed,
    ViewType,
)

from .sandbox import AMOUNT, order_request, over_a_socket, pay

pytestmark = pytest.mark.django_db


def amounts(status):
    return {
        "amount": status.amount,
        "totalAmount": status.total_amount,
        "completedAmount": status.completed_amount,
        "refundedAmount": status.refunded_amount,
        "reversedAmount": status.reversed_amount,
    }


def steps(status):
    return [(op.operation_type, op.state) for op in status.operations]


def fiscal_cart(total=AMOUNT, product_ids=("svc-1", "prd-1"), receipt_type=ReceiptType.PURCHASE):
    first = total * 2 // 3
    parts = [first, total - first]
    return Cart(
        cart_id=f"cart-{uuid.uuid4().hex[:8]}",
        total=total,
        receipt_type=receipt_type,
        items=[
            CartItem(
                title=f"Item {product_id}",
                product_id=product_id,
                quantity=1,
                unit_price=part,
                total=part,
                receipt_params=ReceiptParams(
                    spic="10305001001000000", package_code="1501", vat_percent=12, tin="123456789"
                ),
            )
            for product_id, part in zip(product_ids, parts, strict=True)
        ],
    )


def register_paid(checkout, **overrides):
    registered = checkout.register(order_request(**overrides), "ru")
    pay(registered.order_id)
    return registered.order_id


# ---------------------------------------------------------------------- one per endpoint


@over_a_socket
def test_register_answers_the_order_id_and_a_payment_page(checkout, http):
    request = order_request()
    registered = checkout.register(request, "uz")

    assert isinstance(registered.order_id, uuid.UUID)
    assert registered.payment_redirect_url.startswith(("http://", "https://"))
    page = http.get(registered.payment_redirect_url, follow_redirects=True)
    assert page.status_code == 200
    status = checkout.get_order_status(registered.order_id)
    assert status.status is OrderState.REGISTERED
    assert status.merchant_order_id == request.order_number
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": AMOUNT,
        "completedAmount": 0,
        "refundedAmount": 0,
        "reversedAmount": 0,
    }
    assert status.operations == ()


@pytest.mark.parametrize("language", ["ru", "uz", "en"])
@pytest.mark.parametrize("view_type", [ViewType.REDIRECT, ViewType.WEB_VIEW, ViewType.IFRAME])
def test_register_takes_every_language_and_view_type(checkout, language, view_type):
    registered = checkout.register(order_request(view_type=view_type), language)
    assert checkout.get_order_status(registered.order_id).status is OrderState.REGISTERED


def test_get_order_status_of_a_paid_order(checkout):
    order_id = register_paid(checkout)
    status = checkout.get_order_status(order_id)

    assert status.order_id == order_id
    assert status.status is OrderState.COMPLETED
    assert status.ips == "UZCARD"
    assert status.card_type == CardType.PERSONAL
    assert status.action_code in (0, None)
    assert status.approval_code
    (operation,) = status.operations
    assert (operation.operation_type, operation.state) == (
        OperationType.COMPLETE,
        OperationState.SUCCESS,
    )
    assert operation.rrn and len(operation.rrn) == 12
    assert operation.start_at is not None and operation.start_at.tzinfo is not None


def test_get_operation_state(checkout):
    order_id = register_paid(checkout)
    listed = checkout.get_order_status(order_id).operations[0]

    operation = checkout.get_operation_state(listed.operation_id)
    assert operation == listed


def test_get_receipts(make_terminal, client_for):
    checkout = client_for(make_terminal(auto_fiscal=True))
    order_id = checkout.register(order_request(cart=fiscal_cart()), "ru").order_id
    assert checkout.get_receipts(order_id) == []
    pay(order_id)
    receipts = checkout.get_receipts(order_id)
    assert [r.receipt_type for r in receipts] == [ReceiptType.PURCHASE]
    assert receipts[0].receipt_url.startswith("https://")
    checkout.refund(order_id, AMOUNT, uuid.uuid4(), cart=fiscal_cart())
    assert [r.receipt_type for r in checkout.get_receipts(order_id)] == [
        ReceiptType.PURCHASE,
        ReceiptType.REFUND,
    ]


def test_get_receipts_is_empty_on_a_terminal_without_automatic_receipts(checkout):
    order_id = register_paid(checkout)
    checkout.refund(order_id, 1_000_000, uuid.uuid4())
    assert checkout.get_receipts(order_id) == []


def test_complete(checkout):
    order_id = register_paid(checkout, pay_type=PayType.TWO_STEP)
    result = checkout.complete(order_id, AMOUNT, uuid.uuid4())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.COMPLETED
    assert status.operations[-1].operation_id == result.operation_id


def test_reverse(checkout):
    order_id = register_paid(checkout, pay_type=PayType.TWO_STEP)
    result = checkout.reverse(order_id, AMOUNT, uuid.uuid4())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REVERSED
    assert status.operations[-1].operation_id == result.operation_id


def test_refund(checkout):
    order_id = register_paid(checkout)
    result = checkout.refund(order_id, AMOUNT, uuid.uuid4())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REFUNDED
    assert status.operations[-1].operation_id == result.operation_id
    assert checkout.get_operation_state(result.operation_id).operation_type is (
        OperationType.REFUND
    )


def test_verify_credentials(checkout, client_for, terminal):
    checkout.verify_credentials()
    with pytest.raises(AuthenticationFailed):
        client_for(terminal, api_key="0" * 64).verify_credentials()


# ---------------------------------------------------------------------------- sequences


@over_a_socket
def test_one_step_sequence_with_exact_amounts(checkout):
    registered = checkout.register(order_request(), "en")
    assert amounts(checkout.get_order_status(registered.order_id)) == {
        "amount": AMOUNT,
        "totalAmount": AMOUNT,
        "completedAmount": 0,
        "refundedAmount": 0,
        "reversedAmount": 0,
    }

    pay(registered.order_id)
    status = checkout.get_order_status(registered.order_id)
    assert status.status is OrderState.COMPLETED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": AMOUNT,
        "completedAmount": AMOUNT,
        "refundedAmount": 0,
        "reversedAmount": 0,
    }
    assert steps(status) == [(OperationType.COMPLETE, OperationState.SUCCESS)]


@over_a_socket
def test_two_step_sequence_with_exact_amounts(checkout):
    registered = checkout.register(order_request(pay_type=PayType.TWO_STEP), "ru")
    pay(registered.order_id)

    status = checkout.get_order_status(registered.order_id)
    assert status.status is OrderState.AUTHORIZED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": AMOUNT,
        "completedAmount": 0,
        "refundedAmount": 0,
        "reversedAmount": 0,
    }
    assert steps(status) == [(OperationType.AUTHORIZE, OperationState.SUCCESS)]

    key = uuid.uuid4()
    completed = checkout.complete(registered.order_id, AMOUNT, key)
    status = checkout.get_order_status(registered.order_id)
    assert status.status is OrderState.COMPLETED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": AMOUNT,
        "completedAmount": AMOUNT,
        "refundedAmount": 0,
        "reversedAmount": 0,
    }
    assert steps(status) == [
        (OperationType.AUTHORIZE, OperationState.SUCCESS),
        (OperationType.COMPLETE, OperationState.SUCCESS),
    ]
    assert status.operations[-1].operation_id == completed.operation_id

    # Completing again with the same operation id is the same operation, not a second one.
    assert checkout.complete(registered.order_id, AMOUNT, key) == completed
    assert len(checkout.get_order_status(registered.order_id).operations) == 2

    refunded = checkout.refund(registered.order_id, AMOUNT, uuid.uuid4())
    status = checkout.get_order_status(registered.order_id)
    assert status.status is OrderState.REFUNDED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": 0,
        "completedAmount": AMOUNT,
        "refundedAmount": AMOUNT,
        "reversedAmount": 0,
    }
    assert status.operations[-1].operation_id == refunded.operation_id


def test_two_step_reverse_sequence(checkout):
    order_id = register_paid(checkout, pay_type=PayType.TWO_STEP)
    checkout.reverse(order_id, AMOUNT, uuid.uuid4())

    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REVERSED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": AMOUNT,  # uzum-bank.md: totalAmount = amount − refunded
        "completedAmount": 0,
        "refundedAmount": 0,
        "reversedAmount": AMOUNT,
    }
    assert steps(status) == [
        (OperationType.AUTHORIZE, OperationState.SUCCESS),
        (OperationType.REVERSE, OperationState.SUCCESS),
    ]
    # Nothing to refund or complete after a reversal.
    with pytest.raises(InvalidOrderState):
        checkout.refund(order_id, AMOUNT, uuid.uuid4())
    with pytest.raises(InvalidOrderState):
        checkout.complete(order_id, AMOUNT, uuid.uuid4())


def test_two_step_partial_completion(checkout):
    order_id = register_paid(checkout, pay_type=PayType.TWO_STEP)
    checkout.complete(order_id, 12_000_000, uuid.uuid4())

    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.COMPLETED
    assert (status.amount, status.total_amount, status.completed_amount) == (
        AMOUNT,
        AMOUNT,
        12_000_000,
    )
    assert status.refunded_amount == 0
    assert status.refundable_amount == 12_000_000
    with pytest.raises(RefundExceedsAmount):
        checkout.refund(order_id, 12_000_001, uuid.uuid4())


def test_partial_refund_sequence_with_exact_amounts(checkout):
    order_id = register_paid(checkout)

    checkout.refund(order_id, 4_000_000, uuid.uuid4())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.COMPLETED  # partial refunds keep COMPLETED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": 11_000_000,
        "completedAmount": AMOUNT,
        "refundedAmount": 4_000_000,
        "reversedAmount": 0,
    }

    checkout.refund(order_id, 6_000_000, uuid.uuid4())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.COMPLETED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": 5_000_000,
        "completedAmount": AMOUNT,
        "refundedAmount": 10_000_000,
        "reversedAmount": 0,
    }

    with pytest.raises(RefundExceedsAmount):
        checkout.refund(order_id, 5_000_001, uuid.uuid4())
    assert checkout.get_order_status(order_id).refunded_amount == 10_000_000

    checkout.refund(order_id, 5_000_000, uuid.uuid4())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REFUNDED  # the refund that reaches the amount
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": 0,
        "completedAmount": AMOUNT,
        "refundedAmount": AMOUNT,
        "reversedAmount": 0,
    }
    assert steps(status) == [
        (OperationType.COMPLETE, OperationState.SUCCESS),
        (OperationType.REFUND, OperationState.SUCCESS),
        (OperationType.REFUND, OperationState.SUCCESS),
        (OperationType.REFUND, OperationState.SUCCESS),
    ]
    assert all(op.rrn for op in status.operations)


def test_full_refund_sequence_with_exact_amounts(checkout):
    order_id = register_paid(checkout)
    checkout.refund(order_id, AMOUNT, uuid.uuid4())

    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REFUNDED
    assert amounts(status) == {
        "amount": AMOUNT,
        "totalAmount": 0,
        "completedAmount": AMOUNT,
        "refundedAmount": AMOUNT,
        "reversedAmount": 0,
    }
    assert steps(status) == [
        (OperationType.COMPLETE, OperationState.SUCCESS),
        (OperationType.REFUND, OperationState.SUCCESS),
    ]


def test_auto_fiscal_sequence_with_carts(make_terminal, client_for):
    checkout = client_for(make_terminal(auto_fiscal=True))
    order_id = register_paid(checkout, cart=fiscal_cart())
    assert [r.receipt_type for r in checkout.get_receipts(order_id)] == [ReceiptType.PURCHASE]

    checkout.refund(order_id, AMOUNT, uuid.uuid4(), cart=fiscal_cart())
    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REFUNDED
    assert (status.total_amount, status.refunded_amount) == (0, AMOUNT)
    assert [r.receipt_type for r in checkout.get_receipts(order_id)] == [
        ReceiptType.PURCHASE,
        ReceiptType.REFUND,
    ]


@pytest.mark.parametrize(
    ("card", "code"),
    [("8600000000003008", 3008), ("9860000000003009", 3009), ("8600000000003011", 3011)],
)
def test_a_declined_attempt_leaves_the_order_registered_with_its_action_code(checkout, card, code):
    order_id = checkout.register(order_request(), "ru").order_id
    pay(order_id, card=card)

    status = checkout.get_order_status(order_id)
    assert status.status is OrderState.REGISTERED
    assert status.action_code == code
    assert status.completed_amount == 0
    assert steps(status) == [(OperationType.AUTHORIZE, OperationState.FAIL)]
    # The client may try another card.
    pay(order_id)
    assert checkout.get_order_status(order_id).status is OrderState.COMPLETED


# ------------------------------------------------------------------ one per error code


@pytest.mark.parametrize(
    "overrides",
    [
        {"amount": 0},
        {"amount": 1_000_000_000_000},
        {"session_timeout_secs": 599},
        {"session_timeout_secs": 1801},
        {"order_number": ""},
        {"order_number": "x" * 37},
        {"payment_details": "x" * 1025},
        {"success_url": None},
        {"failure_url": None},
        {"success_url": "not a url"},
        {"currency": 840},
    ],
    ids=lambda overrides: ",".join(f"{k}={str(v)[:12]}" for k, v in overrides.items()),
)
def test_2000_validation_failed(checkout, overrides):
    with pytest.raises(ValidationFailed) as caught:
        checkout.register(order_request(**overrides), "ru")
    assert caught.value.code == 2000


def test_3000_refund_of_a_refunded_order(checkout):
    order_id = register_paid(checkout)
    checkout.refund(order_id, AMOUNT, uuid.uuid4())
    with pytest.raises(InvalidOrderState) as caught:
        checkout.refund(order_id, 1, uuid.uuid4())
    assert caught.value.code == 3000


def test_3000_refund_of_an_unpaid_order(checkout):
    order_id = checkout.register(order_request(), "ru").order_id
    with pytest.raises(InvalidOrderState):
        checkout.refund(order_id, 1, uuid.uuid4())


def test_3004_pay_type_not_allowed(make_terminal, client_for):
    checkout = client_for(make_terminal(pay_types=["ONE_STEP"]))
    with pytest.raises(PayTypeNotAllowed) as caught:
        checkout.register(order_request(pay_type=PayType.TWO_STEP), "ru")
    assert caught.value.code == 3004


def test_3005_order_not_found(checkout):
    with pytest.raises(OrderNotFound) as caught:
        checkout.get_order_status(uuid.uuid4())
    assert caught.value.code == 3005
    with pytest.raises(OrderNotFound):
        checkout.refund(uuid.uuid4(), 100, uuid.uuid4())


def test_3005_another_terminals_order_is_not_found(checkout, make_terminal, client_for):
    order_id = register_paid(checkout)
    other = client_for(make_terminal())
    with pytest.raises(OrderNotFound):
        other.get_order_status(order_id)
    with pytest.raises(OrderNotFound):
        other.refund(order_id, AMOUNT, uuid.uuid4())


def test_3021_refund_exceeds_amount(checkout):
    order_id = register_paid(checkout)
    with pytest.raises(RefundExceedsAmount) as caught:
        checkout.refund(order_id, AMOUNT + 1, uuid.uuid4())
    assert caught.value.code == 3021
    assert checkout.get_order_status(order_id).refunded_amount == 0


def test_3027_duplicate_order_number(checkout):
    request = order_request()
    checkout.register(request, "ru")
    with pytest.raises(DuplicateOrderNumber) as caught:
        checkout.register(request, "ru")
    assert caught.value.code == 3027


def test_3028_operation_id_reused_with_another_body(checkout):
    order_id = register_paid(checkout)
    key = uuid.uuid4()
    first = checkout.refund(order_id, 1_000_000, key)

    # The same key and body: the first result again, and no second refund.
    assert checkout.refund(order_id, 1_000_000, key) == first
    status = checkout.get_order_status(order_id)
    assert status.refunded_amount == 1_000_000
    assert len(status.operations) == 2

    with pytest.raises(OperationIdReused) as caught:
        checkout.refund(order_id, 2_000_000, key)
    assert caught.value.code == 3028
    assert checkout.get_order_status(order_id).refunded_amount == 1_000_000


def test_3030_complete_on_one_step(checkout):
    order_id = register_paid(checkout)
    with pytest.raises(CompleteNotAllowed) as caught:
        checkout.complete(order_id, AMOUNT, uuid.uuid4())
    assert caught.value.code == 3030


def test_3036_reverse_on_one_step(checkout):
    order_id = register_paid(checkout)
    with pytest.raises(ReverseNotAllowed) as caught:
        checkout.reverse(order_id, AMOUNT, uuid.uuid4())
    assert caught.value.code == 3036


def expire(order_id):
    from navbat.uzum_sandbox.models import Order

    Order.objects.filter(order_id=order_id).update(expires_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("operation", ["complete", "reverse"])
def test_3041_session_expired(checkout, operation):
    order_id = checkout.register(order_request(pay_type=PayType.TWO_STEP), "ru").order_id
    expire(order_id)
    with pytest.raises(SessionExpired) as caught:
        getattr(checkout, operation)(order_id, AMOUNT, uuid.uuid4())
    assert caught.value.code == 3041


def test_3041_an_expired_order_cannot_be_paid(checkout):
    from navbat.uzum_sandbox.bank import BankError

    order_id = checkout.register(order_request(session_timeout_secs=600), "ru").order_id
    expire(order_id)
    with pytest.raises(BankError) as caught:
        pay(order_id)
    assert caught.value.code == SessionExpired.code == 3041
    status = checkout.get_order_status(order_id)
    assert status.completed_amount == 0
    assert status.status in (OrderState.REGISTERED, OrderState.DECLINED)


def test_3045_cart_required(make_terminal, client_for):
    checkout = client_for(make_terminal(auto_fiscal=True))
    with pytest.raises(CartRequired) as caught:
        checkout.register(order_request(), "ru")
    assert caught.value.code == 3045


def test_3046_cart_product_unknown(make_terminal, client_for):
    checkout = client_for(make_terminal(auto_fiscal=True))
    order_id = register_paid(checkout, cart=fiscal_cart())
    with pytest.raises(CartProductUnknown) as caught:
        checkout.refund(
            order_id, AMOUNT, uuid.uuid4(), cart=fiscal_cart(product_ids=("svc-1", "other"))
        )
    assert caught.value.code == 3046
    assert checkout.get_order_status(order_id).refunded_amount == 0


def test_3058_cart_not_allowed(checkout):
    with pytest.raises(CartNotAllowed) as caught:
        checkout.register(order_request(cart=fiscal_cart()), "ru")
    assert caught.value.code == 3058


def test_3058_refund_cart_not_allowed(checkout):
    order_id = register_paid(checkout)
    with pytest.raises(CartNotAllowed):
        checkout.refund(order_id, AMOUNT, uuid.uuid4(), cart=fiscal_cart())
    assert checkout.get_order_status(order_id).refunded_amount == 0


def test_3045_refund_without_cart_on_an_auto_fiscal_terminal(make_terminal, client_for):
    checkout = client_for(make_terminal(auto_fiscal=True))
    order_id = register_paid(checkout, cart=fiscal_cart())
    with pytest.raises(CartRequired):
        checkout.refund(order_id, AMOUNT, uuid.uuid4())


def test_3059_cart_total_mismatch(make_terminal, client_for):
    checkout = client_for(make_terminal(auto_fiscal=True))
    order_id = register_paid(checkout, cart=fiscal_cart())
    with pytest.raises(CartTotalMismatch) as caught:
        checkout.refund(order_id, AMOUNT, uuid.uuid4(), cart=fiscal_cart(total=AMOUNT - 100))
    assert caught.value.code == 3059
    assert checkout.get_order_status(order_id).refunded_amount == 0


def test_wrong_key_or_terminal_is_authentication_failed_and_tells_nothing(
    checkout, client_for, terminal
):
    order_id = checkout.register(order_request(), "ru").order_id
    wrong_key = client_for(terminal, api_key="f" * 64)
    unknown_terminal = client_for(terminal, terminal_id=str(uuid.uuid4()))
    not_a_uuid = client_for(terminal, terminal_id="terminal-1")

    errors = []
    for client in (wrong_key, unknown_terminal, not_a_uuid):
        with pytest.raises(AuthenticationFailed) as caught:
            client.get_order_status(order_id)
        errors.append(caught.value)
        with pytest.raises(AuthenticationFailed):
            client.register(order_request(), "ru")
    # The same answer whether the terminal exists or not, and nothing of the order.
    assert len({(error.code, error.message) for error in errors}) == 1
    assert str(order_id) not in str(errors[0])
    assert terminal.api_key not in str(errors[0])


@over_a_socket
def test_a_path_outside_api_v1_is_forbidden(terminal, client_for, sandbox_url, http):
    checkout = client_for(terminal, base_url=sandbox_url + "/v2")
    with pytest.raises(Forbidden):
        checkout.get_order_status(uuid.uuid4())
    answer = http.post(
        sandbox_url + "/api/v2/payment/getOrderStatus",
        json={"orderId": str(uuid.uuid4())},
        headers={"X-Terminal-Id": str(terminal.terminal_id), "X-API-Key": terminal.api_key},
    )
    assert answer.status_code == 403
