"""The sandbox's control API: terminals, services, orders, app transactions, paying an
order without a browser, and its JSON errors."""

import uuid

import pytest

from navbat.kit.sandbox_tokens import token_for
from navbat.uzum_sandbox.models import AppTransaction, MerchantService, Order, Terminal

from .conftest import AMOUNT, CARD, HUMO_3DS, OWNER, CheckoutApi, register_body


def test_create_terminal_then_use_it_on_the_checkout_api(control, client):
    response = control.post(
        "terminals",
        {
            "merchantName": "Salon A",
            "payTypes": ["ONE_STEP"],
            "autoFiscal": False,
            "paymentCallbackUrl": "http://127.0.0.1:8000/uzum/callback",
            "eventCallbackUrl": "http://127.0.0.1:8000/uzum/event",
            "receiptCallbackUrl": None,
        },
    )
    assert response.status_code == 201
    data = response.json()
    assert uuid.UUID(data["terminalId"])
    assert len(data["apiKey"]) >= 32
    assert data["merchantName"] == "Salon A"
    assert data["payTypes"] == ["ONE_STEP"]
    assert data["autoFiscal"] is False
    assert data["paymentCallbackUrl"] == "http://127.0.0.1:8000/uzum/callback"
    assert data["eventCallbackUrl"] == "http://127.0.0.1:8000/uzum/event"
    assert data["receiptCallbackUrl"] is None
    assert data["faults"] == {}
    terminal = Terminal.objects.get(terminal_id=data["terminalId"])
    assert terminal.api_key == data["apiKey"]
    api = CheckoutApi(client, terminal)
    assert api.register()
    two_step = register_body(paymentParams={"payType": "TWO_STEP", "operationType": "PAYMENT"})
    assert api.error("payment/register", two_step)["errorCode"] == 3004


def test_create_terminal_defaults(control):
    data = control.post("terminals", {}).json()
    assert data["payTypes"] == ["ONE_STEP", "TWO_STEP"]
    assert data["autoFiscal"] is False
    assert data["merchantName"]


def test_create_terminal_with_chosen_credentials(control):
    terminal_id = str(uuid.uuid4())
    data = control.post("terminals", {"terminalId": terminal_id, "apiKey": "k" * 40}).json()
    assert (data["terminalId"], data["apiKey"]) == (terminal_id, "k" * 40)
    again = control.post("terminals", {"terminalId": terminal_id})
    assert again.status_code == 400


def test_get_and_list_terminals(control, terminal):
    data = control.get(f"terminals/{terminal.terminal_id}").json()
    assert data["terminalId"] == str(terminal.terminal_id)
    assert data["apiKey"] == terminal.api_key
    listed = control.get("terminals").json()["terminals"]
    assert [t["terminalId"] for t in listed] == [str(terminal.terminal_id)]


def test_patch_terminal(control, terminal):
    response = control.patch(
        f"terminals/{terminal.terminal_id}",
        {
            "autoFiscal": True,
            "payTypes": ["TWO_STEP"],
            "receiptCallbackUrl": "http://127.0.0.1:8000/uzum/receipt",
            "faults": {"payment/register": {"mode": "error_5xx"}},
        },
    )
    assert response.status_code == 200
    terminal.refresh_from_db()
    assert terminal.auto_fiscal is True
    assert terminal.pay_types == ["TWO_STEP"]
    assert terminal.receipt_callback_url == "http://127.0.0.1:8000/uzum/receipt"
    assert terminal.faults == {"payment/register": {"mode": "error_5xx", "status": 503}}
    # PATCH replaces the fault set as a whole.
    control.patch(f"terminals/{terminal.terminal_id}", {"faults": {}})
    terminal.refresh_from_db()
    assert terminal.faults == {}


