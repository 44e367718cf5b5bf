"""Issue 12, item 7: two payments of one link that both took money. Both stay in the books;
the one recorded later is marked ``duplicate_of`` the earlier and given back: a card one
refunded automatically by a job (the bank's order then reads REFUNDED), an app one (no refund
call exists) put first on the salon's "to give back" list. The appointment reads paid, not
overpaid, once the money is back."""

import html
import uuid

import pytest
from django_tasks_db.models import DBTaskResult

from navbat.booking.selectors import money_of
from navbat.finance.models import PaymentState, TransactionKind
from navbat.payments import app_payments, duplicates, refunds, selectors, services
from navbat.payments.models import Method, PaymentOrder, Refund, RefundRoute, RefundState, State
from navbat.uzum.models import MerchantTransaction
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.jobs import run_due
from tests.payments.test_never_locked_out import (
    DUE,
    DUPLICATE_JOB,
    FEE,
    UZCARD,
    books,
    open_card_page,
    rows,
)
from tests.uzum.merchant import App, connect_app, link_of

pytestmark = pytest.mark.django_db

AUTOMATIC = "Paid twice: refunded automatically"


@pytest.fixture
def connection(salon_a, connect_uzum):
    return connect_app(connect_uzum, salon_a)


@pytest.fixture
def app(connection):
    return App(connection)


@pytest.fixture
def link(salon_a):
    return link_of(salon_a)


def app_paid(app, link) -> PaymentOrder:
    trans_id = str(uuid.uuid4())
    assert app.create(link.code, DUE, trans_id).body["status"] == "CREATED"
    assert app.confirm(trans_id).body["status"] == "CONFIRMED"
    return MerchantTransaction.objects.get(trans_id=trans_id).order


def card_completes(card: PaymentOrder) -> PaymentOrder:
    """The client pays on the bank's page (the bank cannot be told no), and we record it."""
    bank.pay(order_id=card.bank_order_id, card_number=UZCARD)
    return services.refresh(order=card)


def test_app_first_then_the_card_completes_the_card_is_refunded_automatically(salon_a, app, link):
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    paid_in_app = app_paid(app, link)

    card = card_completes(card)

    # Both in the books; the card, recorded later, is the duplicate; a job will give it back.
    assert (card.state, card.paid_amount, card.duplicate_of_id) == (State.PAID, DUE, paid_in_app.pk)
    paid_in_app.refresh_from_db()
    assert (paid_in_app.state, paid_in_app.duplicate_of) == (State.PAID, None)
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
    ]
    assert money_of(appointment).state == PaymentState.OVERPAID
    job = DBTaskResult.objects.get(task_path=DUPLICATE_JOB)
    assert job.args_kwargs == {"args": [card.pk], "kwargs": {}}
    assert Refund.objects.count() == 0

    assert run_due(DUPLICATE_JOB) == 1

    refund = Refund.objects.get()
    assert (refund.order_id, refund.amount, refund.route, refund.state) == (
        card.pk,
        DUE,
        RefundRoute.BANK,
        RefundState.DONE,
    )
    assert (refund.automatic, refund.reason, refund.bank_operation) == (True, AUTOMATIC, "refund")
    assert BankOrder.objects.get(order_id=card.bank_order_id).status == "REFUNDED"
    card.refresh_from_db()
    assert (card.state, card.refunded_amount, card.fee_returned_amount) == (
        State.REFUNDED,
        DUE,
        0,
    )
    # Income twice, the fee twice (kept by the bank on a refund: the schedule's default), one
    # refund; the visit reads paid.
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.REFUND, DUE),
    ]
    appointment.refresh_from_db()
    money = money_of(appointment)
    assert (money.state, money.paid, money.due) == (PaymentState.PAID, DUE, 0)
    assert list(selectors.to_give_back(business=salon_a.business)) == []
    notice = selectors.duplicate_notice(card)
    assert (notice.state, notice.amount, notice.automatic, notice.original_id) == (
        selectors.Twice.GIVEN_BACK,
        DUE,
        True,
        paid_in_app.pk,
    )
    assert selectors.duplicate_notice(paid_in_app) is None

    # Run again (a worker retry): nothing is left to give back, nothing moves.
    before = rows(salon_a.business)
    assert duplicates.give_back(order_id=card.pk) is None
    assert rows(salon_a.business) == before


def test_the_fee_comes_back_with_the_refund_when_the_schedule_says_so(
    salon_a, app, link, connection
):
    schedule = connection.fee_schedule
    schedule.fee_returned_on_refund = True
    schedule.save(update_fields=["fee_returned_on_refund"])
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    app_paid(app, link)
    card = card_completes(card)

    assert run_due(DUPLICATE_JOB) == 1

    card.refresh_from_db()
    assert (card.state, card.refunded_amount, card.fee_returned_amount) == (
        State.REFUNDED,
        DUE,
        FEE,
    )
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.REFUND, DUE),
        (TransactionKind.FEE_RETURN, FEE),
    ]
    appointment.refresh_from_db()
    assert money_of(appointment).state == PaymentState.PAID


