"""The refund page of one online payment (owners and administrators): a card payment given
back to the card or from a register, an app payment given back from a register or reversed
by the bank on request; errors shown on the form with nothing moved; a specialist refused."""

import html
import uuid

import pytest
from django.urls import reverse

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments.models import PaymentOrder, Refund, RefundRoute, RefundState, State
from navbat.uzum_sandbox.models import Order as BankOrder
from tests.payments.test_refunds_core import paid_order
from tests.uzum.merchant import App, connect_app, link_of

pytestmark = pytest.mark.django_db

HAIRCUT = 10_000_000  # 100 000 so'm
HTMX = {"HTTP_HX_REQUEST": "true"}


def page(order) -> str:
    return reverse("payments:refund", args=[order.pk])


def text(response) -> str:
    return html.unescape(response.content.decode())


def refund_form(amount="40 000", reason="Shorter cut", route="bank", **extra) -> dict:
    data = {
        "action": "refund",
        "amount": amount,
        "reason": reason,
        "route": route,
        "idempotency_key": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


def books(order) -> list[tuple[str, int]]:
    return list(
        Transaction.objects.filter(document=order.document)
        .order_by("id")
        .values_list("kind", "amount")
    )


def unchanged(order, before) -> None:
    fresh = PaymentOrder.objects.get(pk=order.pk)
    assert (fresh.state, fresh.refunded_amount) == (State.PAID, 0)
    assert books(order) == before
    assert Refund.objects.filter(order=order).count() == 0


@pytest.fixture
def card_paid(salon_a, connect_uzum):
    connect_uzum(salon_a)
    return paid_order(salon_a)


def app_paid(salon, connection):
    """A payment of the salon's first appointment in the Uzum Bank app."""
    app = App(connection)
    link = link_of(salon)
    trans_id = uuid.uuid4()
    assert app.check(link.code).status == 200
    assert app.create(link.code, HAIRCUT, trans_id).body["status"] == "CREATED"
    assert app.confirm(trans_id, source="UZCARD").body["status"] == "CONFIRMED"
    order = PaymentOrder.objects.get(method="app", state=State.PAID)
    return app, trans_id, order


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_the_form_starts_with_what_is_refundable(salon_a, login, card_paid, role):
    response = login(getattr(salon_a, role)).get(page(card_paid))
    assert response.status_code == 200
    body = text(response)
    assert 'id="refundable">100 000 so\'m<' in body
    assert 'name="amount" value="100000"' in body
    assert 'value="bank"' in body and "Back to the card" in body
    assert 'value="register"' in body and "From a register" in body
    registers = [str(r) for r in response.context["form"].fields["register"].queryset]
    assert registers == ["Card terminal", "Cash"]  # not the online register
    assert "offers no refund call" not in body


def test_part_of_a_card_payment_goes_back_to_the_card(salon_a, login, card_paid):
    client = login(salon_a.admin)
    response = client.post(page(card_paid), refund_form(), **HTMX)
    assert response.status_code == 200
    assert response["HX-Trigger"] == "payment-refunded"
    body = text(response)
    assert 'id="refund-done">40 000 so\'m is given back.<' in body
    assert 'id="refund-refunded">40 000 so\'m<' in body
    assert 'id="refundable">60 000 so\'m<' in body
    assert 'name="amount" value="60000"' in body
    refund = Refund.objects.get(order=card_paid)
    assert (refund.amount, refund.route, refund.state, refund.reason) == (
        4_000_000,
        RefundRoute.BANK,
        RefundState.DONE,
        "Shorter cut",
    )
    assert refund.requested_by == salon_a.admin
    assert f'id="refund-{refund.pk}" data-state="done"' in body
    card_paid.refresh_from_db()
    assert (card_paid.state, card_paid.refunded_amount) == (State.PARTLY_REFUNDED, 4_000_000)
    assert books(card_paid) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, 100_000),
        (TransactionKind.REFUND, 4_000_000),
    ]


def test_the_same_form_sent_twice_gives_back_once(salon_a, login, card_paid):
    client = login(salon_a.owner)
    data = refund_form()
    client.post(page(card_paid), data, **HTMX)
    again = client.post(page(card_paid), data, **HTMX)
    assert again.status_code == 200
    assert Refund.objects.filter(order=card_paid).count() == 1
    card_paid.refresh_from_db()
    assert card_paid.refunded_amount == 4_000_000


