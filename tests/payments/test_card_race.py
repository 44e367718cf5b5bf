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
