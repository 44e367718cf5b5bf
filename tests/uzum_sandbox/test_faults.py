"""Fault switches: 5xx, hang, slow and work-then-timeout on chosen Checkout endpoints,
``times``, the callback and service switches, and setting them over the control API."""

import time
import uuid

import pytest

from navbat.uzum_sandbox import faults
from navbat.uzum_sandbox.models import Operation, Order

from .conftest import AMOUNT, pay, register_body


def set_faults(control, terminal, changes) -> dict:
    response = control.post(f"terminals/{terminal.terminal_id}/faults", changes)
    assert response.status_code == 200, response.content
    terminal.refresh_from_db()
    return response.json()["faults"]


def test_error_5xx_does_nothing(control, checkout_api, terminal):
    set_faults(control, terminal, {"payment/register": {"mode": "error_5xx"}})
    response = checkout_api.post("payment/register", register_body())
    assert response.status_code == 503
    assert not Order.objects.exists()
    # Other endpoints answer as usual.
    answer = checkout_api.call("payment/getOrderStatus", {"orderId": str(uuid.uuid4())})
    assert answer["errorCode"] == 3005


def test_error_5xx_on_a_money_call_moves_no_money(control, checkout_api, terminal):
    order_id = checkout_api.register()
    pay(order_id)
    set_faults(control, terminal, {"acquiring/refund": {"mode": "error_5xx", "status": 502}})
    key = str(uuid.uuid4())
    response = checkout_api.post(
        "acquiring/refund", {"orderId": order_id, "amount": AMOUNT}, operation_id=key
    )
    assert response.status_code == 502
    assert checkout_api.status(order_id)["refundedAmount"] == 0
    set_faults(control, terminal, {"acquiring/refund": None})
    assert checkout_api.refund(order_id, AMOUNT, operation_id=key)["errorCode"] == 0
    assert checkout_api.status(order_id)["status"] == "REFUNDED"


def test_times_applies_to_the_next_calls_only(control, checkout_api, terminal):
    order_id = checkout_api.register()
    stored = set_faults(
        control, terminal, {"payment/getOrderStatus": {"mode": "error_5xx", "times": 2}}
    )
    assert stored["payment/getOrderStatus"]["times"] == 2
    body = {"orderId": order_id}
    assert checkout_api.post("payment/getOrderStatus", body).status_code == 503
    terminal.refresh_from_db()
    assert terminal.faults["payment/getOrderStatus"]["times"] == 1
    assert checkout_api.post("payment/getOrderStatus", body).status_code == 503
    terminal.refresh_from_db()
    assert "payment/getOrderStatus" not in terminal.faults
    assert checkout_api.status(order_id)["status"] == "REGISTERED"


def test_a_caller_with_a_wrong_key_never_meets_a_fault(control, checkout_api, terminal):
    set_faults(control, terminal, {"payment/register": {"mode": "error_5xx", "times": 1}})
    answer = checkout_api.call("payment/register", register_body(), **{"X-API-Key": "wrong"})
    assert answer["errorCode"] == 1006
    terminal.refresh_from_db()
    assert terminal.faults["payment/register"]["times"] == 1


def test_work_then_timeout_commits_the_work_before_the_pause(control, checkout_api, terminal):
    order_id = checkout_api.register()
    pay(order_id)
    set_faults(
        control,
        terminal,
        {"acquiring/refund": {"mode": "work_then_timeout", "seconds": 1, "times": 1}},
    )
    key = str(uuid.uuid4())
    started = time.monotonic()
    first = checkout_api.refund(order_id, 5_000_000, operation_id=key)
    assert time.monotonic() - started >= 1
    assert first["errorCode"] == 0
    # The client gave up; the bank did the work. The status shows it, and a retry with the
    # same operation id answers the same operation instead of refunding twice.
    status = checkout_api.status(order_id)
    assert (status["status"], status["refundedAmount"], status["totalAmount"]) == (
        "COMPLETED",
        5_000_000,
        AMOUNT - 5_000_000,
    )
    again = checkout_api.refund(order_id, 5_000_000, operation_id=key)
    assert again == first
    assert Operation.objects.filter(operation_type="REFUND").count() == 1


def test_work_then_timeout_on_register(control, checkout_api, terminal):
    set_faults(control, terminal, {"payment/register": {"mode": "work_then_timeout", "seconds": 1}})
    body = register_body()
    started = time.monotonic()
    checkout_api.ok("payment/register", body)
    assert time.monotonic() - started >= 1
    assert Order.objects.filter(order_number=body["orderNumber"]).exists()
    # Registering again after the timeout meets the taken order number.
    set_faults(control, terminal, {"payment/register": None})
    assert checkout_api.error("payment/register", body)["errorCode"] == 3027


@pytest.mark.parametrize("mode", ["hang", "slow"])
def test_hang_and_slow_answer_after_the_pause(control, checkout_api, terminal, mode):
    order_id = checkout_api.register()
    set_faults(control, terminal, {"payment/getOrderStatus": {"mode": mode, "seconds": 1}})
    started = time.monotonic()
    status = checkout_api.status(order_id)
    assert time.monotonic() - started >= 1
    assert status["status"] == "REGISTERED"


