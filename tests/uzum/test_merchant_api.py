"""The Merchant API as the Uzum Bank app meets it, over HTTP (Django's full request stack with
CSRF enforced, and once over a real socket): the sequences Uzum's tester runs (check → create
→ confirm → status, create → reverse, confirm → reverse, every replay), the 30-minute rule run
by the job, neither payment method holding the link against the other, and what
``paymentSource`` makes of the card kind and the 2026 fee. Every answer is compared field
by field; every call that must not change anything is checked against the rows before and
after it."""

import time
import uuid
from datetime import date, timedelta

import httpx
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from navbat.finance.models import Transaction, TransactionKind
from navbat.finance.selectors import paid_amount
from navbat.kit.timeutil import to_local
from navbat.payments import services as payments
from navbat.payments.models import Method, PaymentOrder, State
from navbat.payments.states import EXPIRY_MARGIN
from navbat.uzum.merchant import services as merchant
from navbat.uzum.models import MerchantTransaction, TransactionState
from tests.payments.jobs import RETURN_URL, run_due
from tests.uzum.merchant import LOGIN, PASSWORD, SERVICE_ID, connect_app, link_of

pytestmark = pytest.mark.django_db

DUE = 10_000_000  # the first appointment: one haircut, 100 000 so'm
UZCARD_FEE = 100_000  # 1 % in 2026
EXPIRY_JOB = "navbat.uzum.tasks.expire_app_transaction"

