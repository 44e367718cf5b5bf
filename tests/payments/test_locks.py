"""Row locks on PostgreSQL (payments/locks.py): a payment write locks its own rows, not the
salon's Business row; every money path takes its locks in the written order; the Merchant
API's transaction lock no longer takes the order before the link."""

import re
import threading

import pytest
from django.apps import apps
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from navbat.payments import locks, services
from navbat.payments.models import PaymentOrder, State
from navbat.payments.providers import BankView
from navbat.uzum.merchant import services as merchant
from navbat.uzum.merchant.protocol import Request
from navbat.uzum.models import MerchantTransaction
from navbat.uzum_sandbox import bank
from tests.payments.jobs import start_payment
from tests.uzum.merchant import App, connect_app, link_of

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks (SQLite has none)"
    ),
]

UZCARD = "8600000000000018"
FOR_UPDATE = re.compile(r"\bFOR (?:NO KEY )?UPDATE\b(?: OF (?P<of>.+?))?(?: NOWAIT| SKIP LOCKED)?$")
TABLE = re.compile(r'(?:FROM|JOIN) "(\w+)"')


def rank() -> dict[str, int]:
    """Each table of the written lock order (locks.LOCK_ORDER) → its place."""
    return {
        apps.get_model(label)._meta.db_table: place for place, label in enumerate(locks.LOCK_ORDER)
    }


def locked_tables(queries) -> list[list[str]]:
    """For each ``SELECT … FOR UPDATE`` run, the tables it locks: those named after ``OF``,
    or, without it, every table of the statement (PostgreSQL locks joined rows too)."""
    locked = []
    for query in queries:
        sql = query["sql"].strip()
        found = FOR_UPDATE.search(sql)
        if not found:
            continue
        if found["of"]:
            locked.append(re.findall(r'"(\w+)"', found["of"]))
        else:
            locked.append(TABLE.findall(sql))
    return locked


def assert_in_lock_order(queries) -> list[str]:
    places = rank()
    sequence = [table for tables in locked_tables(queries) for table in tables]
    assert "salons_business" not in sequence
    unknown = [table for table in sequence if table not in places]
    assert unknown == []
    ordered = [places[table] for table in sequence]
    assert ordered == sorted(ordered), sequence
    return sequence


# ------------------------------------------------------------------ the order, path by path


@pytest.mark.django_db
def test_a_card_payment_locks_link_then_order_then_appointment(salon_a, connect_uzum):
    connect_uzum(salon_a)
    with CaptureQueriesContext(connection) as started:
        order = start_payment(salon_a)
    assert assert_in_lock_order(started.captured_queries) == [
        "payments_paymentlink",
        "payments_paymentorder",
    ]
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD, code="")
    with CaptureQueriesContext(connection) as refreshed:
        order = services.refresh(order=order)
    assert order.state == State.PAID
    # The link first: of two payments of one link, the later recorded sees the earlier.
    assert assert_in_lock_order(refreshed.captured_queries) == [
        "payments_paymentlink",
        "payments_paymentorder",
        "booking_appointment",
    ]


@pytest.mark.django_db
def test_the_merchant_api_locks_transaction_then_link_then_order(salon_a, connect_uzum):
    connection_row = connect_app(connect_uzum, salon_a)
    app = App(connection_row)
    link = link_of(salon_a)
    trans_id = "11111111-2222-3333-4444-555555555555"
    with CaptureQueriesContext(connection) as created:
        assert app.create(link.code, 10_000_000, trans_id=trans_id).status == 200
    assert assert_in_lock_order(created.captured_queries) == [
        "uzum_connection",
        "payments_paymentlink",
    ]
    with CaptureQueriesContext(connection) as confirmed:
        answer = app.confirm(trans_id)
    assert (answer.status, answer.body["status"]) == (200, "CONFIRMED")
    # Before: the transaction's lock joined the order (order before link).
    assert assert_in_lock_order(confirmed.captured_queries) == [
        "uzum_merchanttransaction",
        "payments_paymentlink",
        "payments_paymentorder",
        "booking_appointment",
    ]
    with CaptureQueriesContext(connection) as reversed_:
        answer = app.reverse(trans_id)
    assert (answer.status, answer.body["status"]) == (200, "REVERSED")
    assert assert_in_lock_order(reversed_.captured_queries) == [
        "uzum_merchanttransaction",
        "payments_paymentorder",
        "finance_transaction",
        "finance_transaction",
    ]


