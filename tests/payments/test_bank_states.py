"""apply_bank_view: every (our state, the bank's state) pair, through the one table
(payments.bank_states). The table is checked in memory; then each pair is applied to a
real order, with what it does to the order, the books and the list of differences."""

import uuid

import pytest

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import services
from navbat.payments.bank_states import BANK_STATES, TABLE, Action, action_for
from navbat.payments.models import Difference, Method, PaymentOrder, State
from navbat.payments.providers import BankView

HAIRCUT = 10_000_000
REASON = "The bank declined the card (code 2002)."

A = Action
# Every state of ours × every state a provider reports (uzum.provider.bank_view: pending,
# paid, partly_refunded, refunded, declined, cancelled; uzum.merchant.services.app_view:
# pending, paid, refunded, expired, cancelled).
EXPECTED_ACTIONS = {
    State.CREATED: {
        State.PENDING: A.WAIT,
        State.PAID: A.PAY,
        State.PARTLY_REFUNDED: A.DIFFERENCE,
        State.REFUNDED: A.DIFFERENCE,
        State.DECLINED: A.DECLINE,
        State.EXPIRED: A.EXPIRE,
        State.CANCELLED: A.CANCEL,
    },
    State.PENDING: {
        State.PENDING: A.NOTE_REASON,
        State.PAID: A.PAY,
        State.PARTLY_REFUNDED: A.DIFFERENCE,
        State.REFUNDED: A.DIFFERENCE,
        State.DECLINED: A.DECLINE,
        State.EXPIRED: A.EXPIRE,
        State.CANCELLED: A.CANCEL,
    },
    State.DECLINED: {
        State.PENDING: A.REOPEN,
        State.PAID: A.PAY,
        State.PARTLY_REFUNDED: A.DIFFERENCE,
        State.REFUNDED: A.DIFFERENCE,
        State.DECLINED: A.NOTHING,
        State.EXPIRED: A.NOTHING,
        State.CANCELLED: A.NOTHING,
    },
    State.EXPIRED: {
        State.PENDING: A.NOTHING,
        State.PAID: A.PAY,
        State.PARTLY_REFUNDED: A.DIFFERENCE,
        State.REFUNDED: A.DIFFERENCE,
        State.DECLINED: A.NOTHING,
        State.EXPIRED: A.NOTHING,
        State.CANCELLED: A.NOTHING,
    },
    State.CANCELLED: {
        State.PENDING: A.NOTHING,
        State.PAID: A.PAY,
        State.PARTLY_REFUNDED: A.DIFFERENCE,
        State.REFUNDED: A.DIFFERENCE,
        State.DECLINED: A.NOTHING,
        State.EXPIRED: A.NOTHING,
        State.CANCELLED: A.NOTHING,
    },
    State.PAID: {
        State.PENDING: A.NOTHING,
        State.PAID: A.NOTHING,
        State.PARTLY_REFUNDED: A.REFUND_SEEN,
        State.REFUNDED: A.REFUND_SEEN,
        State.DECLINED: A.NOTHING,
        State.EXPIRED: A.NOTHING,
        State.CANCELLED: A.NOTHING,
    },
    State.PARTLY_REFUNDED: {
        State.PENDING: A.NOTHING,
        State.PAID: A.NOTHING,
        State.PARTLY_REFUNDED: A.NOTHING,
        State.REFUNDED: A.REFUND_SEEN,
        State.DECLINED: A.NOTHING,
        State.EXPIRED: A.NOTHING,
        State.CANCELLED: A.NOTHING,
    },
    State.REFUNDED: dict.fromkeys(BANK_STATES, A.NOTHING),
}
PAIRS = [(ours, bank) for ours in State.values for bank in BANK_STATES]


# ------------------------------------------------------------------ the table, in memory


def test_the_table_has_every_pair_and_no_other():
    assert set(BANK_STATES) == set(State.values) - {State.CREATED}
    assert set(TABLE) == set(PAIRS)
    assert len(PAIRS) == 56


@pytest.mark.parametrize("ours,bank", PAIRS)
def test_each_pair_has_its_action(ours, bank):
    assert action_for(ours=ours, bank=bank) == EXPECTED_ACTIONS[ours][bank]


@pytest.mark.parametrize(
    "ours,bank", [(State.PENDING, "teleported"), ("teleported", State.PAID), ("", "")]
)
def test_a_pair_no_one_foresaw_is_listed_as_a_difference(ours, bank):
    assert action_for(ours=ours, bank=bank) == A.DIFFERENCE


