"""Two administrators binding two appointments to one checkout point at the same moment, on
PostgreSQL with real threads: the point's row lock queues them; one wins, the other is told
which appointment holds the point; exactly one binding is in force. And binding takes its
locks in the written order (payments/locks.py): the point, then the link."""

import threading
import time

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext

from navbat.payments import locks, qr
from navbat.payments.models import PaymentLink, PointBinding
from tests.payments.test_locks import assert_in_lock_order

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks"),
]


@pytest.mark.django_db
def test_binding_locks_the_point_then_the_link(salon_a):
    with CaptureQueriesContext(connection) as bound:
        qr.bind(
            point=salon_a.checkout_point, kind="appointment", payable_id=salon_a.appointments[0].pk
        )
    assert assert_in_lock_order(bound.captured_queries) == [
        "salons_checkoutpoint",
        "payments_paymentlink",
    ]


@pytest.mark.django_db(transaction=True)
@pytest.mark.transactional
def test_two_administrators_binding_one_point_at_once(salon_a, monkeypatch):
    lock_point = locks.lock_point

    def slow_lock(*, pk):
        # Whoever holds the point holds it a while: the other is surely waiting on the lock,
        # not merely later.
        point = lock_point(pk=pk)
        time.sleep(0.3)
        return point

    monkeypatch.setattr(locks, "lock_point", slow_lock)
    point = salon_a.checkout_point
    first, second = salon_a.appointments
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def administrator(appointment, user):
        try:
            barrier.wait(timeout=10)
            results[appointment.pk] = qr.bind(
                point=point, kind="appointment", payable_id=appointment.pk, author=user
            )
        except Exception as error:  # the test reads it below
            results[appointment.pk] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=administrator, args=(first, salon_a.admin)),
        threading.Thread(target=administrator, args=(second, salon_a.owner)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    won = [pk for pk, result in results.items() if isinstance(result, PointBinding)]
    lost = [pk for pk, result in results.items() if isinstance(result, qr.BindingConflict)]
    assert len(won) == 1 and len(lost) == 1, results
    refusal = results[lost[0]]
    assert (refusal.reason, refusal.held_kind, refusal.held_id) == ("held", "appointment", won[0])
    assert refusal.messages == [f"Desk is waiting for the payment of Appointment #{won[0]}."]
    in_force = PointBinding.objects.filter(point=point, ended_at=None)
    assert [(b.link.payable_id, b.end_reason) for b in in_force] == [(won[0], "")]
    assert PointBinding.objects.filter(point=point).count() == 1
    assert qr.in_force(point=point).link.payable_id == won[0]
    assert PaymentLink.objects.filter(payable_id=won[0]).count() == 1
