"""The Checkout side of card refunds (navbat.uzum.refunds) on the sandbox bank: on an
auto-fiscal terminal a whole refund carries the purchase's own cart (uzum-bank.md §1: its
total and products pass 3059 and 3046) and a partial one is refused before any call; an
order the bank holds only AUTHORIZED (two-step) is reversed, in full, never refunded."""

import uuid

import pytest

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import refunds, services
from navbat.payments.models import Method, PaymentOrder, Refund, RefundState, State
from navbat.uzum import clients
from navbat.uzum.checkout import CheckoutClient, OrderState, PayType
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Operation
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.jobs import start_payment

from .sandbox import order_request, pay

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000


@pytest.fixture
def calls(monkeypatch):
    """Every request navbat's Checkout client sends: (endpoint, body)."""
    sent = []
    call = CheckoutClient._call

    def spy(self, endpoint, body, **kwargs):
        sent.append((endpoint, body))
        return call(self, endpoint, body, **kwargs)

    monkeypatch.setattr(CheckoutClient, "_call", spy)
    return sent


def paid_order(salon):
    order = start_payment(salon)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def endpoints(sent):
    return [endpoint for endpoint, _body in sent]


# ------------------------------------------------------------------- auto-fiscal terminals


def test_a_whole_refund_on_an_auto_fiscal_terminal_sends_the_purchase_s_cart(
    salon_a, connect_uzum, calls
):
    connect_uzum(salon_a, auto_fiscal=True)
    order = paid_order(salon_a)
    assert order.state == State.PAID and order.lines
    purchase = BankOrder.objects.get(order_id=order.bank_order_id).cart
    calls.clear()

    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
    ).refund

    assert (refund.state, refund.bank_operation) == (RefundState.DONE, "refund")
    assert endpoints(calls) == [
        "payment/getOrderStatus",
        "acquiring/refund",
        "payment/getOperationState",
    ]
    cart = calls[1][1]["cart"]
    assert cart["total"] == HAIRCUT == purchase["total"]
    assert [item["productId"] for item in cart["items"]] == [
        item["productId"] for item in purchase["items"]
    ]
    assert [item["total"] for item in cart["items"]] == [line["amount"] for line in order.lines]
    bank_order = BankOrder.objects.get(order_id=order.bank_order_id)
    assert (bank_order.status, bank_order.refunded_amount) == ("REFUNDED", HAIRCUT)
    order.refresh_from_db()
    assert order.state == State.REFUNDED


@pytest.mark.parametrize("amount", [1, HAIRCUT - 1], ids=["a-tiyin", "all-but-a-tiyin"])
def test_a_partial_refund_on_an_auto_fiscal_terminal_is_refused_before_the_bank(
    salon_a, connect_uzum, calls, amount
):
    connect_uzum(salon_a, auto_fiscal=True)
    order = paid_order(salon_a)
    calls.clear()
    operations = Operation.objects.count()

    with pytest.raises(refunds.RefundConflict) as refused:
        refunds.refund_payment(
            business=salon_a.business, order_id=order.pk, amount=amount, reason="Part"
        )

    assert refused.value.reason == "provider_cannot"
    assert str(refused.value.messages[0]) == (
        "This salon's Uzum Bank terminal issues fiscal receipts, and Uzum accepts a refund "
        "to the card only for the whole payment. Refund all of it, or give the part back "
        "from a register."
    )
    assert calls == []
    assert (Operation.objects.count(), Refund.objects.count()) == (operations, 0)
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 0


# -------------------------------------------------------------- a two-step order, authorised


def authorised_order(salon, connection, amount=HAIRCUT):
    """An order the bank holds AUTHORIZED (two-step), known to our books as paid."""
    with clients.checkout_client(connection) as checkout:
        registered = checkout.register(
            order_request(amount=amount, pay_type=PayType.TWO_STEP), "ru"
        )
        pay(registered.order_id)
        assert checkout.get_order_status(registered.order_id).status is OrderState.AUTHORIZED
    appointment = salon.appointments[0]
    return PaymentOrder.objects.create(
        business=salon.business,
        payable_kind="appointment",
        payable_id=appointment.pk,
        document=appointment.document,
        provider="uzum",
        account_id=connection.pk,
        method=Method.CARD,
        amount=amount,
        reference=str(uuid.uuid4()),
        bank_order_id=str(registered.order_id),
        state=State.PAID,
        paid_amount=amount,
        fee_amount=100_000,
    )


def test_an_authorised_two_step_order_is_reversed_in_full(salon_a, connect_uzum, calls):
    connection = connect_uzum(salon_a)
    order = authorised_order(salon_a, connection)
    calls.clear()

    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=HAIRCUT, reason="Cancelled"
    ).refund

    assert (refund.state, refund.bank_operation) == (RefundState.DONE, "reverse")
    assert endpoints(calls) == [
        "payment/getOrderStatus",
        "acquiring/reverse",
        "payment/getOperationState",
    ]
    assert calls[1][1]["amount"] == HAIRCUT
    bank_order = BankOrder.objects.get(order_id=order.bank_order_id)
    assert (bank_order.status, bank_order.reversed_amount) == ("REVERSED", HAIRCUT)
    reverse = Operation.objects.get(order=bank_order, operation_type="REVERSE")
    assert reverse.merchant_operation_id == str(refund.operation_key)
    # The fee comes back on reversals by default (FeeSchedule.fee_returned_on_reversal).
    assert refund.fee_returned_amount == 100_000
    rows = Transaction.objects.filter(document=order.document).order_by("id")
    assert list(rows.values_list("kind", "amount")) == [
        (TransactionKind.REFUND, HAIRCUT),
        (TransactionKind.FEE_RETURN, 100_000),
    ]
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)


def test_a_partial_reverse_of_an_authorised_order_fails_before_the_call(
    salon_a, connect_uzum, calls
):
    connection = connect_uzum(salon_a)
    order = authorised_order(salon_a, connection)
    calls.clear()

    refund = refunds.refund_payment(
        business=salon_a.business, order_id=order.pk, amount=4_000_000, reason="Part"
    ).refund

    assert (refund.state, refund.bank_operation) == (RefundState.FAILED, "reverse")
    assert "in full only" in refund.failure_reason
    assert endpoints(calls) == ["payment/getOrderStatus"]
    bank_order = BankOrder.objects.get(order_id=order.bank_order_id)
    assert (bank_order.status, bank_order.reversed_amount) == ("AUTHORIZED", 0)
    assert Transaction.objects.filter(document=order.document).count() == 0
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PAID, 0)
