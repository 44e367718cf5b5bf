"""The sandbox bank's Checkout rules: orders, payments, completion, reversal and refunds.

Everything the Checkout API, the hosted page and the control API do goes through here,
so the three can never disagree. Errors carry Uzum's numeric codes (uzum-bank.md §1).
"""

import secrets
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import cards
from .models import (
    CallbackKind,
    Operation,
    OperationState,
    OperationType,
    Order,
    OrderStatus,
    PayType,
    Terminal,
)


class BankError(Exception):
    """An answer with a non-zero errorCode."""

    def __init__(self, code: int, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# Codes this sandbox answers with, all from the table of uzum-bank.md §1 (names ours).
# What the real bank answers to a wrong X-Terminal-Id / X-API-Key is unknown; adopted: 1006
# "insufficient rights", the same for an unknown terminal and a wrong key (the table's 3001
# "terminal not found" would tell a caller which terminal ids exist).
AUTH_FAILED = 1006
VALIDATION = 2000
INVALID_STATE = 3000
NOT_PAID_TWO_STEP = 3002
PAY_TYPE_NOT_ALLOWED = 3004
ORDER_NOT_FOUND = 3005
BINDING_NOT_FOUND = 3006
REVERSE_AMOUNT = 3019
REFUND_TOO_LARGE = 3021
ORDER_NUMBER_TAKEN = 3027
OPERATION_ID_REUSED = 3028
COMPLETE_ON_ONE_STEP = 3030
OPERATION_NOT_FOUND = 3035
REVERSE_ON_ONE_STEP = 3036
NOT_SET_UP = 3037  # "required terminal settings missing": what the sandbox does not offer
SESSION_EXPIRED = 3041
CART_REQUIRED = 3045
CART_PRODUCT_UNKNOWN = 3046
CART_NOT_ALLOWED = 3058
CART_TOTAL_MISMATCH = 3059


def _rrn() -> str:
    return f"{secrets.randbelow(10**12):012d}"


def _operation(
    order: Order, kind: str, state: str, amount: int, *, key: str = "", description: str = ""
) -> Operation:
    now = timezone.now()
    return Operation.objects.create(
        order=order,
        operation_type=kind,
        state=state,
        amount=amount,
        start_at=now,
        done_at=now,
        rrn=_rrn() if state == OperationState.SUCCESS else "",
        merchant_operation_id=key,
        action_code_description=description,
    )


def queue_payment_callback(order: Order, operation: Operation) -> None:
    """Tell the merchant an operation happened (delivered later by a background job)."""
    from .callbacks import enqueue  # callbacks imports models and bank's names only lazily

    terminal = order.terminal
    if not terminal.payment_callback_url:
        return
    body = {
        "orderId": str(order.order_id),
        "orderNumber": order.order_number,
        "operationType": operation.operation_type,
        "operationState": operation.state,
        "cardType": order.card_type,
        "merchantOperationId": operation.merchant_operation_id or None,
        "rrn": operation.rrn or None,
    }
    enqueue(
        terminal=terminal, kind=CallbackKind.PAYMENT, url=terminal.payment_callback_url, body=body
    )


def queue_event_callback(order: Order, *, action_code: int, description: str) -> None:
    from .callbacks import enqueue

    terminal = order.terminal
    if not terminal.event_callback_url:
        return
    enqueue(
        terminal=terminal,
        kind=CallbackKind.EVENT,
        url=terminal.event_callback_url,
        body={
            "orderId": str(order.order_id),
            "orderNumber": order.order_number,
            "eventType": "FORM_CLOSED",
            "actionCode": action_code,
            "actionCodeDescription": description,
        },
    )


def queue_receipt_callback(order: Order, operation: Operation) -> None:
    """A fiscal receipt was issued for ``operation`` (auto-fiscal terminals only)."""
    from .callbacks import enqueue

    terminal = order.terminal
    receipt_type = _receipt_type(order, operation)
    if not terminal.receipt_callback_url or receipt_type is None:
        return
    enqueue(
        terminal=terminal,
        kind=CallbackKind.RECEIPT,
        url=terminal.receipt_callback_url,
        body={
            "orderId": str(order.order_id),
            "receiptType": receipt_type,
            "receiptUrl": receipt_url(order, receipt_type, operation),
        },
    )


def _receipt_type(order: Order, operation: Operation) -> str | None:
    """The fiscal receipt an operation issues: only terminals with automatic fiscal receipts
    issue any (the others fiscalise on their own); the purchase receipt takes the cart's
    receiptType (PURCHASE or PREPAID), each refund issues a REFUND receipt."""
    if not order.terminal.auto_fiscal or operation.state != OperationState.SUCCESS:
        return None
    if operation.operation_type == OperationType.COMPLETE:
        return (order.cart or {}).get("receiptType") or "PURCHASE"
    if operation.operation_type == OperationType.REFUND:
        return "REFUND"
    return None


def receipt_url(order: Order, receipt_type: str, operation: Operation) -> str:
    return (
        f"https://ofd.soliq.uz/check?t=SANDBOX&r={order.order_id.hex[:10]}"
        f"&o={operation.operation_id.hex[:10]}&c={receipt_type}"
    )


def is_expired(order: Order) -> bool:
    return order.status == OrderStatus.REGISTERED and timezone.now() >= order.expires_at


@transaction.atomic
def register(*, terminal: Terminal, fields: dict) -> Order:
    """``fields`` are already validated by the API layer (checkout.py)."""
    if Order.objects.filter(terminal=terminal, order_number=fields["order_number"]).exists():
        raise BankError(ORDER_NUMBER_TAKEN, "Order with this orderNumber already exists")
    if fields["pay_type"] not in (terminal.pay_types or [PayType.ONE_STEP]):
        raise BankError(PAY_TYPE_NOT_ALLOWED, "Pay type is not allowed for the terminal")
    cart = fields.get("cart")
    if terminal.auto_fiscal and cart is None:
        raise BankError(CART_REQUIRED, "merchantParams.cart is required for this terminal")
    if not terminal.auto_fiscal and cart is not None:
        raise BankError(CART_NOT_ALLOWED, "Fiscal cart is not allowed for this terminal")
    try:
        with transaction.atomic():
            return Order.objects.create(
                terminal=terminal,
                expires_at=timezone.now() + timedelta(seconds=fields["session_timeout_secs"]),
                **fields,
            )
    except IntegrityError:  # a concurrent register with the same orderNumber won
        raise BankError(ORDER_NUMBER_TAKEN, "Order with this orderNumber already exists") from None


def locked_order(terminal: Terminal, order_id) -> Order:
    order = Order.objects.select_for_update().filter(terminal=terminal, order_id=order_id).first()
    if order is None:
        raise BankError(ORDER_NOT_FOUND, "Order not found")
    return order


@transaction.atomic
def start_card_payment(*, order_id, card_number: str) -> tuple[Order, bool]:
    """The hosted form's first page. Returns (order, needs 3-D Secure)."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("terminal")
        .get(order_id=order_id)
    )
    _check_payable(order)
    card = cards.find(card_number)
    if card is None:
        return _decline(order, 3013, card_number=card_number), False
    if card.three_ds or order.force3ds:
        order.pending_card = card.number
        order.save(update_fields=["pending_card"])
        return order, True
    return _charge(order, card), False


@transaction.atomic
def finish_three_ds(*, order_id, code: str) -> Order:
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("terminal")
        .get(order_id=order_id)
    )
    _check_payable(order)
    card = cards.find(order.pending_card)
    if card is None:
        raise BankError(INVALID_STATE, "No card waits for 3-D Secure")
    order.pending_card = ""
    if code != cards.THREE_DS_CODE:
        return _decline(order, 3012, card_number=card.number)
    return _charge(order, card)


def pay(*, order_id, card_number: str, code: str = "") -> Order:
    """Both pages at once: what the control API's "pay" does without a browser."""
    order, needs_code = start_card_payment(order_id=order_id, card_number=card_number)
    if needs_code:
        order = finish_three_ds(order_id=order_id, code=code)
    return order


def _check_payable(order: Order) -> None:
    if is_expired(order):
        raise BankError(SESSION_EXPIRED, "Payment session has expired")
    if order.status != OrderStatus.REGISTERED:
        raise BankError(INVALID_STATE, f"Order is {order.status}")


def _decline(order: Order, code: int, *, card_number: str) -> Order:
    # Observed at Uzum: a declined attempt leaves the order REGISTERED with actionCode set,
    # and the client may try another card.
    card = cards.find(card_number)
    order.action_code = code
    order.pending_card = ""
    if card is not None:
        order.ips, order.masked_pan, order.card_type = card.ips, card.masked, card.card_type
    order.save()
    operation = _operation(
        order,
        OperationType.AUTHORIZE,
        OperationState.FAIL,
        order.amount,
        description=cards.DECLINE_TEXT.get(code, "Declined"),
    )
    queue_payment_callback(order, operation)
    return order


def _charge(order: Order, card: cards.TestCard) -> Order:
    if card.decline_code:
        return _decline(order, card.decline_code, card_number=card.number)
    order.ips, order.masked_pan, order.card_type = card.ips, card.masked, card.card_type
    order.action_code = 0
    order.approval_code = f"{secrets.randbelow(10**6):06d}"
    if order.pay_type == PayType.TWO_STEP:
        order.status = OrderStatus.AUTHORIZED
        order.authorized_amount = order.amount
        kind = OperationType.AUTHORIZE
    else:
        order.status = OrderStatus.COMPLETED
        order.completed_amount = order.amount
        kind = OperationType.COMPLETE
    order.save()
    operation = _operation(order, kind, OperationState.SUCCESS, order.amount)
    queue_payment_callback(order, operation)
    queue_receipt_callback(order, operation)
    return order


def close_form(*, order_id) -> Order:
    """The client closed the hosted form without paying: the FORM_CLOSED event."""
    order = Order.objects.select_related("terminal").get(order_id=order_id)
    queue_event_callback(
        order, action_code=order.action_code or 0, description="Payment form closed by the client"
    )
    return order


def complete(*, terminal: Terminal, order_id, amount: int, key: str) -> Operation:
    with transaction.atomic():
        order = locked_order(terminal, order_id)
        if order.pay_type == PayType.ONE_STEP:
            raise BankError(COMPLETE_ON_ONE_STEP, "Complete is not available for one-step orders")
        if is_expired(order):
            raise BankError(SESSION_EXPIRED, "Payment session has expired")
        if order.status != OrderStatus.AUTHORIZED:
            raise BankError(INVALID_STATE, f"Order is {order.status}")
        if not 0 < amount <= order.authorized_amount:
            raise BankError(VALIDATION, "amount must be positive and at most the authorized amount")
        order.status = OrderStatus.COMPLETED
        order.completed_amount = amount
        # Completing less than was authorised releases the rest.
        order.reversed_amount = order.authorized_amount - amount
        order.save()
        operation = _operation(
            order, OperationType.COMPLETE, OperationState.SUCCESS, amount, key=key
        )
        queue_payment_callback(order, operation)
        queue_receipt_callback(order, operation)
        return operation


def reverse(*, terminal: Terminal, order_id, amount: int, key: str) -> Operation:
    with transaction.atomic():
        order = locked_order(terminal, order_id)
        if order.pay_type == PayType.ONE_STEP:
            raise BankError(REVERSE_ON_ONE_STEP, "Reverse is not available for one-step orders")
        if is_expired(order):
            raise BankError(SESSION_EXPIRED, "Payment session has expired")
        if order.status != OrderStatus.AUTHORIZED:
            raise BankError(INVALID_STATE, f"Order is {order.status}")
        # Whether Uzum reverses part of an authorised amount is unknown; adopted: only the
        # whole of it (a complete of less releases the rest instead).
        if amount != order.authorized_amount:
            raise BankError(REVERSE_AMOUNT, "amount must equal the authorized amount")
        order.status = OrderStatus.REVERSED
        order.reversed_amount = amount
        order.save()
        operation = _operation(
            order, OperationType.REVERSE, OperationState.SUCCESS, amount, key=key
        )
        queue_payment_callback(order, operation)
        return operation


def refund(*, terminal: Terminal, order_id, amount: int, key: str, cart: dict | None) -> Operation:
    with transaction.atomic():
        order = locked_order(terminal, order_id)
        if order.status == OrderStatus.REFUNDED:
            raise BankError(INVALID_STATE, "Order is already refunded")
        if order.status != OrderStatus.COMPLETED:
            raise BankError(INVALID_STATE, f"Order is {order.status}")
        left = order.completed_amount - order.refunded_amount
        if not amount > 0:
            raise BankError(VALIDATION, "amount must be positive")
        if amount > left:
            raise BankError(REFUND_TOO_LARGE, "Refund amount exceeds the amount left")
        if terminal.auto_fiscal:
            _check_refund_cart(order, cart)
        elif cart is not None:
            raise BankError(CART_NOT_ALLOWED, "Fiscal cart is not allowed for this terminal")
        order.refunded_amount += amount
        if order.refunded_amount == order.completed_amount:
            order.status = OrderStatus.REFUNDED
        order.save()
        operation = _operation(order, OperationType.REFUND, OperationState.SUCCESS, amount, key=key)
        queue_payment_callback(order, operation)
        queue_receipt_callback(order, operation)
        return operation


def _check_refund_cart(order: Order, cart: dict | None) -> None:
    if cart is None:
        raise BankError(CART_REQUIRED, "cart is required for refunds on this terminal")
    if cart.get("total") != order.completed_amount:
        raise BankError(CART_TOTAL_MISMATCH, "cart total must equal the completed amount")
    bought = {item.get("productId") for item in (order.cart or {}).get("items", [])}
    if any(item.get("productId") not in bought for item in cart.get("items", [])):
        raise BankError(CART_PRODUCT_UNKNOWN, "cart productId is not on the purchase receipt")


def operation_json(operation: Operation) -> dict:
    return {
        "operationId": str(operation.operation_id),
        "merchantOperationId": operation.merchant_operation_id or None,
        "startAt": operation.start_at.isoformat(),
        "doneAt": operation.done_at.isoformat() if operation.done_at else None,
        "operationType": operation.operation_type,
        "state": operation.state,
        "rrn": operation.rrn or None,
        "actionCodeDescription": operation.action_code_description or None,
    }


def status_json(order: Order) -> dict:
    return {
        "orderId": str(order.order_id),
        "status": order.status,
        "merchantOrderId": order.order_number,
        "amount": order.amount,
        # uzum-bank.md: totalAmount = amount − refunded (what a partial completion or a
        # reversal released shows in reversedAmount, not here).
        "totalAmount": order.amount - order.refunded_amount,
        "completedAmount": order.completed_amount,
        "refundedAmount": order.refunded_amount,
        "reversedAmount": order.reversed_amount,
        "operations": [operation_json(op) for op in order.operations.all()],
        "cardType": order.card_type,
        "actionCode": order.action_code,
        "ips": order.ips or None,
        "approvalCode": order.approval_code or None,
        "maskedPan": order.masked_pan or None,
        "bindingId": None,
    }


def receipts_json(order: Order) -> dict:
    """One receipt per completion and per refund, on auto-fiscal terminals only."""
    receipts = []
    for operation in order.operations.all():
        receipt_type = _receipt_type(order, operation)
        if receipt_type is not None:
            receipts.append(
                {
                    "receiptUrl": receipt_url(order, receipt_type, operation),
                    "receiptType": receipt_type,
                }
            )
    return {"receipts": receipts}
