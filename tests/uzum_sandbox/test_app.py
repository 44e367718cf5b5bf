"""The sandbox's Uzum Bank app over the Django test client, against a test merchant that
implements the Merchant API on a real local HTTP server."""

import html
import json

import pytest

from navbat.accounts.sandbox import sandbox_owner
from navbat.uzum_sandbox import app
from navbat.uzum_sandbox.models import AppTransaction
from tests.uzum_sandbox.merchant import PASSWORD

AMOUNT = 25_000_000  # 250 000 so'm
CONFIRM_FIELDS = {
    "serviceId",
    "timestamp",
    "transId",
    "paymentSource",
    "phone",
    "tariff",
    "processingReferenceNumber",
}


@pytest.fixture(autouse=True)
def fast_status(settings):
    settings.NAVBAT_SANDBOX_APP_STATUS_PAUSE = 0


@pytest.fixture
def service(make_service, merchant_server):
    merchant_server.orders = {"ORD-1": AMOUNT}
    return make_service(
        merchant_name="Salon Guli",
        login=merchant_server.login,
        password=merchant_server.password,
        merchant_base_url=merchant_server.base_url + "/",
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def open_link(client, service, order="ORD-1", **query):
    params = {"serviceId": service.service_id, service.attribute_name: order, **query}
    return client.get("/sandbox/uzum/open-service", params)


def pay(client, source="UZCARD", tariff=None, **extra):
    tx = AppTransaction.objects.latest("id")
    data = {"source": source, **extra}
    if tariff:
        data["tariff"] = tariff
    response = client.post(f"/sandbox/uzum/open-service/{tx.trans_id}/pay", data)
    assert response.status_code == 302, response.content
    tx.refresh_from_db()
    return tx, response


def test_opening_the_link_asks_check_and_shows_what_the_merchant_said(
    client, service, merchant_server
):
    response = open_link(client, service)
    assert response.status_code == 200
    body = text(response)
    assert "Salon Guli" in body
    assert "Test Client" in body and "ORD-1" in body
    assert "250 000 so'm" in body  # from the merchant's answer
    for label in ("Uzcard", "Humo", "Uzum Visa", "Uzum balance", "Installments"):
        assert label in body
    for tariff in ("003", "006", "012", "15-0-4"):
        assert f'value="{tariff}"' in body
    [call] = merchant_server.merchant_calls()
    assert call.endpoint == "check"
    assert set(call.body) == {"serviceId", "timestamp", "params"}
    assert call.body["serviceId"] == service.service_id
    assert call.body["params"] == {"order": "ORD-1"}
    assert isinstance(call.body["timestamp"], int) and call.body["timestamp"] > 1_600_000_000_000


def test_a_card_payment_is_check_create_confirm_with_basic_auth(client, service, merchant_server):
    open_link(client, service)
    tx, response = pay(client, "UZCARD")

    assert merchant_server.endpoints() == ["check", "create", "confirm"]
    assert all(merchant_server._authorised(c.authorization) for c in merchant_server.calls)
    create = merchant_server.last("create")
    assert set(create) == {"serviceId", "timestamp", "transId", "params", "amount"}
    assert create["transId"] == str(tx.trans_id)
    assert create["amount"] == AMOUNT and create["params"] == {"order": "ORD-1"}
    confirm = merchant_server.last("confirm")
    assert set(confirm) == CONFIRM_FIELDS | {"cardType"}
    assert "amount" not in confirm and confirm["tariff"] is None
    assert len(confirm["processingReferenceNumber"]) == 12
    assert confirm["paymentSource"] == "UZCARD"
    assert confirm["phone"] == "998901234567"
    assert tx.status == "CONFIRMED" and tx.payment_source == "UZCARD"

    body = text(client.get(response.url))
    assert "Paid" in body and "250 000 so'm" in body and 'data-status="CONFIRMED"' in body


def test_installments_send_the_chosen_tariff(client, service, merchant_server):
    open_link(client, service)
    tx, _ = pay(client, "INSTALLMENT", tariff="012")
    confirm = merchant_server.last("confirm")
    assert confirm["paymentSource"] == "INSTALLMENT"
    assert confirm["tariff"] == "012"
    assert "cardType" not in confirm
    assert (tx.status, tx.tariff) == ("CONFIRMED", "012")


@pytest.mark.parametrize("source", ["HUMO", "UZUM_DEBIT_VISA", "ACCOUNT"])
def test_every_funding_source_is_sent(client, service, merchant_server, source):
    open_link(client, service)
    pay(client, source)
    assert merchant_server.last("confirm")["paymentSource"] == source


@pytest.mark.parametrize(
    ("source", "tariff", "sent_tariff", "has_reference"),
    [
        ("UZCARD", None, None, True),
        ("HUMO", None, None, True),
        ("UZUM_DEBIT_VISA", None, None, True),
        ("ACCOUNT", None, None, False),
        ("INSTALLMENT", "15-0-4", "15-0-4", False),
    ],
)
def test_confirm_sends_tariff_and_processing_reference_as_the_spec_says(
    client, service, merchant_server, source, tariff, sent_tariff, has_reference
):
    """uzum-bank.md §2: tariff is present only for INSTALLMENT and null otherwise;
    processingReferenceNumber only for card sources and null otherwise. Both keys always."""
    open_link(client, service)
    tx, _ = pay(client, source, tariff=tariff)
    confirm = merchant_server.last("confirm")
    assert {"tariff", "processingReferenceNumber"} <= set(confirm)
    assert confirm["tariff"] == sent_tariff
    reference = confirm["processingReferenceNumber"]
    if has_reference:
        assert isinstance(reference, str) and len(reference) == 12 and reference.isdigit()
    else:
        assert reference is None
    assert tx.status == "CONFIRMED"


def test_installments_need_a_known_plan(client, service, merchant_server):
    open_link(client, service)
    tx = AppTransaction.objects.get()
    response = client.post(
        f"/sandbox/uzum/open-service/{tx.trans_id}/pay", {"source": "INSTALLMENT", "tariff": "x"}
    )
    assert response.status_code == 400
    assert merchant_server.endpoints() == ["check"]


def test_when_confirm_fails_the_app_asks_status(client, service, merchant_server):
    merchant_server.faults = {"confirm": ["work_then_500"]}
    open_link(client, service)
    tx, _ = pay(client, "HUMO")
    assert merchant_server.endpoints() == ["check", "create", "confirm", "status"]
    status = merchant_server.last("status")
    assert set(status) == {"serviceId", "timestamp", "transId"}
    assert tx.status == "CONFIRMED"


def test_status_is_asked_at_most_ten_times(client, service, merchant_server):
    merchant_server.faults = {"confirm": ["500"]}  # nothing confirmed: /status says CREATED
    open_link(client, service)
    tx, response = pay(client)
    assert merchant_server.endpoints() == ["check", "create", "confirm"] + ["status"] * 10
    assert tx.status == "FAILED"
    assert "Payment failed" in text(client.get(response.url))


def test_status_retries_through_server_errors(client, service, merchant_server):
    merchant_server.faults = {"confirm": ["work_then_500"], "status": ["500", "500"]}
    open_link(client, service)
    tx, _ = pay(client)
    assert merchant_server.endpoints().count("status") == 3
    assert tx.status == "CONFIRMED"


def test_a_timeout_fault_on_confirm_leads_to_status(client, service, merchant_server):
    service.faults = {"confirm": {"mode": "timeout", "seconds": 0, "times": 1}}
    service.save(update_fields=["faults"])
    open_link(client, service)
    tx, _ = pay(client)
    assert merchant_server.endpoints() == ["check", "create", "confirm", "status"]
    assert tx.status == "CONFIRMED"
    confirm_entry = [e for e in tx.exchange if e["endpoint"] == "confirm"][0]
    assert "timeout" in confirm_entry["note"]


def test_a_duplicate_fault_sends_the_call_twice(client, service, merchant_server):
    service.faults = {"create": {"mode": "duplicate", "count": 2}}
    service.save(update_fields=["faults"])
    open_link(client, service)
    tx, _ = pay(client)
    assert merchant_server.endpoints() == ["check", "create", "create", "confirm"]
    assert tx.exchange[2]["response"]["errorCode"] == "10010"  # the replay was refused
    assert tx.status == "CONFIRMED"


def test_a_refused_create_fails_with_the_merchants_error_code(client, service, merchant_server):
    open_link(client, service, amount=AMOUNT + 100)  # the link's amount wins, and is wrong
    tx, response = pay(client)
    assert merchant_server.endpoints() == ["check", "create"]
    assert merchant_server.last("create")["amount"] == AMOUNT + 100
    assert tx.status == "FAILED"
    body = text(client.get(response.url))
    assert "Payment failed" in body and "10011" in body


def test_a_refused_check_shows_the_error(client, service, merchant_server):
    response = open_link(client, service, order="NOPE")
    assert response.status_code == 302
    body = text(client.get(response.url))
    assert "10007" in body
    assert AppTransaction.objects.get().status == "FAILED"


def test_an_unreachable_merchant_is_a_failed_payment_not_a_crash(client, make_service):
    service = make_service(merchant_base_url="http://127.0.0.1:9/uzum")
    response = open_link(client, service)
    body = text(client.get(response.url))
    assert "could not be reached" in body


def test_a_merchant_that_gives_no_amount_lets_the_customer_type_it(
    client, service, merchant_server
):
    merchant_server.orders = {"ORD-1": AMOUNT}
    original = merchant_server._work

    def no_amount(endpoint, body, echo, failed):
        status, answer = original(endpoint, body, echo, failed)
        if endpoint == "check":
            answer["data"].pop("amount")
        return status, answer

    merchant_server._work = no_amount
    response = open_link(client, service)
    assert 'name="amount_som"' in text(response)
    tx, _ = pay(client, amount_som="250 000")
    assert merchant_server.last("create")["amount"] == AMOUNT
    assert tx.status == "CONFIRMED"


def test_a_double_tap_pays_once(client, service, merchant_server):
    open_link(client, service)
    pay(client)
    tx, _ = pay(client, "HUMO")
    assert merchant_server.endpoints().count("create") == 1
    assert tx.payment_source == "UZCARD"


def test_unknown_service_and_missing_attribute_are_clear_pages(client, service):
    response = client.get("/sandbox/uzum/open-service", {"serviceId": "999999", "order": "1"})
    assert response.status_code == 404 and "Service not found" in text(response)
    response = client.get("/sandbox/uzum/open-service")
    assert response.status_code == 404
    response = client.get("/sandbox/uzum/open-service", {"serviceId": service.service_id})
    assert response.status_code == 400 and "“order”" in text(response)


def test_the_exchange_records_every_call_but_never_the_password(
    client, service, merchant_server, logged_in_owner
):
    merchant_server.faults = {"confirm": ["work_then_500"]}
    open_link(client, service)
    tx, response = pay(client)
    assert [entry["endpoint"] for entry in tx.exchange] == ["check", "create", "confirm", "status"]
    assert [entry["status"] for entry in tx.exchange] == [200, 200, 500, 200]
    assert tx.exchange[1]["request"]["transId"] == str(tx.trans_id)
    stored = json.dumps(tx.exchange)
    assert PASSWORD not in stored
    assert PASSWORD not in text(client.get(response.url))
    logged_in_owner(client, service)
    dashboard = client.get("/sandbox/uzum/")
    assert dashboard.status_code == 200
    assert str(tx.trans_id) in text(dashboard)
    assert PASSWORD not in text(dashboard)


@pytest.fixture
def logged_in_owner(login, salon_a):
    """Log salon A's owner in, and make ``rows`` salon A's at the sandbox."""

    def log_in(client, *rows):
        owner = sandbox_owner(salon_a.business.pk)
        for row in rows:
            type(row).objects.filter(pk=row.pk).update(owner=owner)
        login(salon_a.owner)
        return owner

    return log_in


def test_the_operator_reverses_a_confirmed_transaction(
    client, service, merchant_server, logged_in_owner
):
    open_link(client, service)
    tx, _ = pay(client)
    logged_in_owner(client, service)
    response = client.post(f"/sandbox/uzum/transactions/{tx.trans_id}/reverse")
    assert response.status_code == 302
    reverse = merchant_server.last("reverse")
    assert set(reverse) == {"serviceId", "timestamp", "transId"}
    tx.refresh_from_db()
    assert tx.status == "REVERSED"
    body = text(client.get(response.url))
    assert "reversed" in body

    client.post(f"/sandbox/uzum/transactions/{tx.trans_id}/reverse")  # nothing left to reverse
    assert merchant_server.endpoints().count("reverse") == 1


def test_the_dashboard_lists_everything(
    client, service, merchant_server, make_terminal, settings, logged_in_owner
):
    from navbat.uzum_sandbox import bank, callbacks
    from tests.uzum_sandbox.merchant import register_order

    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0
    terminal = make_terminal(
        merchant_name="Salon Terminal", payment_callback_url=merchant_server.callback_url()
    )
    merchant_server.callback_answers = [500]
    order = register_order(terminal)
    bank.pay(order_id=order.order_id, card_number="8600000000000018")
    callbacks.deliver_due()
    open_link(client, service)
    tx, _ = pay(client, "INSTALLMENT", tariff="006")

    logged_in_owner(client, service, terminal)
    response = client.get("/sandbox/uzum/")
    assert response.status_code == 200
    body = text(response)
    assert str(terminal.terminal_id) in body and "Salon Terminal" in body
    assert terminal.api_key not in body
    assert order.order_number in body and "COMPLETED" in body
    assert f'data-transaction="{tx.trans_id}"' in body and "INSTALLMENT · 006" in body
    assert "check → create → confirm" in body
    assert "HTTP 500" in body and "HTTP 200" in body
    assert "Send /reverse" in body


def test_app_answer_helpers():
    answer = app.Answer(400, {"status": "FAILED", "errorCode": "10011"})
    assert (answer.ok, answer.state, answer.error_code) == (False, "FAILED", "10011")
    assert app.Answer(None, error="timeout").error_code is None
