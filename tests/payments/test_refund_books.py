"""The books of card refunds on the sandbox bank: a partial then a final refund leaves the
bank's order REFUNDED, the books with the income, the fee, two refunds and the fee per the
fee schedule's setting (kept by the bank, or returned in shares that add up to the fee to
the tiyin); the appointment steps paid → partly paid → unpaid, and an overpaid one refunded
by the excess reads paid."""

import pytest

from navbat.booking.selectors import money_of
from navbat.finance import services as finance
from navbat.finance.models import PaymentState, Transaction, TransactionKind
from navbat.payments import refunds, services
from navbat.payments.models import RefundState, State
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.jobs import start_payment

pytestmark = pytest.mark.django_db

UZCARD = "8600000000000018"
HAIRCUT = 10_000_000
UZCARD_FEE = 100_000  # 1 %
FIRST = 3_333_333
FIRST_FEE_SHARE = 33_333  # 33 333.33 rounded half up
SECOND = HAIRCUT - FIRST


def paid_order(salon, appointment=None):
    order = start_payment(salon, appointment=appointment)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def rows(document):
    found = Transaction.objects.filter(document=document).order_by("id")
    return list(found.values_list("kind", "amount"))


def refund(salon, order, amount, reason="Refund"):
    done = refunds.refund_payment(
        business=salon.business, order_id=order.pk, amount=amount, reason=reason
    ).refund
    assert done.state == RefundState.DONE
    return done


def state_of(appointment):
    appointment.refresh_from_db()
    return money_of(appointment).state


@pytest.mark.parametrize("fee_comes_back", [False, True], ids=["fee-kept", "fee-returned"])
def test_a_partial_then_a_final_refund_books_two_refunds_and_the_fee_per_the_setting(
    salon_a, connect_uzum, fee_comes_back
):
    connection = connect_uzum(salon_a)
    schedule = connection.fee_schedule
    schedule.fee_returned_on_refund = fee_comes_back
    schedule.save()
    appointment = salon_a.appointments[0]
    assert money_of(appointment).state == PaymentState.UNPAID
    order = paid_order(salon_a)
    assert (order.state, order.fee_amount) == (State.PAID, UZCARD_FEE)
    assert state_of(appointment) == PaymentState.PAID

    first = refund(salon_a, order, FIRST, "Shorter cut")
    assert state_of(appointment) == PaymentState.PARTLY_PAID
    assert money_of(appointment).paid == SECOND
    second = refund(salon_a, order, SECOND, "Cancelled")
    assert state_of(appointment) == PaymentState.UNPAID
    assert money_of(appointment).paid == 0

    bank_order = BankOrder.objects.get(order_id=order.bank_order_id)
    assert (bank_order.status, bank_order.refunded_amount) == ("REFUNDED", HAIRCUT)
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    booked = [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, UZCARD_FEE),
        (TransactionKind.REFUND, FIRST),
    ]
    if fee_comes_back:
        shares = (FIRST_FEE_SHARE, UZCARD_FEE - FIRST_FEE_SHARE)
        booked += [
            (TransactionKind.FEE_RETURN, shares[0]),
            (TransactionKind.REFUND, SECOND),
            (TransactionKind.FEE_RETURN, shares[1]),
        ]
        assert sum(shares) == UZCARD_FEE
    else:
        shares = (0, 0)
        booked += [(TransactionKind.REFUND, SECOND)]
    assert rows(order.document) == booked
    assert (first.fee_returned_amount, second.fee_returned_amount) == shares
    assert order.fee_returned_amount == sum(shares)
    # Every row leaves the connection's register, and names the client and the sale.
    refunds_booked = Transaction.objects.filter(document=order.document).exclude(
        kind__in=(TransactionKind.SALE_PAYMENT, TransactionKind.BANK_FEE)
    )
    assert {(row.register_id, row.client_id) for row in refunds_booked} == {
        (connection.register_id, order.client_id)
    }
    assert (first.transaction.amount, second.transaction.amount) == (FIRST, SECOND)
    assert refunds.refundable_amount(order) == 0


def test_an_overpaid_appointment_refunded_by_the_excess_reads_paid(salon_a, connect_uzum):
    connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    order = paid_order(salon_a)
    finance.record_sale_payment(
        document=appointment.document, register=salon_a.cash, amount=2_000_000
    )
    assert state_of(appointment) == PaymentState.OVERPAID
    assert money_of(appointment).paid == HAIRCUT + 2_000_000

    refund(salon_a, order, 2_000_000, "Paid twice")

    assert state_of(appointment) == PaymentState.PAID
    assert money_of(appointment).paid == HAIRCUT
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.PARTLY_REFUNDED, 2_000_000)


def test_the_fee_shares_round_half_up_on_the_running_total_and_add_up_to_the_fee(
    salon_a, connect_uzum
):
    """Each share is the fee of all given back so far (rounded half up) less the fee of what
    was given back before: 10 000.5 → 10 001, 20 001 → 10 000 more, 50 000.5 → 50 001."""
    connection = connect_uzum(salon_a)
    connection.fee_schedule.fee_returned_on_refund = True
    connection.fee_schedule.save()
    order = paid_order(salon_a)
    parts = [1_000_050, 1_000_050, 2_999_950, HAIRCUT - 5_000_050]  # 10 000.5 → 10 001

    shares = [refund(salon_a, order, part).fee_returned_amount for part in parts]

    assert shares == [10_001, 10_000, 30_000, 49_999]
    assert sum(shares) == UZCARD_FEE
    order.refresh_from_db()
    assert (order.fee_returned_amount, order.state) == (UZCARD_FEE, State.REFUNDED)


def test_a_part_given_back_from_a_register_keeps_its_share_of_the_fee(salon_a, connect_uzum):
    """The bank returns its fee only with what it gave back itself: 40 % from the salon's
    cash, then the other 60 % to the card, brings back 60 % of the fee, not all of it."""
    connection = connect_uzum(salon_a)
    schedule = connection.fee_schedule
    schedule.fee_returned_on_refund = True
    schedule.save()
    order = paid_order(salon_a)
    refunds.refund_payment(
        business=salon_a.business,
        order_id=order.pk,
        amount=4_000_000,
        reason="Cash back",
        route="register",
        register_id=salon_a.cash.pk,
    )
    last = refund(salon_a, order, 6_000_000, "The rest to the card")

    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    assert (last.fee_returned_amount, order.fee_returned_amount) == (60_000, 60_000)
    assert rows(order.document)[-3:] == [
        (TransactionKind.REFUND, 4_000_000),
        (TransactionKind.REFUND, 6_000_000),
        (TransactionKind.FEE_RETURN, 60_000),
    ]


def test_the_setting_turned_on_between_refunds_returns_only_the_later_share(salon_a, connect_uzum):
    """A first refund with the fee kept, then the owner says the bank returns it: the final
    refund brings back its own share, not the first refund's too."""
    connection = connect_uzum(salon_a)
    schedule = connection.fee_schedule
    order = paid_order(salon_a)
    refund(salon_a, order, 4_000_000, "First part")
    schedule.fee_returned_on_refund = True
    schedule.save()

    last = refund(salon_a, order, 6_000_000, "The rest")

    order.refresh_from_db()
    assert (last.fee_returned_amount, order.fee_returned_amount) == (60_000, 60_000)
