"""The demo salon comes connected to the built-in sandbox bank, and `navbat demo` says how."""

import json
import re
import uuid

import pytest

from navbat import demo
from navbat.cli import main
from navbat.finance.models import CashRegister, FeeSchedule
from navbat.kit.tenancy import scoped
from navbat.uzum import services as uzum
from navbat.uzum.models import Connection
from navbat.uzum_sandbox.models import MerchantService, Terminal

pytestmark = pytest.mark.django_db

ROOT = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


def run_demo(capsys, *args) -> str:
    assert main(["demo", *args]) == 0
    return capsys.readouterr().out


def test_demo_json_names_the_connection(capsys):
    info = json.loads(run_demo(capsys, "--json"))["uzum"]
    business = demo.demo_business()
    connection = scoped(Connection, business).get()
    terminal = Terminal.objects.get(terminal_id=connection.terminal_id)
    service = MerchantService.objects.get(service_id=connection.merchant_service_id)
    public_id = str(connection.public_id)
    assert info == {
        "connection_id": public_id,
        "environment": "sandbox",
        "terminal_id": str(terminal.terminal_id),
        "merchant_service_id": service.service_id,
        "merchant_login": service.login,
        "merchant_password": service.password,
        "callback_urls": {
            "payment": f"{ROOT}/uzum/checkout/{public_id}/callback",
            "event": f"{ROOT}/uzum/checkout/{public_id}/event",
            "receipt": f"{ROOT}/uzum/checkout/{public_id}/receipt",
        },
        "merchant_api_url": f"{ROOT}/uzum/merchant/{public_id}/",
    }
    uuid.UUID(public_id)
    assert service.service_id >= 100_001
    assert service.login == f"merchant{service.service_id}"
    assert len(service.password) >= 20
    # The sandbox calls back where the JSON says, and the app reaches the Merchant API.
    assert terminal.payment_callback_url == info["callback_urls"]["payment"]
    assert terminal.event_callback_url == info["callback_urls"]["event"]
    assert terminal.receipt_callback_url == info["callback_urls"]["receipt"]
    assert terminal.pay_types == ["ONE_STEP", "TWO_STEP"]
    assert terminal.merchant_name == "Navbat Demo"
    assert service.merchant_base_url == f"{ROOT}/uzum/merchant/{public_id}"
    assert service.attribute_name == "order"
    # What the salon offers: card payment, the Uzum Bank app and installments in it.
    assert connection.is_active is True
    assert connection.api_key == terminal.api_key
    assert connection.checkout_base_url == f"{ROOT}/sandbox/uzum/checkout"
    assert (connection.card_payments, connection.app_payments, connection.installments) == (
        True,
        True,
        True,
    )
    assert connection.auto_fiscal is False
    assert connection.connected_by.email == "demo@navbat.uz"
    assert connection.register.name == "Uzum Bank"
    assert connection.fee_schedule.rates.count() == 14
    # The JSON never carries the API key.
    assert terminal.api_key not in json.dumps(info)


def test_the_demo_keys_are_accepted_by_the_sandbox(capsys, bank_in_process):
    run_demo(capsys, "--json")
    connection = scoped(Connection, demo.demo_business()).get()
    uzum.check_keys(
        base_url=connection.checkout_base_url,
        terminal_id=str(connection.terminal_id),
        api_key=connection.api_key,
    )


def test_demo_twice_changes_nothing(capsys):
    first = json.loads(run_demo(capsys, "--json"))

    def counts():
        return {
            "connections": Connection.objects.count(),
            "terminals": Terminal.objects.count(),
            "services": MerchantService.objects.count(),
            "schedules": FeeSchedule.objects.count(),
            "registers": CashRegister.objects.count(),
        }

    before = counts()
    terminal_before = Terminal.objects.values().get()
    second = json.loads(run_demo(capsys, "--json"))
    assert second["uzum"] == first["uzum"]
    assert (
        counts()
        == before
        == {
            "connections": 1,
            "terminals": 1,
            "services": 1,
            "schedules": 1,
            "registers": before["registers"],
        }
    )
    assert Terminal.objects.values().get() == terminal_before


def test_demo_text_names_the_connection_without_the_key(capsys):
    out = run_demo(capsys)
    connection = scoped(Connection, demo.demo_business()).get()
    public_id = connection.public_id
    assert f"Uzum Bank (sandbox), connection {public_id}" in out
    assert f"  terminal id          {connection.terminal_id}" in out
    # The password is left out of text that ends up in logs; --json gives it to scripts.
    assert (
        f"  Merchant API service {connection.merchant_service_id}, "
        f"login {connection.merchant_login} (password: navbat demo --json)"
    ) in out
    assert connection.merchant_password not in out
    assert f"  payment callback     {ROOT}/uzum/checkout/{public_id}/callback" in out
    assert f"  event callback       {ROOT}/uzum/checkout/{public_id}/event" in out
    assert f"  receipt callback     {ROOT}/uzum/checkout/{public_id}/receipt" in out
    assert f"  Merchant API         {ROOT}/uzum/merchant/{public_id}/" in out
    assert connection.api_key not in out
    assert not re.search(r"[0-9a-f]{64}", out)


