"""Every Merchant API error code reached by a real request (through Django's full request stack,
CSRF enforced): each answer is HTTP 400 with ``status: "FAILED"``, the code as a string and
the documented echo fields (none at all for 10001), and nothing in the books, the payment
orders, the app transactions or the job queue changes unless the rule itself says so (a
transaction left past 30 minutes fails and frees its order)."""

import base64
import json
import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.booking.models import Status
from navbat.booking.services import LineInput, cancel_appointment, change_status, take_desk_payment
from navbat.payments.models import PaymentOrder, State
from navbat.uzum.merchant import services as merchant
from navbat.uzum.models import Connection, MerchantTransaction, TransactionState
from tests.uzum.merchant import (
    LOGIN,
    PASSWORD,
    SERVICE_ID,
    Answer,
    App,
    basic,
    connect_app,
    link_of,
)
from tests.uzum.test_merchant_api import DUE, books, created, snapshot

pytestmark = pytest.mark.django_db

ENDPOINTS = ("check", "create", "confirm", "reverse", "status")


@contextmanager
def nothing_changes(business):
    before = snapshot(business)
    yield
    assert snapshot(business) == before


def assert_failed(
    answer: Answer, code: str, endpoint: str, *, service_id=SERVICE_ID, trans_id=None, where=""
):
    """HTTP 400, FAILED, the code as a string, and exactly the endpoint's echo fields.
    ``where`` names the case in a loop, so that a failure says which one it was."""
    expected = {"serviceId": service_id, "status": "FAILED", "errorCode": code}
    if endpoint == "check":
        # /check echoes a timestamp of the answer (as its success does), not the request's.
        assert type(answer.body.get("timestamp")) is int, (where, answer.body)
        expected["timestamp"] = answer.body["timestamp"]
    else:
        expected["transId"] = str(trans_id) if trans_id is not None else None
    assert (where, answer.status, answer.body) == (where, 400, expected)


def send(app, method: str, endpoint: str, data: bytes = b"", auth: str | None = None):
    """Any method, any bytes: the raw response, to see what exactly went back."""
    return app.client.generic(
        method,
        f"{app.base}/{endpoint}",
        data,
        content_type="application/json",
        HTTP_AUTHORIZATION=auth if auth is not None else app.auth,
    )


def bodies(app, link, trans_id) -> dict[str, dict]:
    """A well-formed request for each endpoint about ``link`` and ``trans_id``: whatever it is
    refused for, it is not for being malformed."""
    common = {"serviceId": SERVICE_ID, "timestamp": 1_790_000_000_000}
    return {
        "check": {**common, "params": {app.attribute: link.code}},
        "create": {
            **common,
            "transId": str(uuid.uuid4()),
            "params": {app.attribute: link.code},
            "amount": DUE,
        },
        "confirm": {
            **common,
            "transId": str(trans_id),
            "paymentSource": "UZCARD",
            "phone": "998901234567",
        },
        "reverse": {**common, "transId": str(trans_id)},
        "status": {**common, "transId": str(trans_id)},
    }


# ---- 10001: access denied, nothing echoed -----------------------------------------------------


DENIED = {"status": "FAILED", "errorCode": "10001"}