CREATE_KEYS = {"serviceId", "transId", "status", "transTime", "amount"}
CONFIRM_KEYS = {"serviceId", "transId", "status", "confirmTime", "amount"}
REVERSE_KEYS = {"serviceId", "transId", "status", "reverseTime", "amount"}
STATUS_KEYS = {
    "serviceId",
    "transId",
    "status",
    "transTime",
    "confirmTime",
    "reverseTime",
    "amount",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def assert_ms(value, low: int, high: int) -> None:
    """A Unix-millisecond time taken while the request was served."""
    assert type(value) is int
    assert low <= value <= high


SUCCESS_KEYS = {"CREATED": CREATE_KEYS, "CONFIRMED": CONFIRM_KEYS, "REVERSED": REVERSE_KEYS}
TIME_KEY = {"CREATED": "transTime", "CONFIRMED": "confirmTime", "REVERSED": "reverseTime"}


def assert_success(answer, status: str, trans_id: str, before: int, after: int) -> int:
    """The exact success shape of /create, /confirm or /reverse (uzum-bank.md §2); returns
    its time, which must have been taken while the request was served."""
    assert answer.status == 200, answer.body
    assert set(answer.body) == SUCCESS_KEYS[status]
    assert answer.body["serviceId"] == SERVICE_ID
    assert answer.body["transId"] == trans_id
    assert answer.body["status"] == status
    assert answer.body["amount"] == DUE
    assert type(answer.body["amount"]) is int
    moment = answer.body[TIME_KEY[status]]
    assert_ms(moment, before, after)
    return moment


def snapshot(business) -> dict:
    """Every row a Merchant API call could write for a business, in a comparable form."""
    return {
        "orders": list(
            PaymentOrder.objects.filter(business=business)
            .order_by("id")
            .values_list(
                "id", "method", "state", "amount", "paid_amount", "refunded_amount", "expires_at"
            )
        ),
        "transactions": list(
            MerchantTransaction.objects.filter(business=business)
            .order_by("id")
            .values_list("id", "trans_id", "state", "confirmed_at", "reversed_at", "failed_at")
        ),
        "books": list(
            Transaction.objects.filter(business=business)
            .order_by("id")
            .values_list("id", "kind", "amount", "reverses_id")
        ),
        "jobs": DBTaskResult.objects.count(),
    }


def books(appointment) -> list[tuple[str, int]]:
    rows = Transaction.objects.filter(document=appointment.document).order_by("id")
    return [(row.kind, row.amount) for row in rows]


def order_of(trans_id) -> PaymentOrder:
    return MerchantTransaction.objects.get(trans_id=trans_id).order


def created(app, link) -> str:
    answer = app.create(link.code, DUE)
    assert (answer.status, answer.body["status"]) == (200, "CREATED"), answer.body
    return answer.body["transId"]


def confirmed(app, link, source="UZCARD") -> str:
    trans_id = created(app, link)
    answer = app.confirm(trans_id, source)
    assert (answer.status, answer.body["status"]) == (200, "CONFIRMED"), answer.body
    return trans_id


# ---- Uzum's tester: check → create → confirm → status -------------------------------------


def test_check_create_confirm_status_answer_the_documented_shapes(salon_a, app, link):
    appointment = salon_a.appointments[0]
    trans_id = str(uuid.uuid4())

    before = now_ms()
    check = app.check(link.code)
    after = now_ms()
    assert check.status == 200
    assert set(check.body) == {"serviceId", "timestamp", "status", "data"}
    assert check.body["serviceId"] == SERVICE_ID
    assert check.body["status"] == "OK"
    assert_ms(check.body["timestamp"], before, after)
    starts = to_local(appointment.starts_at, "Asia/Tashkent")
    assert check.body["data"] == {
        "salon": {"value": "Salon A"},
        "service": {"value": "Haircut A"},
        "specialist": {"value": "Specialist A0"},
        "time": {"value": f"{starts:%d.%m.%Y} 10:00"},
        "due": {"value": "100 000 so'm"},
        "amount": {"value": "10000000"},
    }

    before = now_ms()
    create = app.create(link.code, DUE, trans_id)
    after = now_ms()
    trans_time = assert_success(create, "CREATED", trans_id, before, after)

    status = app.status(trans_id)
    assert status.status == 200
    assert status.body == {
        "serviceId": SERVICE_ID,
        "transId": trans_id,
        "status": "CREATED",
        "transTime": trans_time,
        "confirmTime": None,
        "reverseTime": None,
        "amount": DUE,
    }
    order = order_of(trans_id)
    assert (order.method, order.state, order.amount) == (Method.APP, State.PENDING, DUE)
    assert order.bank_order_id == trans_id
    assert books(appointment) == []

    before = now_ms()
    confirm = app.confirm(trans_id)
    after = now_ms()
    assert_success(confirm, "CONFIRMED", trans_id, before, after)
    assert trans_time <= confirm.body["confirmTime"]

    status = app.status(trans_id)
    assert status.status == 200
    assert set(status.body) == STATUS_KEYS
    assert status.body == {
        "serviceId": SERVICE_ID,
        "transId": trans_id,
        "status": "CONFIRMED",
        "transTime": trans_time,
        "confirmTime": confirm.body["confirmTime"],
        "reverseTime": None,
        "amount": DUE,
    }

    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert tx.state == TransactionState.CONFIRMED
    assert (tx.payment_source, tx.phone, tx.processing_reference) == (
        "UZCARD",
        "998901234567",
        "123456789012",
    )
    order = tx.order
    assert order.state == State.PAID
    assert (order.paid_amount, order.refunded_amount) == (DUE, 0)
    assert (order.card_kind, order.card_scheme, order.rrn) == ("uzcard", "UZCARD", "123456789012")
    assert (order.fee_rate_bp, order.fee_amount) == (100, UZCARD_FEE)
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, UZCARD_FEE),
    ]
    assert (order.income.amount, order.fee.amount) == (DUE, UZCARD_FEE)
    assert paid_amount(document=appointment.document) == DUE
    appointment.refresh_from_db()
    assert appointment.status == "confirmed"  # a paid booking is as good as confirmed


def test_status_and_check_change_nothing_at_any_stage(salon_a, app, link):
    trans_id = created(app, link)

    before = snapshot(salon_a.business)
    assert app.status(trans_id).body["status"] == "CREATED"
    # An unconfirmed transaction does not hold the link: /check still answers what is due.
    assert app.check(link.code).body["status"] == "OK"
    assert app.status(trans_id).body["status"] == "CREATED"
    assert snapshot(salon_a.business) == before

    assert app.confirm(trans_id).status == 200
    before = snapshot(salon_a.business)
    assert app.status(trans_id).body["status"] == "CONFIRMED"
    assert app.check(link.code).code == "10008"
    assert app.status(trans_id).body["status"] == "CONFIRMED"
    assert snapshot(salon_a.business) == before

    assert app.reverse(trans_id).status == 200
    before = snapshot(salon_a.business)
    assert app.status(trans_id).body["status"] == "REVERSED"
    assert app.check(link.code).body["status"] == "OK"
    assert app.status(trans_id).body["status"] == "REVERSED"
    assert snapshot(salon_a.business) == before
    assert len(before["orders"]) == 1
    assert len(before["transactions"]) == 1
    assert len(before["books"]) == 4