@pytest.mark.parametrize(
    "body",
    [
        {"payTypes": []},
        {"payTypes": ["ONE_STEP", "THREE_STEP"]},
        {"payTypes": "ONE_STEP"},
        {"autoFiscal": "yes"},
        {"merchantName": ""},
        {"merchantName": "m" * 151},
        {"paymentCallbackUrl": "not a url"},
        {"eventCallbackUrl": "ftp://merchant.example/cb"},
        {"faults": {"payment/register": {"mode": "explode"}}},
        {"faults": {"nowhere": {"mode": "hang"}}},
        {"colour": "red"},
    ],
)
def test_bad_terminal_fields_are_400(control, terminal, body):
    created = control.post("terminals", body)
    assert created.status_code == 400
    assert isinstance(created.json()["error"], str)
    patched = control.patch(f"terminals/{terminal.terminal_id}", body)
    assert patched.status_code == 400
    assert Terminal.objects.count() == 1


@pytest.mark.parametrize("raw", ["{not json", "[1]", '"text"'])
def test_bad_json_is_400(control, raw):
    response = control.post("terminals", raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    "path",
    [
        "terminals/00000000-0000-4000-8000-000000000000",
        "terminals/not-a-uuid",
        "terminals/00000000-0000-4000-8000-000000000000/faults",
        "services/999999",
        "services/abc",
        "services/999999/faults",
        "orders/00000000-0000-4000-8000-000000000000",
        "orders/nope",
        "transactions/00000000-0000-4000-8000-000000000000",
        "transactions/nope",
    ],
)
def test_unknown_ids_are_404_json(control, path):
    response = control.get(path)
    assert response.status_code == 404
    assert response.json()["error"]


def test_pay_of_an_unknown_order_is_404(control):
    response = control.post(f"orders/{uuid.uuid4()}/pay", {"cardNumber": CARD})
    assert response.status_code == 404


def test_wrong_method_is_405(control, terminal):
    assert control.delete("terminals").status_code == 405
    assert control.get(f"orders/{uuid.uuid4()}/pay").status_code == 405


def test_no_csrf_needed_with_a_sandbox_token(db):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(
        "/sandbox/uzum/control/terminals",
        data={},
        content_type="application/json",
        headers={"Authorization": f"Bearer {token_for(OWNER)}"},
    )
    assert response.status_code == 201


# ------------------------------------------------------------------------------- services


def test_create_service(control):
    response = control.post(
        "services",
        {"merchantName": "Salon A", "merchantBaseUrl": "http://127.0.0.1:8000/uzum/merchant/"},
    )
    assert response.status_code == 201
    data = response.json()
    assert isinstance(data["serviceId"], int)
    assert data["login"] and len(data["password"]) >= 16
    assert data["attributeName"] == "order"
    assert data["merchantBaseUrl"] == "http://127.0.0.1:8000/uzum/merchant"
    service = MerchantService.objects.get(service_id=data["serviceId"])
    assert service.password == data["password"]
    second = control.post(
        "services", {"merchantBaseUrl": "http://127.0.0.1:8000/m", "attributeName": "a"}
    )
    assert second.json()["serviceId"] == data["serviceId"] + 1
    assert second.json()["attributeName"] == "a"
    assert second.json()["login"] != data["login"]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"merchantBaseUrl": "not a url"},
        {"merchantBaseUrl": "http://127.0.0.1:8000/m", "attributeName": "bad name"},
        {"merchantBaseUrl": "http://127.0.0.1:8000/m", "attributeName": ""},
        {"merchantBaseUrl": "http://127.0.0.1:8000/m", "faults": {"confirm": {"mode": "hang"}}},
        {"merchantBaseUrl": "http://127.0.0.1:8000/m", "serviceId": 5},
    ],
)
def test_bad_service_fields_are_400(control, body):
    response = control.post("services", body)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not MerchantService.objects.exists()


def test_get_list_and_patch_service(control, make_service):
    service = make_service()
    data = control.get(f"services/{service.service_id}").json()
    assert data["serviceId"] == service.service_id
    assert data["password"] == "s3cret-pass"
    assert [s["serviceId"] for s in control.get("services").json()["services"]] == [
        service.service_id
    ]
    response = control.patch(
        f"services/{service.service_id}",
        {"attributeName": "booking", "password": "new-pass-123", "merchantName": "B"},
    )
    assert response.status_code == 200
    service.refresh_from_db()
    assert (service.attribute_name, service.password, service.merchant_name) == (
        "booking",
        "new-pass-123",
        "B",
    )
    assert control.patch(f"services/{service.service_id}", {"login": 5}).status_code == 400


