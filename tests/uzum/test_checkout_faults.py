"""The client's retries against the sandbox's fault switches: reads ride out 5xx (the bank
in this process) and hung answers (over a socket, where a client's timeout is real); a money
call whose answer is lost after the bank did the work is retried with the same X-Operation-Id
and moves the money once; register is never retried."""

import time
import uuid

import pytest

from navbat.uzum.checkout import (
    BankTimeout,
    BankUnavailable,
    DuplicateOrderNumber,
    OperationType,
    OrderState,
)

from .sandbox import AMOUNT, order_request, over_a_socket, pay

pytestmark = pytest.mark.django_db


PAUSED_UNTIL: list[float] = []


@pytest.fixture(autouse=True)
def wait_for_paused_answers():
    """A paused answer outlives the client's timeout: let the server thread finish it
    (and touch the database) while the test still owns the database."""
    yield
    if PAUSED_UNTIL:
        time.sleep(max(0.0, max(PAUSED_UNTIL) - time.monotonic()))
        PAUSED_UNTIL.clear()


def switch(terminal, **faults_by_endpoint):
    from navbat.uzum_sandbox.faults import merge_terminal_faults
    from navbat.uzum_sandbox.models import Terminal

    faults = merge_terminal_faults(
        {}, {endpoint.replace("__", "/"): spec for endpoint, spec in faults_by_endpoint.items()}
    )
    Terminal.objects.filter(pk=terminal.pk).update(faults=faults)
    pauses = [spec.get("seconds") or 0 for spec in faults.values()]
    PAUSED_UNTIL.append(time.monotonic() + max(pauses, default=0) + 0.3)


def faults_left(terminal):
    terminal.refresh_from_db()
    return terminal.faults


def test_reads_retry_through_5xx(terminal, client_for):
    checkout = client_for(terminal, read_retries=2)
    order_id = checkout.register(order_request(), "ru").order_id
    switch(terminal, payment__getOrderStatus={"mode": "error_5xx", "status": 502, "times": 2})

    assert checkout.get_order_status(order_id).status is OrderState.REGISTERED
    assert faults_left(terminal) == {}  # three calls: two 502s, then the answer


def test_reads_give_up_after_their_retries(terminal, client_for):
    checkout = client_for(terminal, read_retries=1)
    order_id = checkout.register(order_request(), "ru").order_id
    switch(terminal, payment__getReceipts={"mode": "error_5xx", "times": 3})

    with pytest.raises(BankUnavailable) as caught:
        checkout.get_receipts(order_id)
    assert caught.value.http_status == 503
    assert faults_left(terminal)["payment/getReceipts"]["times"] == 1  # two calls made


@over_a_socket
def test_reads_retry_after_a_hung_answer(terminal, client_for):
    checkout = client_for(terminal, read_retries=1, timeout=0.5)
    order_id = checkout.register(order_request(), "ru").order_id
    switch(terminal, payment__getOrderStatus={"mode": "hang", "seconds": 1.0, "times": 1})

    assert checkout.get_order_status(order_id).order_id == order_id


@over_a_socket
def test_a_lost_refund_answer_is_retried_with_the_same_operation_id(terminal, client_for):
    checkout = client_for(terminal, money_retries=1, timeout=0.5)
    order_id = checkout.register(order_request(), "ru").order_id
    pay(order_id)
    switch(terminal, acquiring__refund={"mode": "work_then_timeout", "seconds": 1.0, "times": 1})

    result = checkout.refund(order_id, 5_000_000, uuid.uuid4())

    status = checkout.get_order_status(order_id)
    refunds = [op for op in status.operations if op.operation_type is OperationType.REFUND]
    assert [op.operation_id for op in refunds] == [result.operation_id]  # exactly one
    assert (status.refunded_amount, status.total_amount) == (5_000_000, AMOUNT - 5_000_000)


@over_a_socket
def test_without_retries_a_lost_answer_is_a_timeout_and_the_caller_retries_later(
    terminal, client_for
):
    checkout = client_for(terminal, money_retries=0, timeout=0.5)
    order_id = checkout.register(order_request(pay_type="TWO_STEP"), "ru").order_id
    pay(order_id)
    switch(terminal, acquiring__complete={"mode": "work_then_timeout", "seconds": 1.0, "times": 1})
    key = uuid.uuid4()  # stored by the caller before the call

    with pytest.raises(BankTimeout):
        checkout.complete(order_id, AMOUNT, key)
    # The bank did the work: the caller cannot know until it asks.
    assert checkout.get_order_status(order_id).status is OrderState.COMPLETED

    again = checkout.complete(order_id, AMOUNT, key)
    status = checkout.get_order_status(order_id)
    assert status.operations[-1].operation_id == again.operation_id
    assert [op.operation_type for op in status.operations] == [
        OperationType.AUTHORIZE,
        OperationType.COMPLETE,
    ]
    assert status.completed_amount == AMOUNT


def test_register_is_never_retried(terminal, client_for):
    checkout = client_for(terminal, read_retries=5, money_retries=5)
    switch(terminal, payment__register={"mode": "error_5xx", "times": 2})

    with pytest.raises(BankUnavailable):
        checkout.register(order_request(), "ru")
    assert faults_left(terminal)["payment/register"]["times"] == 1  # one call only


@over_a_socket
def test_a_register_whose_answer_is_lost_may_exist_at_the_bank(terminal, client_for):
    """Why register never retries: the same orderNumber again is 3027."""
    checkout = client_for(terminal, timeout=0.5)
    switch(terminal, payment__register={"mode": "work_then_timeout", "seconds": 1.0, "times": 1})
    request = order_request()

    with pytest.raises(BankTimeout):
        checkout.register(request, "ru")
    # Asked again with time to answer (a loaded machine may take over half a second).
    with pytest.raises(DuplicateOrderNumber):
        client_for(terminal, timeout=10).register(request, "ru")
