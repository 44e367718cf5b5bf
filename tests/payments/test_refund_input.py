"""Bad refund requests at the service: each gets a clear error, and nothing moves — no
Refund row, no transaction, no operation at the bank, the order as it was."""

import uuid

import pytest
from django.core.exceptions import ValidationError

from navbat.finance.models import Transaction
from navbat.payments import refunds, services
from navbat.payments.models import Method, PaymentOrder, Refund, RefundState, State
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import IdempotentCall, Operation
from tests.payments.jobs import start_payment

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000


@pytest.fixture
def paid(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def snapshot():
    return {
        "refunds": list(Refund.objects.values_list("pk", "state")),
        "transactions": Transaction.objects.count(),
        "bank": (
            Operation.objects.exclude(operation_type="COMPLETE").count(),
            IdempotentCall.objects.count(),
        ),
        "orders": list(
            PaymentOrder.objects.order_by("pk").values_list(
                "pk", "state", "refunded_amount", "fee_returned_amount"
            )
        ),
    }


def ask(salon, order, amount=HAIRCUT, reason="Cancelled", **options):
    return refunds.refund_payment(
        business=salon.business, order_id=order.pk, amount=amount, reason=reason, **options
    )


@pytest.mark.parametrize(
    "amount,message",
    [
        (0, "The amount must be more than zero."),
        (-1, "The amount must be more than zero."),
        (-HAIRCUT, "The amount must be more than zero."),
        (1.5, "The amount must be a whole number of tiyin."),
        (100.0, "The amount must be a whole number of tiyin."),
        ("100", "The amount must be a whole number of tiyin."),
        (True, "The amount must be a whole number of tiyin."),
        (None, "The amount must be a whole number of tiyin."),
        (10**30, "The amount is larger than any payment."),
    ],
)
def test_an_amount_that_is_not_a_positive_whole_number_is_refused(salon_a, paid, amount, message):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        ask(salon_a, paid, amount)
    assert refused.value.message_dict == {"amount": [message]}
    assert snapshot() == before


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 301])
def test_a_missing_or_overlong_reason_is_refused(salon_a, paid, reason):
    before = snapshot()
    with pytest.raises(ValidationError) as refused:
        ask(salon_a, paid, reason=reason)
    assert list(refused.value.message_dict) == ["reason"]
    assert snapshot() == before


def test_more_than_was_paid_is_refused_with_what_is_left(salon_a, paid):
    before = snapshot()
    with pytest.raises(refunds.RefundConflict) as refused:
        ask(salon_a, paid, HAIRCUT + 1)
    assert refused.value.reason == "too_much"
    assert str(refused.value.messages[0]) == "At most 100 000 so'm can be refunded."
    assert snapshot() == before

    assert ask(salon_a, paid, 6_000_000).refund.state == RefundState.DONE
    before = snapshot()
    with pytest.raises(refunds.RefundConflict) as refused:
        ask(salon_a, paid, 4_000_001)
    assert refused.value.reason == "too_much"
    assert "40 000" in str(refused.value.messages[0])
    assert snapshot() == before


def test_a_refund_in_flight_counts_against_what_is_left(salon_a, paid):
    flying = Refund.objects.create(
        business=salon_a.business,
        order=paid,
        amount=6_000_000,
        reason="On its way",
        route="bank",
        register=Transaction.objects.get(kind="sale_payment").register,
        operation_key=uuid.uuid4(),
        state=RefundState.AT_BANK,
    )
    assert refunds.refundable_amount(paid) == 4_000_000
    before = snapshot()

    for amount in (4_000_000, 4_000_001):
        with pytest.raises(refunds.RefundConflict) as refused:
            ask(salon_a, paid, amount)
        assert refused.value.reason == "in_flight"
        assert str(refused.value.messages[0]) == (
            "A refund of this payment is under way; wait until it is finished."
        )
    assert snapshot() == before
    flying.refresh_from_db()
    assert flying.state == RefundState.AT_BANK


@pytest.mark.parametrize(
    "state", [State.CREATED, State.PENDING, State.DECLINED, State.EXPIRED, State.CANCELLED]
)
def test_an_order_that_was_never_paid_has_nothing_to_refund(salon_a, connect_uzum, state):
    connection = connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = PaymentOrder.objects.create(
        business=salon_a.business,
        payable_kind="appointment",
        payable_id=appointment.pk,
        document=appointment.document,
        provider="uzum",
        account_id=connection.pk,
        method=Method.CARD,
        amount=HAIRCUT,
        reference=str(uuid.uuid4()),
        bank_order_id=str(uuid.uuid4()),
        state=state,
    )
    assert refunds.refundable_amount(order) == 0
    before = snapshot()

    with pytest.raises(refunds.RefundConflict) as refused:
        ask(salon_a, order)

    assert refused.value.reason == "not_paid"
    assert str(refused.value.messages[0]) == (
        "This payment was not paid: there is nothing to refund."
    )
    assert snapshot() == before


def test_a_declined_payment_at_the_sandbox_has_nothing_to_refund(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number="8600000000003008")
    order = services.refresh(order=order)
    assert order.state in (State.DECLINED, State.PENDING)
    before = snapshot()
    with pytest.raises(refunds.RefundConflict) as refused:
        ask(salon_a, order)
    assert refused.value.reason == "not_paid"
    assert snapshot() == before


def test_another_business_s_payment_is_not_found(salon_a, salon_b, paid):
    before = snapshot()
    with pytest.raises(PaymentOrder.DoesNotExist):
        ask(salon_b, paid)
    with pytest.raises(PaymentOrder.DoesNotExist):
        ask(salon_b, paid, route="register", register_id=salon_b.cash.pk)
    with pytest.raises(PaymentOrder.DoesNotExist):
        refunds.refund_payment(business=salon_a.business, order_id=999_999, amount=1, reason="x")
    assert snapshot() == before


def test_a_register_refund_needs_one_of_the_salon_s_other_registers(salon_a, salon_b, paid):
    uzum_register = Transaction.objects.get(kind="sale_payment").register
    before = snapshot()
    for register_id in (None, 999_999, salon_b.cash.pk, uzum_register.pk):
        with pytest.raises(ValidationError) as refused:
            ask(salon_a, paid, route="register", register_id=register_id)
        assert refused.value.message_dict == {
            "register": ["Choose the register the money is given from."]
        }
    with pytest.raises(ValidationError) as refused:
        ask(salon_a, paid, route="bank_reversal")
    assert list(refused.value.message_dict) == ["route"]
    assert snapshot() == before


def test_a_key_used_for_another_refund_is_refused_and_the_same_request_answers_the_first(
    salon_a, paid
):
    first = ask(salon_a, paid, 1_000_000, idempotency_key="key-1")
    assert first.created and first.refund.state == RefundState.DONE
    again = ask(salon_a, paid, 1_000_000, idempotency_key="key-1")
    assert (again.created, again.refund.pk) == (False, first.refund.pk)
    before = snapshot()

    for changed in ({"amount": 1_000_001}, {"reason": "Other"}):
        with pytest.raises(refunds.RefundConflict) as refused:
            ask(salon_a, paid, **{"amount": 1_000_000, **changed}, idempotency_key="key-1")
        assert refused.value.reason == "key_reused"
    assert snapshot() == before
