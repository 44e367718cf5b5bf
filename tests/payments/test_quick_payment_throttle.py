"""The waiting screen's status polls ask the bank at most once per pause, however many arrive
at once: the claim is one UPDATE in the database, so it holds across threads and processes
(real threads, each with its own PostgreSQL connection)."""

import threading
from dataclasses import replace
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone

from navbat.payments import services as payments
from navbat.payments.models import PaymentOrder
from navbat.uzum_sandbox import bank, checkout

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
]

POLLS = 60
UZCARD = "8600000000000018"


@pytest.fixture
def status_calls(monkeypatch):
    """Counts the sandbox bank's answers to payment/getOrderStatus."""
    calls = []
    lock = threading.Lock()
    endpoint = checkout.ENDPOINTS["payment/getOrderStatus"]

    def counted(call):
        with lock:
            calls.append(call.body)
        return endpoint.handle(call)

    monkeypatch.setitem(
        checkout.ENDPOINTS, "payment/getOrderStatus", replace(endpoint, handle=counted)
    )
    return calls


def poll_at_once(url: str, count: int) -> list[int]:
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def poll():
        try:
            client = Client()
            barrier.wait(timeout=30)
            status = client.get(url).status_code
            with lock:
                statuses.append(status)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=poll) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def test_sixty_concurrent_polls_ask_the_bank_once(salon_a, connect_uzum, status_calls):
    connect_uzum(salon_a)
    link = payments.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    assert Client().post(f"/pay/{link.token}/card").status_code == 302
    order = PaymentOrder.objects.get(link=link)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    # The last question to the bank was asked longer ago than the pause.
    PaymentOrder.objects.filter(pk=order.pk).update(
        checked_at=timezone.now() - timedelta(seconds=4)
    )
    del status_calls[:]

    statuses = poll_at_once(f"/pay/{link.token}/status/{order.reference}", POLLS)

    assert statuses == [200] * POLLS
    assert len(status_calls) == 1
    order.refresh_from_db()
    assert (order.state, order.checks) == ("paid", 1)


def test_a_poll_within_the_pause_does_not_ask_and_one_after_it_does(
    salon_a, connect_uzum, status_calls
):
    connect_uzum(salon_a)
    link = payments.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    client = Client()
    assert client.post(f"/pay/{link.token}/card").status_code == 302
    order = PaymentOrder.objects.get(link=link)
    url = f"/pay/{link.token}/status/{order.reference}"
    PaymentOrder.objects.filter(pk=order.pk).update(checked_at=timezone.now())
    del status_calls[:]

    assert client.get(url).status_code == 200
    assert status_calls == []
    order.refresh_from_db()
    assert (order.state, order.checks) == ("pending", 0)

    PaymentOrder.objects.filter(pk=order.pk).update(
        checked_at=timezone.now() - timedelta(seconds=4)
    )
    assert client.get(url).status_code == 200
    assert len(status_calls) == 1
    order.refresh_from_db()
    assert (order.state, order.checks) == ("pending", 1)
