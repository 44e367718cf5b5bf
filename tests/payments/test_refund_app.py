"""Refunds of payments made in the Uzum Bank app (Merchant API): the bank offers no refund
call, so a refund to the card is refused before any call; the salon gives the money back
from a register of its own, or asks Uzum to reverse it (the app's /reverse then books it).
Each path books exactly once, and the second after the first is refused: the same money
never goes back twice."""

import pytest

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments import refunds
from navbat.payments.models import Refund, RefundRoute, RefundState, State
from navbat.uzum.models import MerchantTransaction, TransactionState
from navbat.uzum_sandbox.models import IdempotentCall, Operation
from tests.uzum.merchant import App, connect_app, link_of

pytestmark = pytest.mark.django_db

DUE = 10_000_000
UZCARD_FEE = 100_000
PAID_ONCE = [(TransactionKind.SALE_PAYMENT, DUE), (TransactionKind.BANK_FEE, UZCARD_FEE)]


@pytest.fixture
def app(salon_a, connect_uzum):
    return App(connect_app(connect_uzum, salon_a))


@pytest.fixture
def paid_in_app(salon_a, app):
    """A visit paid in full in the app: (its order, the bank's transaction id)."""
    link = link_of(salon_a)
    created = app.create(link.code, DUE)
    assert created.body["status"] == "CREATED", created.body
    trans_id = created.body["transId"]
    confirmed = app.confirm(trans_id)
    assert confirmed.body["status"] == "CONFIRMED", confirmed.body
    order = MerchantTransaction.objects.get(trans_id=trans_id).order
    assert (order.state, order.paid_amount) == (State.PAID, DUE)
    return order, trans_id


def rows(order):
    found = Transaction.objects.filter(document=order.document).order_by("id")
    return list(found.values_list("kind", "amount"))


def nothing_at_the_checkout():
    assert (Operation.objects.count(), IdempotentCall.objects.count()) == (0, 0)


def give_back_from(salon, order, *, amount=DUE, author=None):
    return refunds.refund_payment(
        business=salon.business,
        order_id=order.pk,
        amount=amount,
        reason="Cancelled visit",
        route=RefundRoute.REGISTER,
        register_id=salon.cash.pk,
        author=author,
    )


def test_a_refund_to_the_card_of_an_app_payment_is_refused_before_any_call(salon_a, paid_in_app):
    order, _trans_id = paid_in_app

    with pytest.raises(refunds.RefundConflict) as refused:
        refunds.refund_payment(
            business=salon_a.business, order_id=order.pk, amount=DUE, reason="Cancelled"
        )

    assert refused.value.reason == "provider_cannot"
    assert "only Uzum can reverse them" in str(refused.value.messages[0])
    assert Refund.objects.count() == 0
    assert rows(order) == PAID_ONCE
    nothing_at_the_checkout()


def test_a_register_refund_books_once_and_the_bank_s_reverse_is_then_refused(
    salon_a, app, paid_in_app
):
    order, trans_id = paid_in_app

    given = give_back_from(salon_a, order, author=salon_a.owner)

    refund = given.refund
    assert (refund.state, refund.route, refund.register_id) == (
        RefundState.DONE,
        RefundRoute.REGISTER,
        salon_a.cash.pk,
    )
    assert rows(order) == [*PAID_ONCE, (TransactionKind.REFUND, DUE)]
    money = refund.transaction
    assert (money.register_id, money.client_id, money.document_id) == (
        salon_a.cash.pk,
        order.client_id,
        order.document_id,
    )
    order.refresh_from_db()
    assert (order.state, order.refunded_amount, order.fee_returned_amount) == (
        State.REFUNDED,
        DUE,
        0,
    )

    reversed_ = app.reverse(trans_id)

    assert reversed_.code == "10017", reversed_.body
    assert MerchantTransaction.objects.get(trans_id=trans_id).state == TransactionState.CONFIRMED
    assert rows(order) == [*PAID_ONCE, (TransactionKind.REFUND, DUE)]
    assert Refund.objects.count() == 1
    nothing_at_the_checkout()


def test_a_partial_register_refund_also_stops_the_bank_s_reverse(salon_a, app, paid_in_app):
    order, trans_id = paid_in_app
    give_back_from(salon_a, order, amount=4_000_000)

    assert app.reverse(trans_id).code == "10017"
    assert rows(order) == [*PAID_ONCE, (TransactionKind.REFUND, 4_000_000)]
    with pytest.raises(refunds.RefundConflict) as refused:
        refunds.ask_bank_reversal(business=salon_a.business, order_id=order.pk, reason="Whole")
    assert refused.value.reason == "given_back"
    assert Refund.objects.count() == 1


def test_the_bank_s_reverse_books_once_and_a_register_refund_is_then_refused(
    salon_a, app, paid_in_app
):
    order, trans_id = paid_in_app

    assert app.reverse(trans_id).body["status"] == "REVERSED"
    assert app.reverse(trans_id).code is not None  # a repeat books nothing

    refund = Refund.objects.get()
    assert (refund.route, refund.state, refund.amount) == (
        RefundRoute.BANK_REVERSAL,
        RefundState.DONE,
        DUE,
    )
    reversed_rows = [
        *PAID_ONCE,
        (TransactionKind.REFUND, DUE),
        (TransactionKind.FEE_RETURN, UZCARD_FEE),  # returned on reversals by default
    ]
    assert rows(order) == reversed_rows

    with pytest.raises(refunds.RefundConflict) as refused:
        give_back_from(salon_a, order)

    assert refused.value.reason == "nothing_left"
    assert str(refused.value.messages[0]) == "This payment is already refunded in full."
    assert rows(order) == reversed_rows
    assert Refund.objects.count() == 1