# ---- create → reverse ------------------------------------------------------------------------


def test_create_then_reverse_cancels_the_order_and_frees_the_link(salon_a, app, link):
    appointment = salon_a.appointments[0]
    trans_id = created(app, link)
    trans_time = app.status(trans_id).body["transTime"]

    before = now_ms()
    reverse = app.reverse(trans_id)
    after = now_ms()

    assert_success(reverse, "REVERSED", trans_id, before, after)
    assert app.status(trans_id).body == {
        "serviceId": SERVICE_ID,
        "transId": trans_id,
        "status": "REVERSED",
        "transTime": trans_time,
        "confirmTime": None,
        "reverseTime": reverse.body["reverseTime"],
        "amount": DUE,
    }
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert tx.state == TransactionState.REVERSED
    assert tx.confirmed_at is None
    assert (tx.order.state, tx.order.paid_amount) == (State.CANCELLED, 0)
    assert books(appointment) == []
    assert paid_amount(document=appointment.document) == 0

    again = app.create(link.code, DUE)
    assert again.status == 200
    assert again.body["status"] == "CREATED"
    assert again.body["transId"] != trans_id
    assert list(
        PaymentOrder.objects.filter(link=link).order_by("id").values_list("state", flat=True)
    ) == [State.CANCELLED, State.PENDING]


# ---- confirm → reverse -----------------------------------------------------------------------


def test_confirm_then_reverse_reverses_the_income_and_the_fee(salon_a, app, link):
    appointment = salon_a.appointments[0]
    trans_id = confirmed(app, link)
    status = app.status(trans_id).body

    before = now_ms()
    reverse = app.reverse(trans_id)
    after = now_ms()

    assert_success(reverse, "REVERSED", trans_id, before, after)
    final = app.status(trans_id).body
    assert final == {**status, "status": "REVERSED", "reverseTime": reverse.body["reverseTime"]}
    assert final["transTime"] <= final["confirmTime"] <= final["reverseTime"]

    order = order_of(trans_id)
    assert order.state == State.REFUNDED
    assert order.refunded_amount == order.paid_amount == DUE
    rows = list(Transaction.objects.filter(document=appointment.document).order_by("id"))
    assert [(row.kind, row.amount) for row in rows] == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, UZCARD_FEE),
        (TransactionKind.REFUND, DUE),
        (TransactionKind.FEE_RETURN, UZCARD_FEE),
    ]
    income, fee, refund, fee_back = rows
    assert (refund.reverses_id, fee_back.reverses_id) == (income.pk, fee.pk)
    assert (order.income_id, order.fee_id) == (income.pk, fee.pk)
    assert paid_amount(document=appointment.document) == 0
    # The money went back: the visit is due again and the app may take it anew.
    assert app.check(link.code).body["data"]["amount"] == {"value": str(DUE)}


# ---- replays -------------------------------------------------------------------------------


def test_every_replay_answers_its_code_and_changes_nothing(salon_a, app, link):
    trans_id = str(uuid.uuid4())
    assert app.create(link.code, DUE, trans_id).status == 200

    before = snapshot(salon_a.business)
    replay = app.create(link.code, DUE, trans_id)
    assert (replay.status, replay.body) == (
        400,
        {"serviceId": SERVICE_ID, "transId": trans_id, "status": "FAILED", "errorCode": "10010"},
    )
    assert snapshot(salon_a.business) == before

    assert app.confirm(trans_id).status == 200
    before = snapshot(salon_a.business)
    replay = app.confirm(trans_id)
    assert (replay.status, replay.body) == (
        400,
        {"serviceId": SERVICE_ID, "transId": trans_id, "status": "FAILED", "errorCode": "10016"},
    )
    # A different source on the replay must not re-rate the payment either.
    assert app.confirm(trans_id, "INSTALLMENT", "003").code == "10016"
    assert app.create(link.code, DUE, trans_id).code == "10010"
    assert snapshot(salon_a.business) == before

    assert app.reverse(trans_id).status == 200
    before = snapshot(salon_a.business)
    replay = app.reverse(trans_id)
    assert (replay.status, replay.body) == (
        400,
        {"serviceId": SERVICE_ID, "transId": trans_id, "status": "FAILED", "errorCode": "10018"},
    )
    assert app.create(link.code, DUE, trans_id).code == "10010"
    assert snapshot(salon_a.business) == before
    assert [row[2] for row in before["books"]] == [DUE, UZCARD_FEE, DUE, UZCARD_FEE]