# ---------------------------------------------------------------------------------- orders


def test_get_order(control, checkout_api):
    order_id = checkout_api.register()
    data = control.get(f"orders/{order_id}").json()
    assert data["orderId"] == order_id
    assert data["terminalId"] == str(checkout_api.terminal.terminal_id)
    assert data["status"] == "REGISTERED"
    assert data["amount"] == AMOUNT
    assert data["operations"] == []
    assert data["expired"] is False
    assert data["language"] == "ru-RU"


def test_pay_an_order_over_the_control_api(control, checkout_api):
    order_id = checkout_api.register()
    response = control.post(f"orders/{order_id}/pay", {"cardNumber": "8600 0000 0000 0018"})
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["completedAmount"], data["ips"]) == (
        "COMPLETED",
        AMOUNT,
        "UZCARD",
    )
    assert checkout_api.status(order_id)["status"] == "COMPLETED"
    again = control.post(f"orders/{order_id}/pay", {"cardNumber": CARD})
    assert again.status_code == 409
    assert again.json()["errorCode"] == 3000


def test_pay_with_3ds(control, checkout_api):
    order_id = checkout_api.register_two_step()
    wrong = control.post(f"orders/{order_id}/pay", {"cardNumber": HUMO_3DS, "code": "000000"})
    assert wrong.json()["status"] == "REGISTERED"
    assert wrong.json()["actionCode"] == 3012
    data = control.post(f"orders/{order_id}/pay", {"cardNumber": HUMO_3DS, "code": "777777"})
    data = data.json()
    assert (data["status"], data["ips"], data["actionCode"]) == ("AUTHORIZED", "HUMO", 0)


def test_pay_decline(control, checkout_api):
    order_id = checkout_api.register()
    data = control.post(f"orders/{order_id}/pay", {"cardNumber": "9860000000003009"}).json()
    assert (data["status"], data["actionCode"]) == ("REGISTERED", 3009)
    assert Order.objects.get(order_id=order_id).status == "REGISTERED"


@pytest.mark.parametrize("body", [{}, {"cardNumber": ""}, {"cardNumber": 8600}, {"code": 7}])
def test_pay_bad_fields_are_400(control, checkout_api, body):
    order_id = checkout_api.register()
    assert control.post(f"orders/{order_id}/pay", body).status_code == 400


def test_get_transaction(control, make_service):
    service = make_service()
    trans = AppTransaction.objects.create(
        service=service,
        params={"order": "42"},
        amount=AMOUNT,
        payment_source="INSTALLMENT",
        tariff="003",
        status="CONFIRMED",
        exchange=[{"endpoint": "check", "status": 200}],
    )
    data = control.get(f"transactions/{trans.trans_id}").json()
    assert data == {
        "transId": str(trans.trans_id),
        "serviceId": service.service_id,
        "params": {"order": "42"},
        "amount": AMOUNT,
        "paymentSource": "INSTALLMENT",
        "tariff": "003",
        "phone": trans.phone,
        "status": "CONFIRMED",
        "exchange": [{"endpoint": "check", "status": 200}],
        "createdAt": trans.created_at.isoformat(),
    }


def test_sandbox_off_means_no_control_api(settings, db):
    """With NAVBAT_SANDBOX off the URLconf never mounts the sandbox."""
    import importlib

    from django.test import Client
    from django.urls import clear_url_caches

    import navbat.urls

    was = settings.NAVBAT_SANDBOX
    settings.NAVBAT_SANDBOX = False
    try:
        importlib.reload(navbat.urls)
        clear_url_caches()
        assert Client().post("/sandbox/uzum/control/terminals").status_code == 404
        assert Client().post("/sandbox/uzum/checkout/api/v1/payment/register").status_code == 404
    finally:
        settings.NAVBAT_SANDBOX = was
        importlib.reload(navbat.urls)
        clear_url_caches()
