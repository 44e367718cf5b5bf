"""Every state Uzum can report lands in a column of payments' (our state, bank state)
table (payments.bank_states): Checkout's order statuses through uzum.provider.bank_view,
the Merchant API's transactions through app_view. In memory, no database."""

import uuid
from datetime import UTC, datetime

import pytest

from navbat.payments.bank_states import BANK_STATES
from navbat.payments.models import PaymentOrder, State
from navbat.uzum.checkout import (
    Operation,
    OperationState,
    OperationType,
    OrderState,
    OrderStatus,
)
from navbat.uzum.merchant.services import app_view
from navbat.uzum.models import MerchantTransaction, TransactionState
from navbat.uzum.provider import bank_view

AMOUNT = 10_000_000
DONE = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)

CHECKOUT = {
    # status, refunded amount → our reading of it
    (OrderState.REGISTERED, 0): State.PENDING,
    (OrderState.AUTHORIZED, 0): State.PENDING,
    (OrderState.COMPLETED, 0): State.PAID,
    (OrderState.COMPLETED, 2_500_000): State.PARTLY_REFUNDED,
    (OrderState.REFUNDED, AMOUNT): State.REFUNDED,
    (OrderState.DECLINED, 0): State.DECLINED,
    (OrderState.REVERSED, 0): State.CANCELLED,
}


def test_every_checkout_status_is_read():
    assert {status for status, _refunded in CHECKOUT} == set(OrderState) - {
        OrderState.TOP_UP_COMPLETED  # mobile top-up: never an order of ours
    }


@pytest.mark.parametrize("status,refunded", list(CHECKOUT))
def test_a_checkout_status_is_a_column_of_the_table(status, refunded):
    completed = AMOUNT if status in (OrderState.COMPLETED, OrderState.REFUNDED) else 0
    operations = ()
    if completed:
        operations = (
            Operation(
                operation_id=uuid.uuid4(),
                operation_type=OperationType.COMPLETE,
                state=OperationState.SUCCESS,
                start_at=DONE,
                done_at=DONE,
            ),
        )
    view = bank_view(
        OrderStatus(
            order_id=uuid.uuid4(),
            status=status,
            merchant_order_id="ours",
            amount=AMOUNT,
            total_amount=completed - refunded,
            completed_amount=completed,
            refunded_amount=refunded,
            reversed_amount=0,
            operations=operations,
        )
    )
    assert view.state == CHECKOUT[status, refunded]
    assert view.state in BANK_STATES


APP = {
    (TransactionState.CREATED, False): State.PENDING,
    (TransactionState.CONFIRMED, True): State.PAID,
    (TransactionState.REVERSED, False): State.CANCELLED,
    (TransactionState.REVERSED, True): State.REFUNDED,
    (TransactionState.FAILED, False): State.EXPIRED,
}


@pytest.mark.parametrize("state,confirmed", list(APP))
def test_an_app_transaction_is_a_column_of_the_table(state, confirmed):
    order = PaymentOrder(reference=str(uuid.uuid4()), amount=AMOUNT)
    tx = MerchantTransaction(
        trans_id=uuid.uuid4(),
        order=order,
        amount=AMOUNT,
        state=state,
        confirmed_at=DONE if confirmed else None,
        payment_source="UZCARD" if confirmed else "",
    )
    view = app_view(tx)
    assert view.state == APP[state, confirmed]
    assert view.state in BANK_STATES
    assert {state for state, _confirmed in APP} == set(TransactionState)