@pytest.mark.parametrize(
    "auth",
    [
        basic(LOGIN, "wrong-password"),
        basic(LOGIN, PASSWORD[:-1]),
        basic("other-login", PASSWORD),
        basic(LOGIN.upper(), PASSWORD),
        basic("", ""),
        "",
        "Basic",
        "Basic !!!not-base64!!!",
        "Basic " + base64.b64encode(f"{LOGIN}{PASSWORD}".encode()).decode(),
        "Bearer " + base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode(),
        "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    ],
    ids=[
        "wrong-password",
        "password-one-short",
        "wrong-login",
        "login-other-case",
        "empty-pair",
        "no-header",
        "scheme-only",
        "not-base64",
        "no-colon",
        "bearer",
        "not-utf8",
    ],
)
def test_10001_bad_credentials_answer_nothing_but_the_code(salon_a, app, link, auth):
    trans_id = created(app, link)

    with nothing_changes(salon_a.business):
        for endpoint, body in bodies(app, link, trans_id).items():
            response = send(app, "POST", endpoint, json.dumps(body).encode(), auth=auth)
            text = response.content.decode()
            assert (endpoint, response.status_code, json.loads(text)) == (endpoint, 400, DENIED)
            assert str(SERVICE_ID) not in text
            assert body.get("transId", "-") not in text
            assert link.code not in text


def test_10001_for_an_unknown_connection_with_good_credentials(salon_a, app, link):
    trans_id = created(app, link)
    app.base = f"/uzum/merchant/{uuid.uuid4()}"

    with nothing_changes(salon_a.business):
        for endpoint, body in bodies(app, link, trans_id).items():
            answer = app.post(endpoint, body)
            assert (endpoint, answer.status, answer.body) == (endpoint, 400, DENIED)


def test_10001_comes_before_the_method_and_the_json(salon_a, app):
    wrong = basic(LOGIN, "wrong")
    cases = (("GET", b""), ("PUT", b"{}"), ("POST", b"{not json"), ("POST", b"[]"))
    with nothing_changes(salon_a.business):
        for method, data in cases:
            response = send(app, method, "create", data, auth=wrong)
            assert (method, data, response.status_code, json.loads(response.content)) == (
                method,
                data,
                400,
                DENIED,
            )


def test_10001_for_another_salons_credentials(salon_a, salon_b, connect_uzum, app, link):
    """Two salons' connections with different passwords: one salon's pair opens only its own."""
    other = connect_uzum(
        salon_b,
        merchant_service_id=SERVICE_ID,
        merchant_login=LOGIN,
        merchant_password="salon-b-password",
        app_payments=True,
    )
    trans_id = created(app, link)
    intruder = App(other, password=PASSWORD)

    with nothing_changes(salon_a.business), nothing_changes(salon_b.business):
        for endpoint, body in bodies(app, link, trans_id).items():
            answer = intruder.post(endpoint, body)
            assert (endpoint, answer.status, answer.body) == (endpoint, 400, DENIED)


# ---- 10002 / 10003: not JSON, not POST --------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [b"{not json", b"[1, 2]", b'"text"', b"42", b"null", b"", b"\xff\xfe{}"],
    ids=["broken", "array", "string", "number", "null", "empty", "not-utf8"],
)
def test_10002_a_body_that_is_no_json_object(salon_a, app, link, data):
    created(app, link)
    with nothing_changes(salon_a.business):
        for endpoint in ENDPOINTS:
            answer = app.post(endpoint, None, raw=data)
            assert_failed(answer, "10002", endpoint, service_id=None, where=endpoint)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_10003_any_method_but_post(salon_a, app, link, method):
    trans_id = created(app, link)
    with nothing_changes(salon_a.business):
        for endpoint, body in bodies(app, link, trans_id).items():
            response = send(app, method, endpoint, json.dumps(body).encode())
            answer = Answer(response.status_code, json.loads(response.content))
            # A request that is no call at all is not read: nothing of it is echoed.
            assert_failed(answer, "10003", endpoint, service_id=None, where=endpoint)


# ---- 10005: a required field missing or malformed ---------------------------------------------


REQUIRED = {
    "check": ("serviceId", "timestamp", "params"),
    "create": ("serviceId", "timestamp", "transId", "params", "amount"),
    "confirm": ("serviceId", "timestamp", "transId", "paymentSource", "phone"),
    "reverse": ("serviceId", "timestamp", "transId"),
    "status": ("serviceId", "timestamp", "transId"),
}


