"""Helpers of the contract tests: a register request, paying as the hosted page does, and
the mark of the tests that reach the bank over a socket."""

import uuid

import pytest

from navbat.uzum.checkout import RegisterRequest

AMOUNT = 15_000_000  # 150 000 so'm
CARD = "8600000000000018"  # sandbox Uzcard without 3-D Secure


def order_request(**overrides) -> RegisterRequest:
    fields = {
        "amount": AMOUNT,
        "order_number": f"NB-{uuid.uuid4().hex[:12]}",
        "client_id": "client-1",
        "success_url": "https://salon.example/pay/success",
        "failure_url": "https://salon.example/pay/failure",
        "payment_details": "Haircut",
        "session_timeout_secs": 900,
    }
    fields.update(overrides)
    return RegisterRequest(**fields)


def pay(order_id, card=CARD, code=""):
    """Pay a registered order as the hosted page would (the sandbox's own service)."""
    from navbat.uzum_sandbox import bank

    return bank.pay(order_id=order_id, card_number=card, code=code)


IN_PROCESS = "in-process"
SOCKET = "socket"


def over_a_socket(test):
    """Run a contract test against a live server over a real socket: committed rows (a flush
    after the test) and a server thread, for what a socket adds (timeouts, httpcore's logs)."""
    test = pytest.mark.parametrize("bank", [SOCKET], indirect=True)(test)
    return pytest.mark.django_db(transaction=True)(test)
