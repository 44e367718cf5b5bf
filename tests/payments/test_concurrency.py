"""Real threads, real sockets, real PostgreSQL locks: one paid order's callback sent 200 times
at once, then its jobs (and reconciliation checks) run by several workers at once. Every
request hears 200; the books hold exactly one payment, one income and one fee."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection, connections
from django.utils import timezone

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import PaymentOrder, State
from navbat.payments.tasks import check_payment
from navbat.uzum import callbacks
from navbat.uzum import services as uzum
from navbat.uzum.models import Callback
from navbat.uzum.tasks import handle_callback
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Callback as BankCallback
from tests.payments.jobs import CALLBACK_JOB, CHECK_JOB, RETURN_URL, run_due, waiting

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]

# The live server listens with Django's backlog of 10 pending connections; 40 senders at
# once would overflow it and be reset before any HTTP is spoken. A bank's callbacks meet a
# production server's backlog, so give the test server one (set at collection, before the
# session's live server starts).
ThreadedWSGIServer.request_queue_size = 256

CALLBACKS = 200
SENDERS = 40  # parallel connections to the server (the database is shared with others)
WORKERS = 8
HAIRCUT = 10_000_000


def connect_live(salon, live_server, sandbox_terminal):
    """Connected to the sandbox over real HTTP, its callbacks aimed at the live server."""
    terminal = sandbox_terminal(merchant_name=salon.business.name)
    connected = uzum.connect(
        business=salon.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        checkout_base_url=live_server.url + "/sandbox/uzum/checkout",
    )
    root = f"{live_server.url}/uzum/checkout/{connected.public_id}"
    terminal.payment_callback_url = f"{root}/callback"
    terminal.event_callback_url = f"{root}/event"
    terminal.receipt_callback_url = f"{root}/receipt"
    terminal.save()
    return connected, terminal


def test_two_hundred_identical_callbacks_at_once_record_one_payment(
    salon_a, live_server, sandbox_terminal, monkeypatch
):
    # Every job and check may pull at once: the most contention the books can meet.
    monkeypatch.setattr(callbacks, "MIN_PULL_GAP", timedelta(0))
    connected, _terminal = connect_live(salon_a, live_server, sandbox_terminal)
    link = services.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    order = services.start_card_payment(
        link=link, language="ru", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018")
    body = BankCallback.objects.get().body  # what the bank itself would send
    url = f"{live_server.url}/uzum/checkout/{connected.public_id}/callback"

    barrier = threading.Barrier(SENDERS)

    def send(index: int) -> int:
        if index < SENDERS:
            barrier.wait(timeout=30)
        response = httpx.post(url, json=body, timeout=60)
        return response.status_code

    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(send, range(CALLBACKS)))

    assert statuses == [200] * CALLBACKS
    stored = Callback.objects.get()
    assert stored.repeats == CALLBACKS - 1  # no lost update among the repeats
    assert waiting(CALLBACK_JOB).count() == 1

    # Workers that deliver a job twice, and reconciliation checks at the same moment.
    order.refresh_from_db()
    for _ in range(20):
        handle_callback.enqueue(stored.pk)
        check_payment.using(run_after=order.next_check_at).enqueue(order.pk)
    due = order.next_check_at + timedelta(seconds=1)
    ran, errors = [], []
    start = threading.Barrier(WORKERS)

    def work(index: int) -> None:
        try:
            start.wait(timeout=30)
            ran.append(run_due(CALLBACK_JOB, CHECK_JOB, now=due, worker=f"w{index}"))
        except Exception as exc:  # the test must show any
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert sum(ran) == 42  # 21 callback jobs and 21 checks (one queued at the start), once each
    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.fee_amount) == (State.PAID, HAIRCUT, 100_000)
    business = salon_a.business
    incomes = Transaction.objects.filter(business=business, kind=TransactionKind.SALE_PAYMENT)
    fees = Transaction.objects.filter(business=business, kind=TransactionKind.BANK_FEE)
    assert [(t.pk, t.amount, t.register.name) for t in incomes] == [
        (order.income_id, HAIRCUT, "Uzum Bank")
    ]
    assert [(t.pk, t.amount) for t in fees] == [(order.fee_id, 100_000)]
    assert PaymentOrder.objects.filter(business=business).count() == 1
    assert Transaction.objects.filter(business=business).count() == 2
    stored.refresh_from_db()
    assert stored.handled_at is not None
    assert waiting(CALLBACK_JOB, CHECK_JOB).filter(run_after__lte=timezone.now()).count() == 0
