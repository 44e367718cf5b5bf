"""One bank order per link at a time: "Pay by card" pressed ten times at once, over real
sockets and real PostgreSQL locks, registers one order at the bank and sends every press to
its page. The bank is slowed so that every press arrives while the first one is still
registering (the moment two orders were made before)."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection

from navbat.payments import services
from navbat.payments.models import PaymentOrder, State
from navbat.uzum import services as uzum
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]

# Ten clients connect at once; Django's test server backlog is 10 (see test_concurrency).
ThreadedWSGIServer.request_queue_size = 256

PRESSES = 10
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def test_ten_presses_at_once_register_one_bank_order(salon_a, live_server, sandbox_terminal):
    terminal = sandbox_terminal(merchant_name=salon_a.business.name)
    # Every register call takes a second: all ten presses meet the first one mid-call.
    terminal.faults = {"payment/register": {"mode": "slow", "seconds": 1}}
    terminal.save()
    uzum.connect(
        business=salon_a.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        checkout_base_url=live_server.url + "/sandbox/uzum/checkout",
    )
    link = services.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    page = f"{live_server.url}/pay/{link.token}"
    barrier = threading.Barrier(PRESSES)

    def press(_index: int) -> tuple[int, str]:
        with httpx.Client(timeout=60) as browser:
            form = browser.get(page)
            token = CSRF_RE.search(form.text).group(1)
            barrier.wait(timeout=30)
            answer = browser.post(f"{page}/card", data={"csrfmiddlewaretoken": token})
            return answer.status_code, answer.headers.get("location", "")

    with ThreadPoolExecutor(PRESSES) as pool:
        answers = list(pool.map(press, range(PRESSES)))

    order = PaymentOrder.objects.get(link=link)
    assert (order.state, order.amount) == (State.PENDING, 10_000_000)
    assert BankOrder.objects.count() == 1
    assert str(BankOrder.objects.get().order_id) == order.bank_order_id
    assert answers == [(302, order.redirect_url)] * PRESSES

    # Paid once at the bank: one payment, and pressing again shows it, charges nothing.
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    services.refresh(order=order)
    order.refresh_from_db()
    assert order.state == State.PAID
    assert BankOrder.objects.count() == 1


def test_presses_waiting_on_a_register_that_fails_hear_why(
    salon_a, live_server, sandbox_terminal, monkeypatch
):
    """The first press's register call times out (the bank did the work): the presses that
    waited for it are told the bank is not answering; none registers an order of its own."""
    from navbat.uzum import clients

    monkeypatch.setattr(clients, "timeout_seconds", 1.0)
    terminal = sandbox_terminal(merchant_name=salon_a.business.name)
    terminal.faults = {"payment/register": {"mode": "work_then_timeout", "seconds": 3}}
    terminal.save()
    uzum.connect(
        business=salon_a.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        checkout_base_url=live_server.url + "/sandbox/uzum/checkout",
    )
    link = services.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    page = f"{live_server.url}/pay/{link.token}"
    presses = 4
    barrier = threading.Barrier(presses)

    def press(_index: int) -> tuple[int, str]:
        with httpx.Client(timeout=60) as browser:
            token = CSRF_RE.search(browser.get(page).text).group(1)
            barrier.wait(timeout=30)
            answer = browser.post(f"{page}/card", data={"csrfmiddlewaretoken": token})
            error = re.search(r'id="pay-error">([^<]*)<', answer.text)
            return answer.status_code, error.group(1) if error else ""

    with ThreadPoolExecutor(presses) as pool:
        answers = list(pool.map(press, range(presses)))

    assert answers == [(200, "The bank is not answering. Try again in a minute.")] * presses
    order = PaymentOrder.objects.get(link=link)
    assert (order.state, order.bank_order_id) == (State.CANCELLED, "")
    assert BankOrder.objects.count() == 1  # the bank did the work once
