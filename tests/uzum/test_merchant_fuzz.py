"""Whatever the Merchant API is sent (any JSON, any field of any type, any bytes), it answers
HTTP 200 or a 400 with a known error code, never a 500, and moves no money unless the
request was a well-formed one that should."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from navbat.finance.models import Transaction
from navbat.payments.models import PaymentOrder
from navbat.uzum.merchant.protocol import ENDPOINTS, Code
from navbat.uzum.models import MerchantTransaction
from tests.uzum.merchant import SERVICE_ID, App, connect_app, link_of

pytestmark = pytest.mark.django_db

KNOWN_CODES = {code.value for code in Code}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(
    [
        "serviceId",
        "timestamp",
        "transId",
        "params",
        "amount",
        "paymentSource",
        "phone",
        "tariff",
        "processingReferenceNumber",
        "cardType",
    ]
)
bodies = st.dictionaries(field_names, json_values, max_size=10)

SLOW = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def app(salon_a, connect_uzum):
    connection = connect_app(connect_uzum, salon_a)
    link_of(salon_a)
    return App(connection)


def money_rows() -> tuple[int, int, int]:
    return (
        Transaction.objects.count(),
        PaymentOrder.objects.count(),
        MerchantTransaction.objects.count(),
    )


def assert_known_failure(answer) -> None:
    assert answer.status == 400, answer.body
    assert answer.body["status"] == "FAILED"
    assert answer.body["errorCode"] in KNOWN_CODES
    assert answer.body["errorCode"] != Code.INTERNAL.value


@SLOW
@given(endpoint=st.sampled_from(ENDPOINTS), body=bodies)
def test_any_json_object_gets_an_answer_and_moves_no_money(app, endpoint, body):
    before = money_rows()
    answer = app.post(endpoint, body)
    if answer.status == 200:
        # Only a well-formed /check (which changes nothing) can pass with made-up fields:
        # nothing made up names a real link code.
        assert endpoint == "check" and answer.body["status"] == "OK"
    else:
        assert_known_failure(answer)
    assert money_rows() == before


@SLOW
@given(endpoint=st.sampled_from(ENDPOINTS), raw=st.binary(max_size=200))
def test_any_bytes_get_a_parse_error_or_a_field_error(app, endpoint, raw):
    before = money_rows()
    answer = app.post(endpoint, None, raw=raw)
    assert_known_failure(answer)
    assert money_rows() == before


@SLOW
@given(value=json_values | st.sampled_from([SERVICE_ID, float(SERVICE_ID), str(SERVICE_ID)]))
def test_any_service_id_but_ours_is_refused(app, value):
    body = {"serviceId": value, "timestamp": 1, "params": {"order": "X"}}
    answer = app.post("check", body)
    whole = isinstance(value, int) and not isinstance(value, bool)
    if whole and value == SERVICE_ID:
        assert answer.code == Code.ATTRIBUTE_NOT_FOUND.value
    elif whole:
        assert answer.code == Code.WRONG_SERVICE.value
    else:  # 501234.0, "501234", true: a service id is a whole number
        assert answer.code == Code.MISSING_PARAMETER.value


def test_a_huge_body_is_a_parse_error(app):
    raw = json.dumps({"serviceId": SERVICE_ID, "pad": "x" * 70_000}).encode()
    answer = app.post("check", None, raw=raw)
    assert answer.status == 400
    assert answer.code == Code.JSON_PARSE.value
