"""Issue 12, item 7: a client is never locked out of paying. A card page the client opened and
left does not stop the Uzum Bank app (/check, /create and /confirm succeed at once), an app
transaction under way does not stop a card payment, and the one-road-at-a-time rule holds
only where money is really taken: a card paid first means the app's /confirm is refused and
the app takes nothing."""

import uuid

import pytest
from django_tasks_db.models import DBTaskResult

from navbat.booking.selectors import money_of
from navbat.finance.models import PaymentState, Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.models import Method, PaymentOrder, Refund, State
from navbat.uzum.models import MerchantTransaction, TransactionState
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.jobs import RETURN_URL
from tests.uzum.merchant import SERVICE_ID, App, connect_app, link_of

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
DUE = 10_000_000  # the first appointment: one haircut, 100 000 so'm
FEE = 100_000  # 1 % (2026) for Uzcard, by card or in the app
DUPLICATE_JOB = "navbat.payments.tasks.refund_duplicate"


def books(appointment) -> list[tuple[str, int]]:
    rows = Transaction.objects.filter(document=appointment.document).order_by("id")
    return [(row.kind, row.amount) for row in rows]


def rows(business) -> dict:
    """Every row a payment could write, to compare before and after a refused call."""
    return {
        "orders": list(
            PaymentOrder.objects.filter(business=business)
            .order_by("id")
            .values_list("id", "method", "state", "paid_amount", "refunded_amount", "duplicate_of")
        ),
        "transactions": list(
            MerchantTransaction.objects.filter(business=business)
            .order_by("id")
            .values_list("id", "state")
        ),
        "books": list(
            Transaction.objects.filter(business=business)
            .order_by("id")
            .values_list("id", "kind", "amount")
        ),
        "refunds": Refund.objects.count(),
        "duplicate_jobs": DBTaskResult.objects.filter(task_path=DUPLICATE_JOB).count(),
    }


def open_card_page(link) -> PaymentOrder:
    """The client pressed "Pay by card": an order open at the sandbox bank, the client sent
    to its page."""
    order = services.start_card_payment(
        link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    assert (order.state, order.method, order.amount) == (State.PENDING, Method.CARD, DUE)
    assert order.redirect_url
    assert BankOrder.objects.get(order_id=order.bank_order_id).status == "REGISTERED"
    return order


@pytest.fixture
def app(salon_a, connect_uzum):
    return App(connect_app(connect_uzum, salon_a))


@pytest.fixture
def link(salon_a):
    return link_of(salon_a)


def test_after_the_card_page_was_opened_the_app_checks_creates_and_confirms_at_once(
    salon_a, app, link
):
    appointment = salon_a.appointments[0]
    card = open_card_page(link)

    check = app.check(link.code)
    assert (check.status, check.body["status"]) == (200, "OK")
    assert check.body["data"]["amount"] == {"value": str(DUE)}
    trans_id = str(uuid.uuid4())
    create = app.create(link.code, DUE, trans_id)
    assert (create.status, create.body["status"], create.body["amount"]) == (200, "CREATED", DUE)
    confirm = app.confirm(trans_id)
    assert (confirm.status, confirm.body["status"]) == (200, "CONFIRMED")

    paid = MerchantTransaction.objects.get(trans_id=trans_id).order
    assert (paid.method, paid.state, paid.paid_amount, paid.duplicate_of) == (
        Method.APP,
        State.PAID,
        DUE,
        None,
    )
    card.refresh_from_db()
    assert card.state == State.PENDING  # still open at the bank: the client may yet pay it
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
    ]
    assert money_of(appointment).state == PaymentState.PAID
    assert DBTaskResult.objects.filter(task_path=DUPLICATE_JOB).count() == 0
    assert app.status(trans_id).body["status"] == "CONFIRMED"