def test_only_the_bank_s_paid_books_income():
    booking = {pair for pair, action in TABLE.items() if action == A.PAY}
    assert {bank for _ours, bank in booking} == {State.PAID}
    assert {ours for ours, _bank in booking} == {
        State.CREATED,
        State.PENDING,
        State.DECLINED,
        State.EXPIRED,
        State.CANCELLED,
    }


# ------------------------------------------------------------------ applied, on real rows

# What each action leaves: the order's state (None: as it was), whether income is booked,
# whether a difference is listed, and the order's failure reason.
OUTCOMES = {
    A.WAIT: (State.PENDING, False, False, REASON),
    A.NOTE_REASON: (None, False, False, REASON),
    A.REOPEN: (State.PENDING, False, False, REASON),
    A.PAY: (State.PAID, True, False, ""),
    A.DECLINE: (State.DECLINED, False, False, REASON),
    A.EXPIRE: (State.EXPIRED, False, False, REASON),
    A.CANCEL: (State.CANCELLED, False, False, REASON),
    A.NOTHING: (None, False, False, ""),
    A.DIFFERENCE: (None, False, True, ""),
    A.REFUND_SEEN: (None, False, True, ""),  # no refund of ours on its way: not ours
}


def order_in(salon, connection, state: str, number: int) -> PaymentOrder:
    appointment = salon.appointments[0]
    settled = state in (State.PAID, State.PARTLY_REFUNDED, State.REFUNDED)
    return PaymentOrder.objects.create(
        business=salon.business,
        payable_kind="appointment",
        payable_id=appointment.pk,
        document=appointment.document,
        provider="uzum",
        account_id=connection.pk,
        method=Method.CARD,
        amount=HAIRCUT,
        reference=str(uuid.uuid4()),
        bank_order_id=f"bank-{number}",
        state=state,
        paid_amount=HAIRCUT if settled else 0,
        refunded_amount={State.PARTLY_REFUNDED: 2_500_000, State.REFUNDED: HAIRCUT}.get(state, 0),
    )


def view_of(order: PaymentOrder, bank: str) -> BankView:
    refunded = {State.PARTLY_REFUNDED: 2_500_000, State.REFUNDED: HAIRCUT}.get(bank, 0)
    paid = HAIRCUT if bank in (State.PAID, State.PARTLY_REFUNDED, State.REFUNDED) else 0
    return BankView(
        state=bank,
        bank_order_id=order.bank_order_id,
        reference=order.reference,
        amount=order.amount,
        paid_amount=paid,
        refunded_amount=refunded,
        card_kind="uzcard" if paid else "",
        card_scheme="UZCARD" if paid else "",
        failure_reason="" if paid else REASON,
    )


@pytest.mark.django_db
@pytest.mark.parametrize("ours", State.values)
def test_every_bank_state_on_an_order_of_ours(salon_a, connect_uzum, ours):
    connection = connect_uzum(salon_a)
    orders = {bank: order_in(salon_a, connection, ours, n) for n, bank in enumerate(BANK_STATES)}
    for bank, order in orders.items():
        services.apply_bank_view(order_id=order.pk, view=view_of(order, bank))

    for bank, order in orders.items():
        action = EXPECTED_ACTIONS[ours][bank]
        state, books_income, listed, reason = OUTCOMES[action]
        stored = PaymentOrder.objects.get(pk=order.pk)
        seen = (stored.state, stored.income_id is not None, stored.failure_reason, stored.checks)
        assert seen == (state or ours, books_income, reason, 1), (ours, bank, action)
        rows = list(Difference.objects.filter(order=order).values_list("what", "ours", "bank"))
        assert rows == ([("state", ours, bank)] if listed else []), (ours, bank)
        if books_income:
            income = Transaction.objects.get(pk=stored.income_id)
            assert (income.kind, income.amount) == (TransactionKind.SALE_PAYMENT, HAIRCUT)
            assert stored.paid_amount == HAIRCUT
        else:
            assert stored.paid_amount == order.paid_amount
            assert stored.refunded_amount == order.refunded_amount
    paying = [bank for bank in BANK_STATES if EXPECTED_ACTIONS[ours][bank] == A.PAY]
    kinds = sorted(Transaction.objects.values_list("kind", flat=True))
    assert kinds == sorted([TransactionKind.SALE_PAYMENT, TransactionKind.BANK_FEE] * len(paying))
