"""A card completed on the bank's page and the app's /confirm arriving at the same moment, on
PostgreSQL with real threads and row locks: both record under the link's lock, so either the
app is refused (10008, nothing booked for it) or the card, recorded later, is the duplicate
with its refund queued. Never two payments with neither marked."""

import uuid

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import PaymentOrder, State
from navbat.uzum.models import MerchantTransaction
from navbat.uzum_sandbox import bank
from tests.payments.jobs import RETURN_URL
from tests.uzum.merchant import link_of
from tests.uzum.test_merchant_concurrency import LiveApp, all_at_once, connect_live

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]

HAIRCUT = 10_000_000
UZCARD = "8600000000000018"
DUPLICATE_JOB = "navbat.payments.tasks.refund_duplicate"
ROUNDS = 4


def _in_thread(call):
    def run():
        try:
            return call()
        finally:
            connection.close()

    return run


def test_a_card_and_an_app_paying_at_once_leave_one_payment_or_a_marked_duplicate(
    salon_a, live_server, sandbox_terminal
):
    connected = connect_live(salon_a, live_server, sandbox_terminal)
    app = LiveApp(live_server, connected)
    appointments = [salon_a.appointments[0]] + [
        salon_a.book(hour=12 + 2 * round_) for round_ in range(ROUNDS - 1)
    ]
    outcomes = []
    for appointment in appointments:
        link = link_of(salon_a, appointment)
        card = services.start_card_payment(
            link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
        )
        trans_id = uuid.uuid4()
        status, body = app.create(link.code, trans_id)
        assert (status, body["status"]) == (200, "CREATED")
        bank.pay(order_id=card.bank_order_id, card_number=UZCARD)
        jobs_before = DBTaskResult.objects.filter(task_path=DUPLICATE_JOB).count()

        recorded, (status, body) = all_at_once(
            [
                _in_thread(lambda c=card: services.refresh(order=c)),
                lambda t=trans_id: app.confirm(t),
            ]
        )

        card.refresh_from_db()
        in_app = MerchantTransaction.objects.get(trans_id=trans_id).order
        incomes = Transaction.objects.filter(
            document=appointment.document, kind=TransactionKind.SALE_PAYMENT
        ).count()
        jobs = DBTaskResult.objects.filter(task_path=DUPLICATE_JOB).count() - jobs_before
        assert recorded.state == card.state == State.PAID
        if status == 200:
            assert body["status"] == "CONFIRMED"
            assert (in_app.state, in_app.duplicate_of_id) == (State.PAID, None)
            assert card.duplicate_of_id == in_app.pk
            assert (incomes, jobs) == (2, 1)
            outcomes.append("card duplicate")
        else:
            assert (status, body["errorCode"]) == (400, "10008")
            assert (in_app.state, card.duplicate_of_id) == (State.CANCELLED, None)
            assert (incomes, jobs) == (1, 0)
            outcomes.append("app refused")
    assert len(outcomes) == ROUNDS
    assert PaymentOrder.objects.filter(duplicate_of__isnull=False).count() == outcomes.count(
        "card duplicate"
    )
