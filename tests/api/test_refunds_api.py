"""The JSON API of F4: POST /payments/{id}/refunds (with its Idempotency-Key) and
GET /payments/{id} with its refunds, on the sandbox bank. Every refusal moves nothing: no
refund row, no transaction in the books, no operation at the bank."""

import json

import pytest

from navbat.finance.models import Transaction, TransactionKind
from navbat.payments.models import PaymentOrder, Refund, RefundState, State
from navbat.payments.states import transition
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Operation as BankOperation
from navbat.uzum_sandbox.models import OperationType
from navbat.uzum_sandbox.models import Order as BankOrder

from .conftest import assert_error
from .test_payments_api import iso, order_json, paid, public_root, start  # noqa: F401

pytestmark = pytest.mark.django_db

HAIRCUT = 10_000_000
FEE = 100_000  # 1 % of an Uzcard payment


def refunds_path(order) -> str:
    return f"/payments/{order.reference}/refunds"


def ask(api, order, body, key="key-1", **kwargs):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return api.post(refunds_path(order), body, headers=headers, **kwargs)


def moved() -> dict:
    """What a refund could have moved: our rows, the books, the bank's operations."""
    return {
        "refunds": list(Refund.objects.values_list("pk", "state", "amount")),
        "transactions": list(Transaction.objects.order_by("pk").values_list("pk", "kind")),
        "bank_refunds": BankOperation.objects.filter(
            operation_type__in=(OperationType.REFUND, OperationType.REVERSE)
        ).count(),
        "orders": list(
            PaymentOrder.objects.order_by("pk").values_list(
                "pk", "state", "refunded_amount", "fee_returned_amount"
            )
        ),
    }


def refund_json(refund: Refund, order: PaymentOrder, **changes) -> dict:
    return {
        "id": str(refund.operation_key),
        "payment_id": order.reference,
        "amount": refund.amount,
        "state": "done",
        "reason": refund.reason,
        "created_at": iso(refund.created_at),
        **changes,
    }


@pytest.fixture
def card_payment(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = paid(salon_a, salon_a.appointments[0])
    assert (order.state, order.paid_amount, order.fee_amount) == (State.PAID, HAIRCUT, FEE)
    return order


# ---- the answers -----------------------------------------------------------------------------


def test_a_partial_then_a_final_refund_and_the_payment_shows_both(api_a, card_payment):
    order = card_payment

    first = ask(api_a, order, {"amount": 4_000_000, "reason": "  Shorter   cut "}, key="a")

    assert first.status_code == 201, first.content
    one = Refund.objects.get()
    assert (one.amount, one.reason, one.state, one.idempotency_key) == (
        4_000_000,
        "Shorter cut",
        RefundState.DONE,
        "a",
    )
    assert first.json() == refund_json(one, order)
    assert first.json()["created_at"].endswith("+05:00")

    second = ask(api_a, order, {"amount": 6_000_000, "reason": "Cancelled"}, key="b")

    assert second.status_code == 201, second.content
    two = Refund.objects.exclude(pk=one.pk).get()
    assert second.json() == refund_json(two, order)
    order.refresh_from_db()
    assert (order.state, order.refunded_amount, order.fee_returned_amount) == (
        State.REFUNDED,
        HAIRCUT,
        0,  # the fee schedule's default: the bank keeps its fee on a refund
    )
    assert BankOrder.objects.get(order_id=order.bank_order_id).status == "REFUNDED"
    refunds_at_bank = BankOperation.objects.filter(operation_type=OperationType.REFUND)
    assert sorted(refunds_at_bank.values_list("amount", "merchant_operation_id")) == sorted(
        [(4_000_000, str(one.operation_key)), (6_000_000, str(two.operation_key))]
    )
    assert list(
        Transaction.objects.filter(document=order.document)
        .order_by("pk")
        .values_list("kind", "amount")
    ) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, FEE),
        (TransactionKind.REFUND, 4_000_000),
        (TransactionKind.REFUND, 6_000_000),
    ]

    shown = api_a.get(f"/payments/{order.reference}")

    assert shown.status_code == 200, shown.content
    assert shown.json() == order_json(
        order,
        card_kind="uzcard",
        card_scheme="UZCARD",
        masked_pan="860000******0018",
        paid_amount=HAIRCUT,
        fee=FEE,
        fee_rate="1",
        refunded_amount=HAIRCUT,
        fee_returned_amount=0,
        state="refunded",
        paid_at=iso(order.paid_at),
        fee_amount=FEE,
        refunds=[refund_json(two, order), refund_json(one, order)],  # newest first
    )
    listed = api_a.get("/payments").json()["items"]
    assert [(row["id"], row["refunded_amount"], row["fee_returned_amount"]) for row in listed] == [
        (order.reference, HAIRCUT, 0)
    ]