# ---- over a real socket --------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_sequence_over_a_real_socket(salon_a, connect_uzum, live_server):
    connection = connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    base = f"{live_server.url}/uzum/merchant/{connection.public_id}"
    trans_id = str(uuid.uuid4())

    def post(endpoint, body, auth=(LOGIN, PASSWORD)):
        body = {"serviceId": SERVICE_ID, "timestamp": now_ms(), **body}
        return httpx.post(f"{base}/{endpoint}", json=body, auth=auth, timeout=30)

    denied = post(
        "create",
        {"transId": trans_id, "params": {"order": link.code}, "amount": DUE},
        auth=(LOGIN, "wrong"),
    )
    assert denied.status_code == 400
    assert denied.json() == {"status": "FAILED", "errorCode": "10001"}
    assert trans_id not in denied.text and str(SERVICE_ID) not in denied.text

    check = post("check", {"params": {"order": link.code}})
    assert (check.status_code, check.json()["status"]) == (200, "OK")
    create = post("create", {"transId": trans_id, "params": {"order": link.code}, "amount": DUE})
    assert (create.status_code, create.json()["status"]) == (200, "CREATED")
    confirm = post(
        "confirm", {"transId": trans_id, "paymentSource": "HUMO", "phone": "998901234567"}
    )
    assert confirm.status_code == 200
    assert confirm.headers["content-type"] == "application/json"
    assert confirm.json()["status"] == "CONFIRMED"

    # Read through this thread's own connection: the server's confirmation is committed.
    order = order_of(trans_id)
    assert (order.state, order.card_kind, order.fee_amount) == (State.PAID, "humo", UZCARD_FEE)
    assert books(salon_a.appointments[0]) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, UZCARD_FEE),
    ]

    status = post("status", {"transId": trans_id})
    assert status.status_code == 200
    assert status.json() == {
        "serviceId": SERVICE_ID,
        "transId": trans_id,
        "status": "CONFIRMED",
        "transTime": create.json()["transTime"],
        "confirmTime": confirm.json()["confirmTime"],
        "reverseTime": None,
        "amount": DUE,
    }
    assert (
        post("confirm", {"transId": trans_id, "paymentSource": "HUMO", "phone": "1"}).json()[
            "errorCode"
        ]
        == "10016"
    )


# ---- the 30-minute rule, run by the job ------------------------------------------------------


def test_the_expiry_job_is_queued_for_just_after_thirty_minutes(salon_a, app, link):
    trans_id = created(app, link)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)

    job = DBTaskResult.objects.get(task_path=EXPIRY_JOB)
    assert job.run_after == tx.created_at + timedelta(minutes=30, seconds=1)
    assert job.args_kwargs == {"args": [tx.pk], "kwargs": {}}


def test_expire_before_thirty_minutes_changes_nothing(salon_a, app, link):
    trans_id = created(app, link)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    before = snapshot(salon_a.business)

    assert merchant.expire(transaction_id=tx.pk, now=tx.created_at + timedelta(minutes=29)) is False
    assert (
        merchant.expire(transaction_id=tx.pk, now=tx.created_at + timedelta(minutes=29, seconds=59))
        is False
    )

    assert snapshot(salon_a.business) == before
    assert app.status(trans_id).body["status"] == "CREATED"
    assert order_of(trans_id).state == State.PENDING


def expired(app, link) -> tuple[str, MerchantTransaction]:
    trans_id = created(app, link)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    moment = tx.created_at + timedelta(minutes=30)
    assert merchant.expire(transaction_id=tx.pk, now=moment) is True
    tx.refresh_from_db()
    assert tx.state == TransactionState.FAILED
    assert tx.failed_at == moment
    assert tx.order.state == State.EXPIRED
    assert tx.order.failure_reason == (
        "The payment in the Uzum Bank app was not completed in time."
    )
    return trans_id, tx