def test_a_disconnect_in_the_demo_is_respected(capsys):
    run_demo(capsys, "--json")
    connection = scoped(Connection, demo.demo_business()).get()
    uzum.disconnect(connection=connection)
    info = json.loads(run_demo(capsys, "--json"))["uzum"]
    assert info["connection_id"] == str(connection.public_id)
    assert Connection.objects.count() == 1
    assert Connection.objects.filter(is_active=True).count() == 0


def test_the_demo_follows_a_new_public_url(capsys, settings):
    run_demo(capsys, "--json")
    settings.NAVBAT_PUBLIC_URL = "http://127.0.0.1:8765"
    info = json.loads(run_demo(capsys, "--json"))["uzum"]
    connection = scoped(Connection, demo.demo_business()).get()
    terminal = Terminal.objects.get(terminal_id=connection.terminal_id)
    service = MerchantService.objects.get(service_id=connection.merchant_service_id)
    base = f"http://127.0.0.1:8765/uzum/checkout/{connection.public_id}"
    assert info["callback_urls"]["payment"] == f"{base}/callback"
    assert terminal.payment_callback_url == f"{base}/callback"
    assert terminal.event_callback_url == f"{base}/event"
    assert terminal.receipt_callback_url == f"{base}/receipt"
    assert service.merchant_base_url == (
        f"http://127.0.0.1:8765/uzum/merchant/{connection.public_id}"
    )
    assert connection.checkout_base_url == "http://127.0.0.1:8765/sandbox/uzum/checkout"
    assert Connection.objects.count() == 1


def test_the_demo_salon_pays_by_card_through_its_connection(capsys, bank_in_process):
    """The connection is usable as it comes: a card payment on a demo appointment."""
    from navbat.booking.models import Appointment
    from navbat.payments import services as payments
    from navbat.payments.models import State
    from navbat.uzum_sandbox import bank

    run_demo(capsys, "--json")
    business = demo.demo_business()
    appointment = (
        scoped(Appointment, business).filter(status="booked").order_by("starts_at", "id").first()
    )
    link = payments.link_for(business=business, kind="appointment", payable_id=appointment.pk)
    order = payments.start_card_payment(
        link=link,
        language="uz",
        success_url=f"{ROOT}/pay/x/return/REFERENCE",
        failure_url=f"{ROOT}/pay/x/return/REFERENCE?failed=1",
    )
    assert order.state == State.PENDING
    bank.pay(order_id=order.bank_order_id, card_number="9860000000000016", code="")
    order = payments.refresh(order=order)
    assert order.state == State.PAID
    assert order.card_kind == "humo"


def test_the_demo_sandbox_token_opens_the_demos_own_sandbox_rows(capsys, client, salon_a):
    from navbat.accounts.sandbox import sandbox_owner
    from navbat.kit.sandbox_tokens import token_for

    info = json.loads(run_demo(capsys, "--json"))
    connection = scoped(Connection, demo.demo_business()).get()
    assert info["sandbox_token"] == token_for(sandbox_owner(demo.demo_business().pk))
    mine = {"Authorization": f"Bearer {info['sandbox_token']}"}
    terminals = client.get("/sandbox/uzum/control/terminals", headers=mine).json()["terminals"]
    assert [(t["terminalId"], t["apiKey"]) for t in terminals] == [
        (str(connection.terminal_id), connection.api_key)
    ]
    services = client.get("/sandbox/uzum/control/services", headers=mine).json()["services"]
    assert [s["serviceId"] for s in services] == [connection.merchant_service_id]
    # Nobody else sees them: a stranger, or another salon's token.
    assert client.get("/sandbox/uzum/control/terminals").status_code == 401
    other = {"Authorization": f"Bearer {token_for(sandbox_owner(salon_a.business.pk))}"}
    assert client.get("/sandbox/uzum/control/terminals", headers=other).json() == {"terminals": []}
    path = f"/sandbox/uzum/control/terminals/{connection.terminal_id}"
    assert client.get(path, headers=other).status_code == 404


def test_a_demo_loaded_before_sandbox_owners_takes_its_rows_back(capsys):
    from navbat.accounts.sandbox import sandbox_owner

    run_demo(capsys, "--json")
    connection = scoped(Connection, demo.demo_business()).get()
    Terminal.objects.update(owner="")
    MerchantService.objects.update(owner="")
    run_demo(capsys, "--json")
    owner = sandbox_owner(demo.demo_business().pk)
    assert Terminal.objects.get(terminal_id=connection.terminal_id).owner == owner
    assert MerchantService.objects.get(service_id=connection.merchant_service_id).owner == owner