def test_a_payment_without_refunds(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    waiting = start(salon_a, salon_a.appointments[0])
    shown = api_a.get(f"/payments/{waiting.reference}")
    assert shown.status_code == 200, shown.content
    assert shown.json() == order_json(waiting, fee_amount=0, refunds=[])


def test_the_fee_comes_back_when_the_fee_schedule_says_so(api_a, card_payment):
    order = card_payment
    schedule = payments_fee_schedule(order)
    schedule.fee_returned_on_refund = True
    schedule.save()

    answer = ask(api_a, order, {"amount": 2_500_000, "reason": "Shorter cut"})

    assert answer.status_code == 201, answer.content
    order.refresh_from_db()
    assert (order.state, order.refunded_amount, order.fee_returned_amount) == (
        State.PARTLY_REFUNDED,
        2_500_000,
        25_000,
    )
    body = api_a.get(f"/payments/{order.reference}").json()
    assert (body["refunded_amount"], body["fee_returned_amount"], body["fee_amount"]) == (
        2_500_000,
        25_000,
        FEE,
    )
    assert Transaction.objects.filter(kind=TransactionKind.FEE_RETURN).get().amount == 25_000


def payments_fee_schedule(order):
    from navbat.payments import providers

    account = providers.get(order.provider).account_by_id(account_id=order.account_id)
    return account.fee_schedule


# ---- Idempotency-Key ---------------------------------------------------------------------------


def test_the_same_key_and_body_answer_the_first_refund(api_a, card_payment):
    order = card_payment
    body = {"amount": 3_000_000, "reason": "Shorter cut"}
    first = ask(api_a, order, body, key="retry-me")
    assert first.status_code == 201, first.content
    after_first = moved()

    again = ask(api_a, order, body, key="retry-me")
    # The reason is compared as stored (spaces folded), so this is the same request.
    spaced = ask(api_a, order, {"amount": 3_000_000, "reason": " Shorter  cut"}, key="retry-me")

    assert (again.status_code, spaced.status_code) == (200, 200)
    assert again.json() == spaced.json() == first.json()
    assert moved() == after_first


@pytest.mark.parametrize(
    "other",
    [
        {"amount": 3_000_001, "reason": "Shorter cut"},
        {"amount": 3_000_000, "reason": "Another reason"},
    ],
)
def test_the_same_key_with_another_body_is_a_409(api_a, card_payment, other):
    order = card_payment
    assert ask(api_a, order, {"amount": 3_000_000, "reason": "Shorter cut"}).status_code == 201
    before = moved()

    body = assert_error(ask(api_a, order, other), 409, "key_reused")

    assert body["message"] == "This Idempotency-Key was already used for another refund."
    assert moved() == before


def test_a_key_used_on_another_payment_is_a_409(api_a, salon_a, connect_uzum):
    connect_uzum(salon_a)
    first, second = (paid(salon_a, appointment) for appointment in salon_a.appointments)
    body = {"amount": 1_000_000, "reason": "Shorter cut"}
    assert ask(api_a, first, body, key="k").status_code == 201
    before = moved()
    assert_error(ask(api_a, second, body, key="k"), 409, "key_reused")
    assert moved() == before


def test_a_new_key_makes_a_new_refund(api_a, card_payment):
    order = card_payment
    body = {"amount": 1_000_000, "reason": "Shorter cut"}
    answers = [ask(api_a, order, body, key=key) for key in ("one", "two")]
    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json()["id"] != answers[1].json()["id"]
    order.refresh_from_db()
    assert order.refunded_amount == 2_000_000
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 2


@pytest.mark.parametrize(
    "key, message",
    [
        (None, "Send an Idempotency-Key header: a new string for each refund."),
        ("", "Send an Idempotency-Key header: a new string for each refund."),
        ("   ", "Send an Idempotency-Key header: a new string for each refund."),
        ("k" * 65, "The Idempotency-Key can be at most 64 characters."),
    ],
)
def test_a_missing_empty_or_long_key_is_a_422(api_a, card_payment, key, message):
    before = moved()
    body = assert_error(
        ask(api_a, card_payment, {"amount": 1_000_000, "reason": "Shorter cut"}, key=key),
        422,
        "invalid",
    )
    assert body["message"] == message
    assert body["details"] == {"Idempotency-Key": [message]}
    assert moved() == before


def test_a_key_of_64_characters_is_taken(api_a, card_payment):
    answer = ask(api_a, card_payment, {"amount": 1_000_000, "reason": "x"}, key="k" * 64)
    assert answer.status_code == 201, answer.content
    assert Refund.objects.get().idempotency_key == "k" * 64


# ---- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw, field",
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": -1, "reason": "x"}, "amount"),
        ({"amount": 1.5, "reason": "x"}, "amount"),
        ({"amount": 1000000.0, "reason": "x"}, "amount"),
        ({"amount": True, "reason": "x"}, "amount"),
        ({"amount": "1000000", "reason": "x"}, "amount"),
        ({"amount": None, "reason": "x"}, "amount"),
        ({"amount": 10**20, "reason": "x"}, "amount"),
        ({"reason": "x"}, "amount"),
        ({"amount": 1_000_000}, "reason"),
        ({"amount": 1_000_000, "reason": ""}, "reason"),
        ({"amount": 1_000_000, "reason": "   "}, "reason"),
        ({"amount": 1_000_000, "reason": "x" * 301}, "reason"),
        ({"amount": 1_000_000, "reason": "a\x00b"}, "reason"),
        ({"amount": 1_000_000, "reason": 5}, "reason"),
    ],
)
def test_bad_input_is_a_422_and_moves_nothing(api_a, card_payment, raw, field):
    before = moved()
    body = assert_error(ask(api_a, card_payment, raw), 422, "invalid")
    assert list(body["details"]) == [field]
    assert moved() == before