def test_the_page_offers_the_app_while_the_card_page_is_open(client, salon_a, app, link):
    open_card_page(link)
    page = client.get(f"/pay/{link.token}").content.decode()
    assert 'id="pay-app"' in page and 'id="app-qr"' in page and 'id="pay-card"' in page
    assert 'id="app-waits"' not in page
    assert f"serviceId={SERVICE_ID}" in page


def test_an_app_transaction_under_way_does_not_stop_the_card(salon_a, app, link):
    appointment = salon_a.appointments[0]
    trans_id = str(uuid.uuid4())
    assert app.create(link.code, DUE, trans_id).body["status"] == "CREATED"

    card = open_card_page(link)
    bank.pay(order_id=card.bank_order_id, card_number=UZCARD)
    card = services.refresh(order=card)

    assert (card.state, card.paid_amount, card.duplicate_of) == (State.PAID, DUE, None)
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
    ]
    assert money_of(appointment).state == PaymentState.PAID
    assert MerchantTransaction.objects.get(trans_id=trans_id).state == TransactionState.CREATED


def test_a_card_paid_first_refuses_the_app_confirm_and_the_app_takes_nothing(salon_a, app, link):
    """The app transaction was created while the card page was open; the card is paid and
    recorded first: the app's /confirm, under the link's lock, finds nothing due (10008).
    The app gives the client's money back itself; our books hold one payment."""
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    trans_id = str(uuid.uuid4())
    assert app.create(link.code, DUE, trans_id).body["status"] == "CREATED"
    bank.pay(order_id=card.bank_order_id, card_number=UZCARD)
    card = services.refresh(order=card)
    assert card.state == State.PAID
    before = rows(salon_a.business)

    refused = app.confirm(trans_id)

    assert (refused.status, refused.body) == (
        400,
        {"serviceId": SERVICE_ID, "transId": trans_id, "status": "FAILED", "errorCode": "10008"},
    )
    after = rows(salon_a.business)
    assert after["books"] == before["books"]
    assert (after["refunds"], after["duplicate_jobs"]) == (0, 0)
    assert [row[:2] for row in after["orders"]] == [row[:2] for row in before["orders"]]
    app_order = MerchantTransaction.objects.get(trans_id=trans_id).order
    assert (app_order.state, app_order.paid_amount, app_order.duplicate_of) == (
        State.CANCELLED,
        0,
        None,
    )
    assert MerchantTransaction.objects.get(trans_id=trans_id).state == TransactionState.FAILED
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
    ]
    assert money_of(appointment).state == PaymentState.PAID
    # And a new transaction is refused at /check and /create: nothing is due.
    assert app.check(link.code).code == "10008"
    assert app.create(link.code, DUE).code == "10008"
    assert rows(salon_a.business)["books"] == before["books"]


def test_a_new_app_transaction_beside_one_the_client_backed_out_of(salon_a, app, link):
    appointment = salon_a.appointments[0]
    first = str(uuid.uuid4())
    assert app.create(link.code, DUE, first).body["status"] == "CREATED"
    second = str(uuid.uuid4())

    assert app.check(link.code).body["status"] == "OK"
    assert app.create(link.code, DUE, second).body["status"] == "CREATED"
    assert app.confirm(second).body["status"] == "CONFIRMED"
    before = rows(salon_a.business)["books"]
    assert app.confirm(first).code == "10008"

    assert rows(salon_a.business)["books"] == before
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
    ]
    assert list(
        PaymentOrder.objects.filter(link=link).order_by("id").values_list("state", flat=True)
    ) == [State.CANCELLED, State.PAID]


def test_a_second_card_press_still_goes_to_the_open_card_order(salon_a, app, link):
    """The one open card order per link stays (that is not a lock-out)."""
    card = open_card_page(link)
    assert app.create(link.code, DUE).body["status"] == "CREATED"
    again = open_card_page(link)
    assert (again.pk, again.redirect_url) == (card.pk, card.redirect_url)
    assert PaymentOrder.objects.filter(method=Method.CARD).count() == 1
    assert BankOrder.objects.count() == 1