def test_the_written_order_is_the_order_the_tests_hold_paths_to():
    doc = locks.__doc__
    places = [doc.index(f"``{label}``") for label in locks.LOCK_ORDER]
    assert places == sorted(places)
    assert [apps.get_model(label)._meta.label for label in locks.LOCK_ORDER] == list(
        locks.LOCK_ORDER
    )


# --------------------------------------------------------- real locks, two connections


def _nowait(table: str, pk: int) -> bool:
    """Whether another session can lock that row right now (False: someone holds it)."""
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            sql = f'SELECT id FROM "{table}" WHERE id = %s FOR UPDATE NOWAIT'  # noqa: S608
            cursor.execute(sql, [pk])
        return True
    except OperationalError:
        return False


def _holding(work):
    """Run ``work(pause)`` in another thread (its own connection); ``pause()`` inside it
    returns once the test has looked. Yields while the thread is paused."""
    ready, release, errors = threading.Event(), threading.Event(), []

    def pause():
        ready.set()
        assert release.wait(20)

    def run():
        try:
            work(pause)
        except Exception as error:  # seen by the test below
            errors.append(error)
        finally:
            ready.set()
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    assert ready.wait(20)
    return thread, release, errors


@pytest.mark.django_db(transaction=True)
def test_a_payment_write_leaves_the_business_row_free(salon_a, connect_uzum, monkeypatch):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    business_id = salon_a.business.pk
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD, code="")
    paid = BankView(
        state=State.PAID,
        bank_order_id=order.bank_order_id,
        reference=order.reference,
        amount=order.amount,
        paid_amount=order.amount,
        card_kind="uzcard",
        card_scheme="UZCARD",
    )
    record_paid = services._record_paid
    pauses = []

    def paused_record(locked_order, view):
        pauses[0]()  # the order is locked: the test looks now
        record_paid(locked_order, view)

    monkeypatch.setattr(services, "_record_paid", paused_record)

    def write(pause):
        pauses.append(pause)
        services.apply_bank_view(order_id=order.pk, view=paid)

    thread, release, errors = _holding(write)
    try:
        order_free = _nowait("payments_paymentorder", order.pk)
        business_free = _nowait("salons_business", business_id)
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert (order_free, business_free) == (False, True)
    order.refresh_from_db()
    assert (order.state, order.paid_amount) == (State.PAID, order.amount)

    # The control: the lock as it was (joined rows locked too) does hold the Business row.
    def old_lock(pause):
        with transaction.atomic():
            PaymentOrder.objects.select_for_update().select_related("business").get(pk=order.pk)
            pause()

    thread, release, errors = _holding(old_lock)
    try:
        business_free = _nowait("salons_business", business_id)
    finally:
        release.set()
        thread.join(30)
    assert (errors, business_free) == ([], False)


@pytest.mark.django_db(transaction=True)
def test_the_merchant_transaction_lock_leaves_the_order_and_link_free(salon_a, connect_uzum):
    connection_row = connect_app(connect_uzum, salon_a)
    app = App(connection_row)
    link = link_of(salon_a)
    trans_id = "11111111-2222-3333-4444-666666666666"
    assert app.create(link.code, 10_000_000, trans_id=trans_id).status == 200
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    call = Request(
        endpoint="status",
        service_id=connection_row.merchant_service_id,
        timestamp=0,
        trans_id=tx.trans_id,
        trans_id_text=str(tx.trans_id),
    )

    def hold_transaction(pause):
        with transaction.atomic():
            locked = merchant._locked(connection_row, call)
            assert locked.order_id == tx.order_id
            pause()

    thread, release, errors = _holding(hold_transaction)
    try:
        looks = (
            _nowait("uzum_merchanttransaction", tx.pk),
            _nowait("payments_paymentorder", tx.order_id),
            _nowait("payments_paymentlink", link.pk),
            _nowait("salons_business", salon_a.business.pk),
        )
    finally:
        release.set()
        thread.join(30)
    assert errors == []
    assert looks == (False, True, True, True)