def test_not_json_is_a_400_and_moves_nothing(api_a, card_payment):
    before = moved()
    assert_error(ask(api_a, card_payment, None, raw="{amount: 1"), 400, "malformed")
    assert moved() == before


def test_a_reason_of_300_characters_is_taken(api_a, card_payment):
    answer = ask(api_a, card_payment, {"amount": 1_000_000, "reason": "x" * 300})
    assert answer.status_code == 201, answer.content
    assert answer.json()["reason"] == "x" * 300


def test_more_than_refundable_is_a_409_and_moves_nothing(api_a, card_payment):
    order = card_payment
    before = moved()
    body = assert_error(ask(api_a, order, {"amount": HAIRCUT + 1, "reason": "x"}), 409, "too_much")
    assert body["message"] == "At most 100 000 so'm can be refunded."
    assert moved() == before

    assert ask(api_a, order, {"amount": 7_000_000, "reason": "x"}, key="k2").status_code == 201
    before = moved()
    body = assert_error(
        ask(api_a, order, {"amount": 3_000_001, "reason": "x"}, key="k3"), 409, "too_much"
    )
    assert body["message"] == "At most 30 000 so'm can be refunded."
    assert moved() == before


def test_nothing_left_is_a_409(api_a, card_payment):
    order = card_payment
    assert ask(api_a, order, {"amount": HAIRCUT, "reason": "x"}, key="all").status_code == 201
    before = moved()
    body = assert_error(
        ask(api_a, order, {"amount": 1, "reason": "x"}, key="k"), 409, "nothing_left"
    )
    assert body["message"] == "This payment is already refunded in full."
    assert moved() == before


def test_a_refund_in_flight_is_a_409(api_a, card_payment):
    order = card_payment
    Refund.objects.create(
        business=order.business,
        order=order,
        amount=1_000_000,
        reason="Still at the bank",
        route="bank",
        state=RefundState.AT_BANK,
        register=payments_account_register(order),
        operation_key="5d1b3c1e-7d1a-4c55-9a57-1c8c7d0e2b10",
    )
    before = moved()
    body = assert_error(ask(api_a, order, {"amount": 1, "reason": "x"}), 409, "in_flight")
    assert body["message"] == "A refund of this payment is under way; wait until it is finished."
    assert moved() == before


def payments_account_register(order):
    from navbat.payments import providers

    return providers.get(order.provider).account_by_id(account_id=order.account_id).register


def _ended(to: str):
    """An order the bank never paid, ended as ``to`` the way the payment core ends one."""

    def make(salon, appointment):
        from django.db import transaction

        order = start(salon, appointment)
        # A declined card attempt leaves the bank's order open for another try: the core
        # ends it when the bank says so; here it is ended the same way, by the state table.
        bank.pay(order_id=order.bank_order_id, card_number="8600000000003008")
        with transaction.atomic():
            locked = PaymentOrder.objects.select_for_update().get(pk=order.pk)
            transition(order=locked, to=to)
        return order

    return make


@pytest.mark.parametrize(
    "make, state",
    [
        (start, State.PENDING),
        (_ended(State.DECLINED), State.DECLINED),
        (_ended(State.EXPIRED), State.EXPIRED),
    ],
    ids=["pending", "declined", "expired"],
)
def test_an_order_that_was_not_paid_is_a_409(api_a, salon_a, connect_uzum, make, state):
    connect_uzum(salon_a)
    order = make(salon_a, salon_a.appointments[0])
    order.refresh_from_db()
    assert order.state == state
    before = moved()
    body = assert_error(ask(api_a, order, {"amount": 1, "reason": "x"}), 409, "not_paid")
    assert body["message"] == "This payment was not paid: there is nothing to refund."
    assert moved() == before