@pytest.mark.parametrize("how", ["absent", "null", "empty"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_10005_each_required_field_missing_in_turn(salon_a, app, link, endpoint, how):
    trans_id = created(app, link)

    with nothing_changes(salon_a.business):
        for field in REQUIRED[endpoint]:
            body = bodies(app, link, trans_id)[endpoint]
            if how == "absent":
                del body[field]
            else:
                body[field] = None if how == "null" else ""
            assert_failed(
                app.post(endpoint, body),
                "10005",
                endpoint,
                service_id=SERVICE_ID if field != "serviceId" else None,
                trans_id=body.get("transId") or None,
                where=f"{endpoint} without {field}",
            )
    assert MerchantTransaction.objects.get(trans_id=trans_id).state == TransactionState.CREATED


@pytest.mark.parametrize("endpoint", ["create", "confirm", "reverse", "status"])
def test_10005_a_trans_id_that_is_not_a_uuid(salon_a, app, link, endpoint):
    created(app, link)
    values = ["not-a-uuid", "12345", 12345, "0" * 65, ["a"], {"id": "x"}, True]
    with nothing_changes(salon_a.business):
        for value in values:
            body = {**bodies(app, link, uuid.uuid4())[endpoint], "transId": value}
            assert_failed(
                app.post(endpoint, body), "10005", endpoint, trans_id=None, where=repr(value)
            )


@pytest.mark.parametrize(
    ("field", "value"),
    [("serviceId", "501234"), ("timestamp", "1790000000000"), ("params", ["order"])],
)
def test_10005_fields_of_the_wrong_type(salon_a, app, link, field, value):
    body = {**bodies(app, link, uuid.uuid4())["create"], field: value}
    with nothing_changes(salon_a.business):
        answer = app.post("create", body)
    assert_failed(
        answer,
        "10005",
        "create",
        service_id=None if field == "serviceId" else SERVICE_ID,
        trans_id=body["transId"],
    )


# ---- 10006: another service id ---------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_10006_a_wrong_service_id(salon_a, app, link, endpoint):
    trans_id = created(app, link)
    body = {**bodies(app, link, trans_id)[endpoint], "serviceId": SERVICE_ID + 1}
    with nothing_changes(salon_a.business):
        answer = app.post(endpoint, body)
    assert_failed(
        answer, "10006", endpoint, service_id=SERVICE_ID + 1, trans_id=body.get("transId")
    )


# ---- 10007: no such payment attribute --------------------------------------------------------


def both_refuse(app, params: dict, code: str, business) -> None:
    """``/check`` and ``/create`` both answer ``code`` for ``params``, changing nothing."""
    trans_id = str(uuid.uuid4())
    common = {"serviceId": SERVICE_ID, "timestamp": 1_790_000_000_000, "params": params}
    with nothing_changes(business):
        check = app.post("check", common)
        create = app.post("create", {**common, "transId": trans_id, "amount": DUE})
    assert_failed(check, code, "check")
    assert_failed(create, code, "create", trans_id=trans_id)


@pytest.mark.parametrize(
    "params",
    [
        {"order": "ZZZZZZZZZZ"},
        {"order": ""},
        {"order": "A" * 40},
        {"order": None},
        {"order": ["x"]},
        {"order": True},
        {},
        {"invoice": "placeholder"},
    ],
    ids=["unknown", "empty", "too-long", "null", "list", "bool", "no-attribute", "other-name"],
)
def test_10007_params_naming_no_link(salon_a, app, link, params):
    params = {
        key: (link.code if value == "placeholder" else value) for key, value in params.items()
    }
    both_refuse(app, params, "10007", salon_a.business)


def test_a_link_code_read_aloud_is_still_found(salon_a, app, link):
    spaced = " ".join(link.code.lower())
    assert app.check(spaced).body["status"] == "OK"


def test_10007_another_business_link_code(salon_a, salon_b, app):
    foreign = link_of(salon_b)
    both_refuse(app, {"order": foreign.code}, "10007", salon_a.business)
    assert PaymentOrder.objects.filter(link=foreign).count() == 0


def test_10007_app_payments_switched_off_on_the_connection(salon_a, connection, app, link):
    trans_id = created(app, link)
    Connection.objects.filter(pk=connection.pk).update(app_payments=False)

    both_refuse(app, {"order": link.code}, "10007", salon_a.business)
    # A transaction the app already holds can still be settled: the money may be on its way.
    assert app.status(trans_id).body["status"] == "CREATED"


def test_10007_the_attribute_name_is_the_connections(salon_a, connection, link):
    Connection.objects.filter(pk=connection.pk).update(payment_attribute="invoice")
    connection.refresh_from_db()
    app = App(connection)

    both_refuse(app, {"order": link.code}, "10007", salon_a.business)
    assert app.check(link.code).body["status"] == "OK"


# ---- 10008: already paid ----------------------------------------------------------------------


def test_10008_paid_at_the_desk(salon_a, app, link):
    take_desk_payment(appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=DUE)
    both_refuse(app, {"order": link.code}, "10008", salon_a.business)


def test_10008_paid_by_an_earlier_app_payment(salon_a, app, link):
    trans_id = created(app, link)
    assert app.confirm(trans_id).status == 200
    both_refuse(app, {"order": link.code}, "10008", salon_a.business)


# A card order pending at Checkout answers 10008 too: see test_merchant_api.py, one method at
# a time.


def test_a_second_app_transaction_beside_an_unconfirmed_one_is_created(salon_a, app, link):
    """The client backed out of the app and came back (issue 12): a new transaction is
    created; whichever is confirmed first pays, the other's confirm is refused (10008) and
    changes nothing."""
    first = created(app, link)
    trans_id = str(uuid.uuid4())
    answer = app.create(link.code, DUE, trans_id)
    assert (answer.status, answer.body["status"]) == (200, "CREATED")
    assert app.status(first).body["status"] == "CREATED"

    assert app.confirm(trans_id).body["status"] == "CONFIRMED"
    money = snapshot(salon_a.business)["books"]
    refused = app.confirm(first)
    assert_failed(refused, "10008", "confirm", trans_id=first)
    assert snapshot(salon_a.business)["books"] == money
    assert books(salon_a.appointments[0]) == [("sale_payment", DUE), ("bank_fee", 100_000)]
    assert app.status(trans_id).body["status"] == "CONFIRMED"
    assert MerchantTransaction.objects.get(trans_id=first).state == TransactionState.FAILED
    assert list(PaymentOrder.objects.order_by("id").values_list("state", "duplicate_of")) == [
        (State.CANCELLED, None),
        (State.PAID, None),
    ]


# ---- 10009: cancelled -------------------------------------------------------------------------


def test_10009_the_appointment_was_cancelled(salon_a, app, link):
    cancel_appointment(appointment=salon_a.appointments[0])
    both_refuse(app, {"order": link.code}, "10009", salon_a.business)


# ---- 10011 / 10012 / 10013: the amount -------------------------------------------------------


@pytest.mark.parametrize(
    "amount",
    [DUE - 1, DUE + 1, DUE // 2, str(DUE), float(DUE), True, [DUE], {"value": DUE}],
    ids=["one-less", "one-more", "half", "string", "float", "bool", "list", "object"],
)
def test_10011_an_amount_that_is_not_what_is_due(salon_a, app, link, amount):
    trans_id = str(uuid.uuid4())
    body = {**bodies(app, link, None)["create"], "transId": trans_id, "amount": amount}
    with nothing_changes(salon_a.business):
        answer = app.post("create", body)
    assert_failed(answer, "10011", "create", trans_id=trans_id)


def test_10011_after_a_part_was_paid_at_the_desk_only_the_rest_is_taken(salon_a, app, link):
    take_desk_payment(
        appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=4_000_000
    )
    trans_id = str(uuid.uuid4())
    with nothing_changes(salon_a.business):
        answer = app.create(link.code, DUE, trans_id)
    assert_failed(answer, "10011", "create", trans_id=trans_id)
    assert app.check(link.code).body["data"]["amount"] == {"value": "6000000"}
    assert app.create(link.code, 6_000_000).body["status"] == "CREATED"


def test_10012_an_amount_below_one_thousand_som(salon_a, app, link):
    trans_id = str(uuid.uuid4())
    with nothing_changes(salon_a.business):
        answer = app.create(link.code, 99_999, trans_id)
    assert_failed(answer, "10012", "create", trans_id=trans_id)


def test_10012_a_due_below_one_thousand_som(salon_a, app, link):
    take_desk_payment(
        appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=DUE - 99_900
    )
    trans_id = str(uuid.uuid4())
    with nothing_changes(salon_a.business):
        check = app.check(link.code)
        create = app.create(link.code, 99_900, trans_id)
    assert_failed(check, "10012", "check")
    assert_failed(create, "10012", "create", trans_id=trans_id)


def test_exactly_one_thousand_som_is_taken(salon_a, app, link):
    take_desk_payment(
        appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=DUE - 100_000
    )
    assert app.check(link.code).body["status"] == "OK"
    assert app.create(link.code, 100_000).body["status"] == "CREATED"


def test_10013_an_amount_above_one_hundred_million_som(salon_a, app, link):
    trans_id = str(uuid.uuid4())
    with nothing_changes(salon_a.business):
        answer = app.create(link.code, 10_000_000_001, trans_id)
    assert_failed(answer, "10013", "create", trans_id=trans_id)


def test_10013_a_due_above_one_hundred_million_som(salon_a, app):
    big = salon_a.book(
        hour=15,
        lines=[
            LineInput(kind="product", item_id=salon_a.products[0].pk, unit_price=10_000_000_001)
        ],
    )
    link = link_of(salon_a, big)
    trans_id = str(uuid.uuid4())
    with nothing_changes(salon_a.business):
        check = app.check(link.code)
        create = app.create(link.code, 10_000_000_001, trans_id)
    assert_failed(check, "10013", "check")
    assert_failed(create, "10013", "create", trans_id=trans_id)


def test_exactly_one_hundred_million_som_is_taken(salon_a, app):
    big = salon_a.book(
        hour=15,
        lines=[
            LineInput(kind="product", item_id=salon_a.products[0].pk, unit_price=10_000_000_000)
        ],
    )
    link = link_of(salon_a, big)
    assert app.create(link.code, 10_000_000_000).body["status"] == "CREATED"


# ---- 10014: no such transaction ---------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["confirm", "reverse", "status"])
def test_10014_an_unknown_trans_id(salon_a, app, link, endpoint):
    created(app, link)
    unknown = uuid.uuid4()
    with nothing_changes(salon_a.business):
        answer = app.post(endpoint, bodies(app, link, unknown)[endpoint])
    assert_failed(answer, "10014", endpoint, trans_id=unknown)


@pytest.mark.parametrize("endpoint", ["confirm", "reverse", "status"])
def test_10014_another_salons_trans_id(salon_a, salon_b, connect_uzum, app, endpoint):
    other = App(connect_app(connect_uzum, salon_b))
    foreign = created(other, link_of(salon_b))
    body = bodies(app, link_of(salon_a), foreign)[endpoint]
    with nothing_changes(salon_a.business), nothing_changes(salon_b.business):
        answer = app.post(endpoint, body)
    assert_failed(answer, "10014", endpoint, trans_id=foreign)


# ---- 10015: cannot confirm ------------------------------------------------------------------


def test_10015_confirm_after_reverse(salon_a, app, link):
    trans_id = created(app, link)
    assert app.reverse(trans_id).status == 200
    with nothing_changes(salon_a.business):
        answer = app.confirm(trans_id)
    assert_failed(answer, "10015", "confirm", trans_id=trans_id)
    assert books(salon_a.appointments[0]) == []


def overdue(app, link) -> str:
    trans_id = created(app, link)
    MerchantTransaction.objects.filter(trans_id=trans_id).update(
        created_at=timezone.now() - timedelta(minutes=30, seconds=1)
    )
    return trans_id


@pytest.mark.parametrize("endpoint", ["confirm", "status"])
def test_10015_after_thirty_minutes_the_transaction_fails_and_frees_the_link(
    salon_a, app, link, endpoint
):
    trans_id = overdue(app, link)

    answer = app.post(endpoint, bodies(app, link, trans_id)[endpoint])

    assert_failed(answer, "10015", endpoint, trans_id=trans_id)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert tx.state == TransactionState.FAILED
    assert tx.failed_at is not None
    assert tx.confirmed_at is None
    assert tx.order.state == State.EXPIRED
    assert books(salon_a.appointments[0]) == []
    with nothing_changes(salon_a.business):
        for again in ("confirm", "status"):
            assert_failed(
                app.post(again, bodies(app, link, trans_id)[again]),
                "10015",
                again,
                trans_id=trans_id,
            )
    assert app.check(link.code).body["status"] == "OK"
    assert app.create(link.code, DUE).body["status"] == "CREATED"


# ---- 10017: cannot be cancelled ---------------------------------------------------------------


def test_10017_reverse_after_the_visit_took_place(salon_a, app, link):
    appointment = salon_a.appointments[0]
    trans_id = created(app, link)
    assert app.confirm(trans_id).status == 200
    change_status(appointment=appointment, status=Status.COMPLETED)

    with nothing_changes(salon_a.business):
        answer = app.reverse(trans_id)

    assert_failed(answer, "10017", "reverse", trans_id=trans_id)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.state, tx.order.state) == (TransactionState.CONFIRMED, State.PAID)
    assert app.status(trans_id).body["status"] == "CONFIRMED"


def test_10017_reverse_of_a_payment_already_given_back_in_part(salon_a, app, link):
    """Part of the money went back another way (a partial refund): reversing the whole
    payment would give that part twice."""
    trans_id = created(app, link)
    assert app.confirm(trans_id).status == 200
    order = MerchantTransaction.objects.get(trans_id=trans_id).order
    PaymentOrder.objects.filter(pk=order.pk).update(
        state=State.PARTLY_REFUNDED, refunded_amount=1_000_000
    )

    with nothing_changes(salon_a.business):
        answer = app.reverse(trans_id)

    assert_failed(answer, "10017", "reverse", trans_id=trans_id)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.state, tx.order.state) == (TransactionState.CONFIRMED, State.PARTLY_REFUNDED)


# ---- 10018: already cancelled -----------------------------------------------------------------


def test_10018_reverse_twice(salon_a, app, link):
    trans_id = created(app, link)
    assert app.reverse(trans_id).status == 200
    with nothing_changes(salon_a.business):
        answer = app.reverse(trans_id)
    assert_failed(answer, "10018", "reverse", trans_id=trans_id)


def test_10018_reverse_of_a_failed_transaction(salon_a, app, link):
    trans_id = created(app, link)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert merchant.expire(transaction_id=tx.pk, now=tx.created_at + timedelta(minutes=30))
    with nothing_changes(salon_a.business):
        answer = app.reverse(trans_id)
    assert_failed(answer, "10018", "reverse", trans_id=trans_id)
    tx.refresh_from_db()
    assert (tx.state, tx.order.state) == (TransactionState.FAILED, State.EXPIRED)


# ---- 99999: anything unexpected -----------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["check", "create"])
def test_99999_an_unexpected_failure_is_no_500(salon_a, app, link, endpoint, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    monkeypatch.setattr(merchant.app_payments, "payable_of", broken)
    body = bodies(app, link, None)[endpoint]
    with nothing_changes(salon_a.business):
        answer = app.post(endpoint, body)
    assert_failed(answer, "99999", endpoint, trans_id=body.get("transId"))


# ---- what changed while the app held the visit ------------------------------------------------


def test_a_confirm_after_the_visit_was_paid_at_the_desk_is_refused(salon_a, app, link):
    """The app held the visit, then the client paid cash at the desk: confirming would take
    the money twice. The confirm is refused (the app gives the client's money back), the
    transaction is over, and the books hold the desk payment only."""
    appointment = salon_a.appointments[0]
    trans_id = created(app, link)
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=DUE)

    answer = app.confirm(trans_id)

    assert_failed(answer, "10008", "confirm", trans_id=trans_id)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.state, tx.order.state) == (TransactionState.FAILED, State.CANCELLED)
    assert books(appointment) == [("sale_payment", DUE)]
    assert_failed(app.status(trans_id), "10015", "status", trans_id=trans_id)