def test_without_htmx_the_refund_returns_to_the_page_it_came_from(salon_a, login, card_paid):
    client = login(salon_a.owner)
    back = f"/appointments/{salon_a.appointments[0].pk}/"
    response = client.post(page(card_paid), refund_form(amount="100 000", next=back))
    assert (response.status_code, response["Location"]) == (302, back)
    card_paid.refresh_from_db()
    assert (card_paid.state, card_paid.refunded_amount) == (State.REFUNDED, HAIRCUT)
    # Another site is no place to return to.
    response = client.get(page(card_paid) + "?next=https://evil.example/")
    assert response.context["next"] == ""
    assert 'id="nothing-to-refund"' in text(response)


def test_from_a_register_the_money_leaves_the_salons_cash(salon_a, login, card_paid):
    client = login(salon_a.owner)
    data = refund_form(amount="25 000", route="register", register=str(salon_a.cash.pk))
    response = client.post(page(card_paid), data, **HTMX)
    assert response["HX-Trigger"] == "payment-refunded"
    money = Transaction.objects.get(kind=TransactionKind.REFUND)
    assert (money.amount, money.register_id) == (2_500_000, salon_a.cash.pk)
    refund = Refund.objects.get(order=card_paid)
    assert (refund.route, refund.state) == (RefundRoute.REGISTER, RefundState.DONE)
    assert BankOrder.objects.get(order_id=card_paid.bank_order_id).status == "COMPLETED"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (refund_form(amount="100 000.01"), "amount", "At most 100 000 so'm can be refunded."),
        (refund_form(amount="0"), "amount", "The amount must be more than zero."),
        (refund_form(amount="-5"), "amount", None),
        (refund_form(amount="abc"), "amount", None),
        (refund_form(reason="  "), "reason", "This field is required."),
        (refund_form(route="register"), "register", "Choose the register the money is given from."),
        (refund_form(route="bank_reversal"), "route", None),
    ],
)
def test_bad_input_is_shown_on_the_form_and_nothing_moves(
    salon_a, login, card_paid, data, field, message
):
    before = books(card_paid)
    client = login(salon_a.owner)
    response = client.post(page(card_paid), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors or (field == "amount" and "__all__" in errors)
    if message:
        assert message in text(response)
    unchanged(card_paid, before)
    htmx = client.post(page(card_paid), data, **HTMX)
    assert htmx.status_code == 200 and "HX-Trigger" not in htmx
    unchanged(card_paid, before)


def test_an_unpaid_order_has_nothing_to_refund(salon_a, login, connect_uzum):
    from tests.payments.jobs import start_payment

    connect_uzum(salon_a)
    order = start_payment(salon_a)
    client = login(salon_a.owner)
    assert 'id="nothing-to-refund"' in text(client.get(page(order)))
    response = client.post(page(order), refund_form(amount="1 000"))
    assert response.status_code == 400
    assert "This payment was not paid: there is nothing to refund." in text(response)
    assert Refund.objects.count() == 0


def test_a_specialist_is_refused_and_nothing_changes(salon_a, login, card_paid):
    before = books(card_paid)
    client = login(salon_a.specialist_user)
    assert client.get(page(card_paid)).status_code == 403
    assert client.post(page(card_paid), refund_form(), **HTMX).status_code == 403
    unchanged(card_paid, before)


def test_another_salons_payment_is_not_found(salon_a, salon_b, login, card_paid):
    before = books(card_paid)
    client = login(salon_b.owner)
    assert client.get(page(card_paid)).status_code == 404
    assert client.post(page(card_paid), refund_form()).status_code == 404
    unchanged(card_paid, before)


def test_the_bank_refusing_leaves_a_failed_refund_to_try_again(salon_a, login, card_paid, client):
    from tests.payments.jobs import set_faults

    terminal = BankOrder.objects.get(order_id=card_paid.bank_order_id).terminal
    set_faults(client, terminal, {"acquiring/refund": {"mode": "error_5xx"}})
    owner = login(salon_a.owner)
    body = text(owner.post(page(card_paid), refund_form(), **HTMX))
    refund = Refund.objects.get(order=card_paid)
    reason = "The bank is unavailable; nothing moved. Try again in a minute."
    assert (refund.state, refund.failure_reason) == (RefundState.FAILED, reason)
    assert f'id="refund-{refund.pk}" data-state="failed"' in body
    assert f"Failed, nothing moved — you can try again. {reason}" in body
    assert f"The refund failed, nothing moved: {reason} You can try again." in body
    assert 'id="refund-form"' in body  # another try, with a new key
    set_faults(client, terminal, {"acquiring/refund": None})
    retried = text(owner.post(page(card_paid), refund_form(), **HTMX))
    assert 'id="refund-done">40 000 so\'m is given back.<' in retried
    card_paid.refresh_from_db()
    assert card_paid.refunded_amount == 4_000_000
    assert books(card_paid) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, 100_000),
        (TransactionKind.REFUND, 4_000_000),
    ]