def test_another_business_payment_is_a_404_and_moves_nothing(
    api_a, api_b, salon_a, salon_b, connect_uzum
):
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    theirs = paid(salon_b, salon_b.appointments[0])
    before = moved()
    assert_error(ask(api_a, theirs, {"amount": 1_000_000, "reason": "x"}), 404, "not_found")
    # Whose payment it is is answered first: without a key it is still a 404.
    assert_error(ask(api_a, theirs, {"amount": 1, "reason": "x"}, key=None), 404, "not_found")
    assert_error(api_a.get(f"/payments/{theirs.reference}"), 404, "not_found")
    assert moved() == before
    # Their own token reaches it.
    assert ask(api_b, theirs, {"amount": 1_000_000, "reason": "x"}).status_code == 201


def test_an_unknown_or_bad_payment_id(api_a, anonymous, card_payment):
    before = moved()
    for path in ("/payments/no-such-payment", "/payments/no-such-payment/refunds"):
        method = api_a.get if path.endswith("payment") else None
        if method:
            assert_error(method(path), 404, "not_found")
    assert_error(
        api_a.post(
            "/payments/no-such-payment/refunds",
            {"amount": 1, "reason": "x"},
            headers={"HTTP_IDEMPOTENCY_KEY": "k"},
        ),
        404,
        "not_found",
    )
    assert_error(api_a.get("/payments/" + "x" * 37), 422, "invalid")
    assert_error(
        anonymous.post(refunds_path(card_payment), {"amount": 1, "reason": "x"}),
        401,
        "unauthenticated",
    )
    assert_error(api_a.get(refunds_path(card_payment)), 405, "method_not_allowed")
    assert moved() == before


def test_an_app_payment_is_refused_before_the_bank(api_a, salon_a, connect_uzum):
    from tests.uzum.merchant import App, connect_app, link_of

    connection = connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    app = App(connection)
    trans_id = "6f0f3c1e-7d1a-4c55-9a57-1c8c7d0e2b10"
    assert app.create(link.code, HAIRCUT, trans_id).status == 200
    assert app.confirm(trans_id).status == 200
    order = PaymentOrder.objects.get(link=link)
    before = moved()
    body = assert_error(ask(api_a, order, {"amount": 1, "reason": "x"}), 409, "provider_cannot")
    assert body["message"].startswith("Uzum Bank offers no refund call for payments")
    assert moved() == before


def test_the_bank_refusing_answers_failed_and_books_nothing(api_a, card_payment):
    terminal = card_payment_terminal(card_payment)
    terminal.faults = {"acquiring/refund": {"mode": "error_5xx"}}
    terminal.save()
    before_books = list(Transaction.objects.values_list("pk", flat=True))

    answer = ask(api_a, card_payment, {"amount": 1_000_000, "reason": "x"}, key="down")

    assert answer.status_code == 201, answer.content
    refund = Refund.objects.get()
    assert answer.json() == refund_json(refund, card_payment, state=refund.state)
    assert (refund.state, refund.failure_reason) == (
        RefundState.FAILED,
        "The bank is unavailable; nothing moved. Try again in a minute.",
    )
    assert list(Transaction.objects.values_list("pk", flat=True)) == before_books
    card_payment.refresh_from_db()
    assert (card_payment.state, card_payment.refunded_amount) == (State.PAID, 0)
    # The same key answers that refund again; a new key tries again once the bank is back.
    again = ask(api_a, card_payment, {"amount": 1_000_000, "reason": "x"}, key="down")
    assert (again.status_code, again.json()) == (200, answer.json())
    terminal.faults = {}
    terminal.save()
    retried = ask(api_a, card_payment, {"amount": 1_000_000, "reason": "x"}, key="up")
    assert (retried.status_code, retried.json()["state"]) == (201, "done")
    card_payment.refresh_from_db()
    assert card_payment.refunded_amount == 1_000_000
    assert Transaction.objects.filter(kind=TransactionKind.REFUND).count() == 1


def card_payment_terminal(order):
    from navbat.uzum_sandbox.models import Terminal

    return Terminal.objects.get(orders__order_id=order.bank_order_id)


def test_the_schema_documents_both_operations(api_a):
    schema = api_a.get("/openapi.json").json()
    post = schema["paths"]["/api/v1/payments/{payment_id}/refunds"]["post"]
    assert post["operationId"] == "refund_payment"
    header = [p for p in post["parameters"] if p["in"] == "header"]
    assert header == [
        {
            "in": "header",
            "name": "Idempotency-Key",
            "required": True,
            "description": header[0]["description"],
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
        }
    ]
    assert set(post["responses"]) >= {"200", "201", "404", "409", "422"}
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert json.dumps(body)  # a schema, referenced or inline
    get = schema["paths"]["/api/v1/payments/{payment_id}"]["get"]
    assert get["operationId"] == "get_payment"
    assert "Idempotency-Key" in schema["info"]["description"]