def test_expire_after_thirty_minutes_lets_a_card_payment_start(salon_a, app, link):
    trans_id, tx = expired(app, link)
    before = snapshot(salon_a.business)
    assert merchant.expire(transaction_id=tx.pk, now=tx.created_at + timedelta(hours=1)) is False
    assert snapshot(salon_a.business) == before

    card = payments.start_card_payment(
        link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    assert (card.method, card.state, card.amount) == (Method.CARD, State.PENDING, DUE)
    assert app.status(trans_id).code == "10015"
    assert app.confirm(trans_id).code == "10015"
    assert books(salon_a.appointments[0]) == []


def test_expire_after_thirty_minutes_lets_a_new_app_payment_through(salon_a, app, link):
    trans_id, _tx = expired(app, link)

    again = confirmed(app, link, "VISA")

    assert again != trans_id
    assert order_of(again).state == State.PAID
    assert order_of(trans_id).state == State.EXPIRED
    assert books(salon_a.appointments[0]) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, UZCARD_FEE),
    ]


def test_the_queued_job_fails_a_transaction_left_thirty_minutes(salon_a, app, link):
    trans_id = created(app, link)
    MerchantTransaction.objects.filter(trans_id=trans_id).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )

    assert run_due(EXPIRY_JOB, now=timezone.now() + timedelta(minutes=31)) == 1

    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.state, tx.order.state) == (TransactionState.FAILED, State.EXPIRED)
    assert app.create(link.code, DUE).body["status"] == "CREATED"


def test_the_queued_job_leaves_a_confirmed_payment_alone(salon_a, app, link):
    trans_id = created(app, link)
    assert app.confirm(trans_id).status == 200
    MerchantTransaction.objects.filter(trans_id=trans_id).update(
        created_at=timezone.now() - timedelta(minutes=31)
    )
    before = snapshot(salon_a.business)

    assert run_due(EXPIRY_JOB, now=timezone.now() + timedelta(minutes=31)) == 1

    assert snapshot(salon_a.business) == before
    assert app.status(trans_id).body["status"] == "CONFIRMED"
    assert order_of(trans_id).state == State.PAID


# ---- never locked out: neither method holds the link against the other (issue 12) ----------


def test_an_app_transaction_under_way_does_not_stop_a_card_payment(salon_a, app, link):
    trans_id = created(app, link)

    card = payments.start_card_payment(
        link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )

    assert (card.method, card.state, card.amount) == (Method.CARD, State.PENDING, DUE)
    assert list(
        PaymentOrder.objects.filter(link=link).order_by("id").values_list("method", "state")
    ) == [(Method.APP, State.PENDING), (Method.CARD, State.PENDING)]
    assert order_of(trans_id).state == State.PENDING
    assert books(salon_a.appointments[0]) == []


def test_a_pending_card_order_does_not_stop_an_app_create(salon_a, app, link):
    card = payments.start_card_payment(
        link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    trans_id = str(uuid.uuid4())

    answer = app.create(link.code, DUE, trans_id)

    assert (answer.status, answer.body["status"], answer.body["transId"]) == (
        200,
        "CREATED",
        trans_id,
    )
    card.refresh_from_db()
    assert card.state == State.PENDING
    assert order_of(trans_id).state == State.PENDING
    assert books(salon_a.appointments[0]) == []


@pytest.mark.parametrize("past_end", [timedelta(seconds=-5), timedelta(seconds=1)])
def test_a_card_order_in_or_past_its_session_leaves_the_app_free(salon_a, app, link, past_end):
    """Before, a card session blocked the app until it ended plus the margin in which the
    bank may still finish a payment begun in it. Now neither the session nor the margin
    does: should the card still complete, it is a duplicate, refunded (payments.duplicates)."""
    card = payments.start_card_payment(
        link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    PaymentOrder.objects.filter(pk=card.pk).update(
        expires_at=timezone.now() - EXPIRY_MARGIN + past_end
    )
    assert app.check(link.code).body["status"] == "OK"

    trans_id = created(app, link)

    assert list(
        PaymentOrder.objects.filter(link=link).order_by("id").values_list("method", "state")
    ) == [(Method.CARD, State.PENDING), (Method.APP, State.PENDING)]
    assert order_of(trans_id).amount == DUE


# ---- paymentSource: the card kind and the fee of 2026 ----------------------------------------


@pytest.mark.parametrize(
    ("source", "tariff_sent", "card_kind", "rate_bp", "fee", "tariff_kept"),
    [
        ("UZCARD", "003", "uzcard", 100, 100_000, ""),
        ("HUMO", "", "humo", 100, 100_000, ""),
        ("VISA", "", "visa", 100, 100_000, ""),
        ("MASTERCARD", "", "mastercard", 100, 100_000, ""),
        ("VISA_DOMESTIC", "", "visa", 100, 100_000, ""),
        ("MASTERCARD_DOMESTIC", "15-0-4", "mastercard", 100, 100_000, ""),
        ("UZUM_DEBIT_VISA", "", "uzum_visa", 100, 100_000, ""),
        ("VISAUZS", "", "uzum_visa", 100, 100_000, ""),
        ("INSTALLMENT", "15-0-4", "installment", 500, 500_000, "15-0-4"),
        ("ACCOUNT", "", "other", 100, 100_000, ""),
    ],
)
def test_payment_source_gives_the_card_kind_and_the_fee(
    salon_a, app, link, source, tariff_sent, card_kind, rate_bp, fee, tariff_kept
):
    trans_id = created(app, link)

    assert app.confirm(trans_id, source, tariff_sent or None).status == 200

    order = order_of(trans_id)
    assert to_local(order.paid_at, "Asia/Tashkent").date() >= date(2026, 1, 1)
    assert (order.state, order.paid_amount) == (State.PAID, DUE)
    assert (order.card_kind, order.card_scheme) == (card_kind, source)
    assert (order.fee_rate_bp, order.fee_amount) == (rate_bp, fee)
    assert order.tariff == tariff_kept
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.payment_source, tx.tariff) == (source, tariff_kept)
    assert books(salon_a.appointments[0]) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, fee),
    ]
    note = " ".join(
        part for part in ("Uzum Bank app", source, tariff_kept, "RRN 123456789012") if part
    )
    assert order.income.note == note