def test_an_app_payment_that_slipped_in_after_the_card_is_left_to_give_back(
    salon_a, app, link, monkeypatch, login
):
    """The card is paid and recorded; an app confirm that slipped past the last look (made
    here to pass it) is recorded later: it is the duplicate. Uzum offers no refund call, so
    no job is queued and it heads the salon's "to give back" list until the salon gives it
    back from a register."""
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    trans_id = str(uuid.uuid4())
    assert app.create(link.code, DUE, trans_id).body["status"] == "CREATED"
    card = card_completes(card)
    assert (card.state, card.duplicate_of) == (State.PAID, None)
    monkeypatch.setattr(app_payments, "still_payable", lambda *, order_id: None)

    assert app.confirm(trans_id).body["status"] == "CONFIRMED"

    in_app = MerchantTransaction.objects.get(trans_id=trans_id).order
    assert (in_app.method, in_app.state, in_app.duplicate_of_id) == (
        Method.APP,
        State.PAID,
        card.pk,
    )
    assert DBTaskResult.objects.filter(task_path=DUPLICATE_JOB).count() == 0
    assert books(appointment) == [
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.SALE_PAYMENT, DUE),
        (TransactionKind.BANK_FEE, FEE),
    ]
    assert money_of(appointment).state == PaymentState.OVERPAID
    listed = list(selectors.to_give_back(business=salon_a.business))
    assert [(order.pk, order.left, order.duplicate_of_id) for order in listed] == [
        (in_app.pk, DUE, card.pk)
    ]
    notice = selectors.duplicate_notice(in_app)
    assert (notice.state, notice.amount, notice.automatic) == (
        selectors.Twice.TO_GIVE_BACK,
        DUE,
        False,
    )
    owner = login(salon_a.owner)
    listing = owner.get("/payments/").content.decode()
    assert f'id="give-back-{in_app.pk}"' in listing
    assert f'id="give-back-{card.pk}"' not in listing
    window = html.unescape(owner.get(f"/appointments/{appointment.pk}/").content.decode())
    assert f'id="duplicate-{in_app.pk}"' in window
    assert "Paid twice in Uzum Bank app: give 100 000 so'm back." in window
    # A job run by hand (say, queued by an older version) gives nothing back on its own.
    assert duplicates.give_back(order_id=in_app.pk) is None
    assert Refund.objects.count() == 0

    refunds.refund_payment(
        business=salon_a.business,
        order_id=in_app.pk,
        amount=DUE,
        reason="Paid twice",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )

    assert list(selectors.to_give_back(business=salon_a.business)) == []
    assert 'id="to-give-back"' not in owner.get("/payments/").content.decode()
    in_app.refresh_from_db()
    assert (in_app.state, in_app.refunded_amount) == (State.REFUNDED, DUE)
    notice = selectors.duplicate_notice(in_app)
    assert (notice.state, notice.amount, notice.automatic) == (
        selectors.Twice.GIVEN_BACK,
        DUE,
        False,
    )
    appointment.refresh_from_db()
    assert money_of(appointment).state == PaymentState.PAID


def test_to_give_back_is_oldest_first_and_only_the_business_s_own(
    salon_a, salon_b, connect_uzum, monkeypatch
):
    monkeypatch.setattr(app_payments, "still_payable", lambda *, order_id: None)
    listed = []
    for salon in (salon_a, salon_b):
        app = App(connect_app(connect_uzum, salon))
        for appointment in salon.appointments[:2]:
            link = link_of(salon, appointment)
            due = money_of(appointment).due
            first, second = str(uuid.uuid4()), str(uuid.uuid4())
            assert app.create(link.code, due, first).body["status"] == "CREATED"
            assert app.create(link.code, due, second).body["status"] == "CREATED"
            assert app.confirm(first).body["status"] == "CONFIRMED"
            assert app.confirm(second).body["status"] == "CONFIRMED"
            if salon is salon_a:
                listed.append(MerchantTransaction.objects.get(trans_id=second).order_id)

    assert [order.pk for order in selectors.to_give_back(business=salon_a.business)] == listed
    assert len(listed) == 2
    assert PaymentOrder.objects.filter(duplicate_of__isnull=False).count() == 4