# ---- payments in the bank's app ------------------------------------------------------------


@pytest.fixture
def app_payment(salon_a, connect_uzum):
    connection = connect_app(connect_uzum, salon_a)
    return app_paid(salon_a, connection)


def test_an_app_payment_says_the_bank_has_no_refund_call(salon_a, login, app_payment):
    _app, trans_id, order = app_payment
    assert order.bank_order_id == str(trans_id)  # the app's transaction, as Uzum knows it
    body = text(login(salon_a.owner).get(page(order)))
    assert "Uzum Bank offers no refund call for payments made in its app." in body
    assert 'value="bank"' not in body
    assert 'value="register"' in body
    assert f'<code id="bank-transaction-id">{order.bank_order_id}</code>' in body
    assert 'id="reversal-form"' in body


def test_an_app_payment_given_back_from_a_register(salon_a, login, app_payment):
    app, trans_id, order = app_payment
    client = login(salon_a.owner)
    data = refund_form(amount="100 000", route="register", register=str(salon_a.card.pk))
    response = client.post(page(order), data, **HTMX)
    assert response["HX-Trigger"] == "payment-refunded"
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    money = Transaction.objects.get(kind=TransactionKind.REFUND)
    assert (money.amount, money.register_id) == (HAIRCUT, salon_a.card.pk)
    # The bank's reversal afterwards would give the same money back twice: refused.
    assert app.reverse(trans_id).status != 200 or Refund.objects.count() == 1
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 1


def test_asking_the_bank_to_reverse_then_withdrawing(salon_a, login, app_payment):
    _app, _trans_id, order = app_payment
    client = login(salon_a.owner)
    asked = client.post(page(order), {"action": "ask_reversal", "reason": "Wrong salon"}, **HTMX)
    body = text(asked)
    request = Refund.objects.get(order=order)
    assert (request.route, request.state, request.amount) == (
        RefundRoute.BANK_REVERSAL,
        RefundState.AT_BANK,
        HAIRCUT,
    )
    assert "Asked the bank to reverse" in body
    assert 'id="withdraw-form"' in body and 'id="refund-form"' not in body
    assert f'<code id="bank-transaction-id">{order.bank_order_id}</code>' in body
    # Meanwhile no register refund: the same money must not go back twice.
    data = refund_form(amount="100 000", route="register", register=str(salon_a.cash.pk))
    refused = client.post(page(order), data)
    assert refused.status_code == 400
    assert "Uzum Bank was asked to reverse this payment" in text(refused)
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 0

    withdrawn = client.post(page(order), {"action": "withdraw", "refund": str(request.pk)}, **HTMX)
    assert "The request to the bank is withdrawn." in text(withdrawn)
    request.refresh_from_db()
    assert request.state == RefundState.FAILED
    assert 'id="refund-form"' in text(withdrawn)


def test_the_banks_reversal_books_the_request_once(salon_a, login, app_payment):
    app, trans_id, order = app_payment
    client = login(salon_a.owner)
    client.post(page(order), {"action": "ask_reversal", "reason": "Wrong salon"}, **HTMX)
    assert app.reverse(trans_id).status == 200
    assert app.reverse(trans_id).code == "10018"  # already reversed: booked once
    refund = Refund.objects.get(order=order)
    assert (refund.route, refund.state) == (RefundRoute.BANK_REVERSAL, RefundState.DONE)
    order.refresh_from_db()
    assert order.state == State.REFUNDED
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 1
    assert 'id="nothing-to-refund"' in text(client.get(page(order)))


def test_a_specialist_cannot_ask_for_a_reversal(salon_a, login, app_payment):
    _app, _trans_id, order = app_payment
    client = login(salon_a.specialist_user)
    response = client.post(page(order), {"action": "ask_reversal", "reason": "x"})
    assert response.status_code == 403
    assert Refund.objects.count() == 0
