"""/check finds its connection through the callbacks' per-process cache (issue 10: the app
asks /check most; one statement fewer). Money-moving endpoints still read it afresh, and a
change saved in this process is seen at once."""

import pytest

from navbat.uzum import ingest
from navbat.uzum.models import Connection, MerchantTransaction
from navbat.uzum.services import disconnect
from tests.uzum.merchant import LOGIN, App

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    ingest._connections.clear()
    yield
    ingest._connections.clear()


def test_a_second_check_does_not_read_the_connection_again(app, link, django_assert_num_queries):
    # The connection; the link; the visit with what was paid; its lines.
    with django_assert_num_queries(4):
        first = app.check(link.code)
    with django_assert_num_queries(3):
        second = app.check(link.code)
    assert (first.status, first.body["status"]) == (second.status, second.body["status"])
    assert first.body["data"] == second.body["data"]
    assert first.body["status"] == "OK"


def test_create_reads_the_connection_afresh(connection, app, link, django_assert_num_queries):
    assert app.check(link.code).body["status"] == "OK"
    Connection.objects.filter(pk=connection.pk).update(app_payments=False)  # no signal
    answer = app.create(link.code, 10_000_000)
    assert (answer.status, answer.code) == (400, "10007")
    assert MerchantTransaction.objects.count() == 0


def test_a_disconnect_is_seen_by_the_next_check(connection, app, link):
    assert app.check(link.code).body["status"] == "OK"
    disconnect(connection=connection)
    answer = app.check(link.code)
    assert (answer.status, answer.code) == (400, "10007")


def test_a_new_password_is_asked_at_once(connection, app, link):
    assert app.check(link.code).body["status"] == "OK"
    connection.merchant_password = "another-s3cret"
    connection.save()
    denied = app.check(link.code)
    assert (denied.status, denied.code) == (400, "10001")
    allowed = App(connection, login=LOGIN, password="another-s3cret").check(link.code)
    assert allowed.body["status"] == "OK"


def test_wrong_credentials_are_denied_on_a_cached_connection(connection, app, link):
    assert app.check(link.code).body["status"] == "OK"
    answer = App(connection, password="wrong").check(link.code)
    assert (answer.status, answer.code) == (400, "10001")
    assert "data" not in answer.body


def test_check_answers_while_a_card_payment_is_open(salon_a, app, link, django_assert_num_queries):
    """A card page the client left open does not stop the app (issue 12): /check answers
    what is due, in the same statements as on a link no card touched."""
    from navbat.payments import services as payments
    from navbat.payments.models import PaymentOrder
    from tests.payments.jobs import RETURN_URL

    payments.start_card_payment(
        link=link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    assert app.check(link.code).body["status"] == "OK"  # the connection now cached
    with django_assert_num_queries(3):
        answer = app.check(link.code)
    assert (answer.status, answer.code, answer.body["status"]) == (200, None, "OK")
    assert answer.body["data"]["amount"] == {"value": "10000000"}
    assert PaymentOrder.objects.get().state == "pending"