def test_a_confirm_after_the_visit_was_cancelled_is_refused(salon_a, app, link):
    appointment = salon_a.appointments[0]
    trans_id = created(app, link)
    cancel_appointment(appointment=appointment)

    answer = app.confirm(trans_id)

    assert_failed(answer, "10009", "confirm", trans_id=trans_id)
    tx = MerchantTransaction.objects.get(trans_id=trans_id)
    assert (tx.state, tx.order.state) == (TransactionState.FAILED, State.CANCELLED)
    assert books(appointment) == []


def test_the_trans_id_comes_back_as_the_app_wrote_it(salon_a, app, link):
    written = str(uuid.uuid4()).upper()
    created_answer = app.create(link.code, DUE, written)
    assert (created_answer.status, created_answer.body["transId"]) == (200, written)
    assert app.status(written).body["transId"] == written
    assert app.confirm(written).body["transId"] == written
    # The same transaction however it is spelled: a replay, not a second one.
    assert app.confirm(written.lower()).code == "10016"
    assert MerchantTransaction.objects.count() == 1


def test_a_wrong_service_id_comes_before_a_bad_amount(salon_a, app, link):
    body = {
        "serviceId": SERVICE_ID + 1,
        "timestamp": 1,
        "transId": str(uuid.uuid4()),
        "params": {"order": link.code},
        "amount": "100000",
    }
    with nothing_changes(salon_a.business):
        answer = app.post("create", body)
    assert_failed(answer, "10006", "create", service_id=SERVICE_ID + 1, trans_id=body["transId"])