def test_asking_uzum_to_reverse_holds_the_money_until_the_reverse_books_it(
    salon_a, app, paid_in_app
):
    order, trans_id = paid_in_app

    asked = refunds.ask_bank_reversal(
        business=salon_a.business, order_id=order.pk, reason="Client asked", author=salon_a.owner
    )

    assert (asked.state, asked.route, asked.amount) == (
        RefundState.AT_BANK,
        RefundRoute.BANK_REVERSAL,
        DUE,
    )
    order.refresh_from_db()
    assert refunds.refundable_amount(order) == 0
    with pytest.raises(refunds.RefundConflict) as refused:
        give_back_from(salon_a, order, amount=1_000_000)
    assert refused.value.reason == "in_flight"
    assert "withdraw" in str(refused.value.messages[0])
    with pytest.raises(refunds.RefundConflict):
        refunds.ask_bank_reversal(business=salon_a.business, order_id=order.pk, reason="Again")
    assert rows(order) == PAID_ONCE

    assert app.reverse(trans_id).body["status"] == "REVERSED"

    asked.refresh_from_db()
    assert (asked.state, asked.transaction.kind, asked.fee_returned_amount) == (
        RefundState.DONE,
        TransactionKind.REFUND,
        UZCARD_FEE,
    )
    assert Refund.objects.count() == 1
    assert rows(order) == [
        *PAID_ONCE,
        (TransactionKind.REFUND, DUE),
        (TransactionKind.FEE_RETURN, UZCARD_FEE),
    ]
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, DUE)


def test_a_withdrawn_request_frees_the_money_for_a_register_refund(salon_a, app, paid_in_app):
    order, trans_id = paid_in_app
    asked = refunds.ask_bank_reversal(business=salon_a.business, order_id=order.pk, reason="Ask")

    withdrawn = refunds.withdraw_reversal_request(business=salon_a.business, refund_id=asked.pk)

    assert withdrawn.state == RefundState.FAILED
    assert rows(order) == PAID_ONCE
    with pytest.raises(refunds.RefundConflict) as refused:
        refunds.withdraw_reversal_request(business=salon_a.business, refund_id=asked.pk)
    assert refused.value.reason == "not_open"

    given = give_back_from(salon_a, order).refund
    assert given.state == RefundState.DONE
    assert app.reverse(trans_id).code == "10017"
    assert rows(order) == [*PAID_ONCE, (TransactionKind.REFUND, DUE)]
    assert list(Refund.objects.order_by("pk").values_list("route", "state")) == [
        (RefundRoute.BANK_REVERSAL, RefundState.FAILED),
        (RefundRoute.REGISTER, RefundState.DONE),
    ]


def test_another_business_cannot_touch_the_request(salon_a, salon_b, paid_in_app):
    order, _trans_id = paid_in_app
    asked = refunds.ask_bank_reversal(business=salon_a.business, order_id=order.pk, reason="Ask")
    with pytest.raises(Refund.DoesNotExist):
        refunds.withdraw_reversal_request(business=salon_b.business, refund_id=asked.pk)
    with pytest.raises(type(order).DoesNotExist):
        refunds.ask_bank_reversal(business=salon_b.business, order_id=order.pk, reason="Ask")
    asked.refresh_from_db()
    assert asked.state == RefundState.AT_BANK


def test_a_repeated_register_refund_with_its_key_books_once(salon_a, paid_in_app):
    order, _trans_id = paid_in_app
    options = {
        "business": salon_a.business,
        "order_id": order.pk,
        "amount": 3_000_000,
        "reason": "Too short",
        "route": RefundRoute.REGISTER,
        "register_id": salon_a.cash.pk,
        "idempotency_key": "desk-1",
    }

    first = refunds.refund_payment(**options)
    again = refunds.refund_payment(**options)

    assert (first.created, again.created) == (True, False)
    assert again.refund.pk == first.refund.pk
    assert rows(order) == [*PAID_ONCE, (TransactionKind.REFUND, 3_000_000)]
    assert Transaction.objects.filter(register=salon_a.cash).count() == 1


@pytest.mark.parametrize("path", ["register", "reverse"])
def test_the_nightly_check_agrees_with_the_bank_after_either_path(salon_a, app, paid_in_app, path):
    from navbat.payments import reconciliation
    from navbat.payments.models import Difference

    order, trans_id = paid_in_app
    assert order.bank_order_id == trans_id  # the nightly check asks the bank about it
    if path == "register":
        give_back_from(salon_a, order)  # the bank still holds it paid, rightly
    else:
        assert app.reverse(trans_id).body["status"] == "REVERSED"

    assert reconciliation.run_daily(business=salon_a.business) == 0
    assert Difference.objects.count() == 0