def test_a_second_payment_the_visit_needed_is_not_a_duplicate(salon_a, app, link):
    """Paid by card, then the salon added a product worth as much, then the app paid the
    rest: two payments of one link, no overpayment: nothing marked, nothing to give back."""
    from navbat.booking.services import LineInput, update_appointment

    appointment = salon_a.appointments[0]
    card = card_completes(open_card_page(link))
    assert card.state == State.PAID
    lines = [
        LineInput(kind="service", item_id=line.service_id, unit_price=line.unit_price)
        for line in appointment.lines.all()
    ]
    lines.append(LineInput(kind="product", item_id=salon_a.products[0].pk, unit_price=DUE))
    update_appointment(appointment=appointment, lines=lines)
    appointment.refresh_from_db()
    assert money_of(appointment).due == DUE

    in_app = app_paid(app, link)

    assert (in_app.state, in_app.duplicate_of) == (State.PAID, None)
    assert PaymentOrder.objects.filter(duplicate_of__isnull=False).count() == 0
    assert DBTaskResult.objects.filter(task_path=DUPLICATE_JOB).count() == 0
    assert list(selectors.to_give_back(business=salon_a.business)) == []
    appointment.refresh_from_db()
    assert money_of(appointment).state == PaymentState.PAID


def test_a_card_duplicate_the_bank_would_not_refund_is_left_to_give_back(salon_a, app, link):
    """The bank is down when the job asks (its fault switch): nothing moved, the refund is
    failed, and the payment heads the salon's list; the salon may refund it again."""
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    app_paid(app, link)
    card = card_completes(card)
    terminal = BankOrder.objects.get(order_id=card.bank_order_id).terminal
    terminal.faults = {"acquiring/refund": {"mode": "error_5xx", "status": 502}}
    terminal.save(update_fields=["faults"])

    assert run_due(DUPLICATE_JOB) == 1

    refund = Refund.objects.get()
    assert (refund.automatic, refund.amount, refund.state) == (True, DUE, RefundState.FAILED)
    assert BankOrder.objects.get(order_id=card.bank_order_id).status == "COMPLETED"
    card.refresh_from_db()
    assert (card.state, card.refunded_amount) == (State.PAID, 0)
    assert [order.pk for order in selectors.to_give_back(business=salon_a.business)] == [card.pk]
    notice = selectors.duplicate_notice(card)
    assert (notice.state, notice.amount, notice.automatic) == (
        selectors.Twice.TO_GIVE_BACK,
        DUE,
        False,
    )
    assert len(books(appointment)) == 4
    appointment.refresh_from_db()
    assert money_of(appointment).state == PaymentState.OVERPAID


def test_while_its_automatic_refund_is_queued_a_card_duplicate_reads_being_refunded(
    salon_a, app, link, login
):
    """Between the recording and the job, the appointment does not invite a second refund:
    no "overpaid" notice naming the app payment, no "did not go through", and the card is
    not on the salon's list."""
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    app_paid(app, link)
    card = card_completes(card)

    notice = selectors.duplicate_notice(card)
    assert (notice.state, notice.amount, notice.automatic) == (
        selectors.Twice.GIVING_BACK,
        DUE,
        True,
    )
    assert selectors.to_give_back(business=salon_a.business) == []
    window = html.unescape(
        login(salon_a.owner).get(f"/appointments/{appointment.pk}/").content.decode()
    )
    assert "is being refunded automatically" in window
    assert 'id="overpaid-notice"' not in window
    assert "did not go through" not in window


def test_a_duplicate_gives_back_no_more_than_the_visit_is_overpaid_by(salon_a, app, link):
    """Part of the earlier payment was given back at the desk before the job ran: the visit
    is overpaid by less than the duplicate, and only that much goes back (decided by the
    job under the link's lock)."""
    appointment = salon_a.appointments[0]
    card = open_card_page(link)
    in_app = app_paid(app, link)
    card = card_completes(card)
    refunds.refund_payment(
        business=salon_a.business,
        order_id=in_app.pk,
        amount=6_000_000,
        reason="Part given back at the desk",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )
    assert selectors.duplicate_notice(card).amount == 4_000_000

    assert run_due(DUPLICATE_JOB) == 1

    refund = Refund.objects.get(order=card)
    assert (refund.amount, refund.state) == (4_000_000, RefundState.DONE)
    appointment.refresh_from_db()
    assert money_of(appointment).state == PaymentState.PAID


def test_the_original_refunded_first_leaves_the_duplicate_nothing_to_give_back(salon_a, app, link):
    """The salon gave the earlier payment back before the job ran: the visit is no longer
    overpaid, so the job sends nothing (both refunds would give the money twice)."""
    card = open_card_page(link)
    in_app = app_paid(app, link)
    card_completes(card)
    refunds.refund_payment(
        business=salon_a.business,
        order_id=in_app.pk,
        amount=DUE,
        reason="Given back at the desk",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )

    assert run_due(DUPLICATE_JOB) == 1

    assert list(Refund.objects.values_list("order_id", "route")) == [
        (in_app.pk, RefundRoute.REGISTER)
    ]