def test_the_star_switch_covers_every_endpoint_without_its_own(control, checkout_api, terminal):
    order_id = checkout_api.register()
    set_faults(
        control,
        terminal,
        {
            "*": {"mode": "error_5xx", "status": 500},
            "payment/getReceipts": {"mode": "slow", "seconds": 0},
        },
    )
    assert checkout_api.post("payment/getOrderStatus", {"orderId": order_id}).status_code == 500
    assert checkout_api.post("payment/register", register_body()).status_code == 500
    assert checkout_api.ok("payment/getReceipts", {"orderId": order_id}) == {"receipts": []}


# --------------------------------------------------------------------- the control API


def test_set_clear_and_clear_all(control, terminal):
    stored = set_faults(
        control,
        terminal,
        {
            "payment/register": {"mode": "hang", "seconds": 500},
            "acquiring/complete": {"mode": "slow"},
            "callbacks": {"mode": "duplicate", "count": 3},
        },
    )
    assert stored == {
        "payment/register": {"mode": "hang", "seconds": 60.0},  # capped at 60
        "acquiring/complete": {"mode": "slow", "seconds": 3.0},
        "callbacks": {"mode": "duplicate", "count": 3},
    }
    stored = set_faults(control, terminal, {"payment/register": None})
    assert set(stored) == {"acquiring/complete", "callbacks"}
    assert control.get(f"terminals/{terminal.terminal_id}/faults").json()["faults"] == stored
    response = control.delete(f"terminals/{terminal.terminal_id}/faults")
    assert response.json()["faults"] == {}
    terminal.refresh_from_db()
    assert terminal.faults == {}


@pytest.mark.parametrize(
    "changes",
    [
        {"payment/pay": {"mode": "hang"}},
        {"payment/register": {"mode": "explode"}},
        {"payment/register": "hang"},
        {"payment/register": {"mode": "hang", "seconds": -1}},
        {"payment/register": {"mode": "hang", "seconds": "5"}},
        {"payment/register": {"mode": "hang", "times": 0}},
        {"payment/register": {"mode": "hang", "times": 1.5}},
        {"payment/register": {"mode": "error_5xx", "status": 404}},
        {"payment/register": {"mode": "hang", "colour": "red"}},
        {"callbacks": {"mode": "hang"}},
        {"callbacks": {"mode": "duplicate", "count": 0}},
    ],
)
def test_bad_switches_are_400(control, terminal, changes):
    response = control.post(f"terminals/{terminal.terminal_id}/faults", changes)
    assert response.status_code == 400
    assert response.json()["error"]
    terminal.refresh_from_db()
    assert terminal.faults == {}


def test_callback_switch_for_the_delivery(control, terminal):
    assert faults.callback_fault(terminal) == {}
    set_faults(control, terminal, {"callbacks": {"mode": "delay"}})
    assert faults.callback_fault(terminal) == {"mode": "delay", "seconds": 10.0}
    set_faults(control, terminal, {"callbacks": {"mode": "reorder"}})
    assert faults.callback_fault(terminal) == {"mode": "reorder", "count": 2}
    set_faults(control, terminal, {"callbacks": {"mode": "drop", "count": 2}})
    assert faults.take_callback_fault(terminal) == {"mode": "drop", "count": 2}
    terminal.refresh_from_db()
    assert terminal.faults["callbacks"]["count"] == 1
    assert faults.take_callback_fault(terminal)["mode"] == "drop"
    terminal.refresh_from_db()
    assert "callbacks" not in terminal.faults
    assert faults.take_callback_fault(terminal) == {}


def test_callback_switch_with_times(control, terminal):
    set_faults(control, terminal, {"callbacks": {"mode": "duplicate", "times": 1}})
    assert faults.take_callback_fault(terminal) == {"mode": "duplicate", "count": 2, "times": 1}
    terminal.refresh_from_db()
    assert terminal.faults == {}


def test_drop_without_count_stays_on(control, terminal):
    set_faults(control, terminal, {"callbacks": {"mode": "drop"}})
    for _ in range(3):
        assert faults.take_callback_fault(terminal) == {"mode": "drop"}
    terminal.refresh_from_db()
    assert terminal.faults == {"callbacks": {"mode": "drop"}}


def test_service_switches(control, make_service):
    service = make_service()
    response = control.post(
        f"services/{service.service_id}/faults",
        {"confirm": {"mode": "timeout", "seconds": 1, "times": 1}, "create": {"mode": "duplicate"}},
    )
    assert response.status_code == 200
    assert response.json()["faults"] == {
        "confirm": {"mode": "timeout", "seconds": 1.0, "times": 1},
        "create": {"mode": "duplicate", "count": 2},
    }
    service.refresh_from_db()
    assert faults.take_service_fault(service, "check") is None
    assert faults.take_service_fault(service, "confirm")["mode"] == "timeout"
    service.refresh_from_db()
    assert set(service.faults) == {"create"}
    bad = control.post(f"services/{service.service_id}/faults", {"pay": {"mode": "timeout"}})
    assert bad.status_code == 400
    assert control.delete(f"services/{service.service_id}/faults").json()["faults"] == {}