def test_the_daily_reconciliation_reads_app_payments_without_asking_checkout(
    salon_a, app, link, monkeypatch
):
    """App payments have no Checkout order: the nightly check compares them with our record
    of the app's transactions, finds nothing to list, and never calls Checkout."""
    from navbat.payments import reconciliation
    from navbat.payments.models import Difference
    from navbat.uzum import clients

    paid_id, open_id = uuid.uuid4(), uuid.uuid4()
    assert app.create(link.code, DUE, paid_id).status == 200
    assert app.confirm(paid_id, source="HUMO").status == 200
    second = link_of(salon_a, salon_a.appointments[1])
    second_due = salon_a.appointments[1].total
    assert app.create(second.code, second_due, open_id).status == 200

    def no_checkout():
        raise AssertionError("the daily check of app payments asked Checkout")

    monkeypatch.setattr(clients, "transport_factory", no_checkout)
    assert reconciliation.run_daily(business=salon_a.business) == 0
    assert app.reverse(paid_id).status == 200
    assert reconciliation.run_daily(business=salon_a.business) == 0
    assert Difference.objects.filter(business=salon_a.business).count() == 0
    assert order_of(paid_id).state == State.REFUNDED
    assert order_of(open_id).state == State.PENDING


# ---- /confirm's optional fields arrive as null (uzum-bank.md §2) -----------------------------


def test_the_parser_takes_null_tariff_and_processing_reference():
    from navbat.uzum.merchant.protocol import parse

    body = {
        "serviceId": SERVICE_ID,
        "timestamp": 1_760_000_000_000,
        "transId": str(uuid.uuid4()),
        "paymentSource": "ACCOUNT",
        "phone": "998901234567",
        "tariff": None,
        "processingReferenceNumber": None,
        "cardType": None,
    }
    request = parse("confirm", body)
    assert (request.tariff, request.processing_reference, request.card_type) == ("", "", "")


@pytest.mark.parametrize(
    ("source", "tariff", "reference", "kept"),
    [
        ("ACCOUNT", None, None, ("", "")),
        ("INSTALLMENT", "003", None, ("003", "")),
        ("HUMO", None, "123456789012", ("", "123456789012")),
    ],
)
def test_confirm_with_null_tariff_or_processing_reference_is_paid(
    salon_a, app, link, source, tariff, reference, kept
):
    trans_id = created(app, link)
    body = {
        **app._echo(trans_id),
        "paymentSource": source,
        "phone": "998901234567",
        "tariff": tariff,
        "processingReferenceNumber": reference,
    }
    answer = app.post("confirm", body)
    assert (answer.status, answer.body["status"]) == (200, "CONFIRMED"), answer.body
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.state, tx.tariff, tx.processing_reference) == (TransactionState.CONFIRMED, *kept)
    assert (order_of(trans_id).state, order_of(trans_id).paid_amount) == (State.PAID, DUE)
