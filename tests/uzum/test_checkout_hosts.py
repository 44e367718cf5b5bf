"""The Checkout host of Uzum's test and production environments: https, and on the list the
server's operator allows (``NAVBAT_UZUM_CHECKOUT_HOSTS``). The connect form says so, the
service refuses it, and the Checkout client itself never sends the API key elsewhere. Only
owners change the bank settings; administrators may look."""

import uuid

import httpx
import pytest
from django.core.exceptions import ValidationError

from navbat.kit.tenancy import scoped
from navbat.payments import services as payments
from navbat.payments.models import PaymentOrder, State
from navbat.payments.providers import ProviderError
from navbat.uzum import clients, services
from navbat.uzum.checkout import CheckoutClient
from navbat.uzum.checkout.client import HostNotAllowed
from navbat.uzum.models import Connection

pytestmark = pytest.mark.django_db

ROOT = "http://127.0.0.1:8000"
CONNECT = "/integrations/uzum/connect"
OVERVIEW = "/integrations/uzum/"
DISCONNECT = "/integrations/uzum/disconnect"
TEST_HOST = "https://test-chk-api.uzumcheckout.uz"
PRODUCTION_HOST = "https://checkout-key.inplat-tech.com"
KEY = "k" * 64


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT
    settings.NAVBAT_SANDBOX = True


def record_bank_calls(monkeypatch) -> list:
    """Every request that would reach a bank, recorded and answered "no connection"."""
    calls = []

    def handler(request):
        calls.append((str(request.url), request.headers.get("X-API-Key")))
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.MockTransport(handler))
    return calls


@pytest.fixture
def bank_calls(monkeypatch):
    return record_bank_calls(monkeypatch)


def form_data(**overrides) -> dict:
    data = {
        "environment": "test",
        "checkout_base_url": TEST_HOST,
        "terminal_id": str(uuid.uuid4()),
        "api_key": KEY,
        "card_payments": "on",
    }
    data.update(overrides)
    return data


def connections(salon) -> int:
    return scoped(Connection, salon.business).count()


def not_allowed(url: str) -> str:
    return (
        f"{url} is not a Checkout host of Uzum Bank that this server allows "
        "(test-chk-api.uzumcheckout.uz, checkout-key.inplat-tech.com)."
    )


ELSEWHERE = [
    "https://attacker.example",
    "https://test-chk-api.uzumcheckout.uz.attacker.example",
    "https://user@attacker.example",
    "https://test-chk-api.uzumcheckout.uz:8443",
    "https://127.0.0.1",
]


@pytest.mark.parametrize("environment", ["test", "production"])
@pytest.mark.parametrize("url", ELSEWHERE)
def test_the_form_refuses_a_host_off_the_list(salon_a, login, bank_calls, environment, url):
    response = login(salon_a.owner).post(
        CONNECT, form_data(environment=environment, checkout_base_url=url)
    )
    assert response.status_code == 400
    assert not_allowed(url) in response.content.decode().replace("&#x27;", "'")
    assert bank_calls == []
    assert connections(salon_a) == 0


@pytest.mark.parametrize(
    ("environment", "url", "message"),
    [
        ("test", "http://test-chk-api.uzumcheckout.uz", "The test host must use https."),
        (
            "production",
            "http://checkout-key.inplat-tech.com",
            "The production host must use https.",
        ),
    ],
)
def test_the_form_refuses_http(salon_a, login, bank_calls, environment, url, message):
    response = login(salon_a.owner).post(
        CONNECT, form_data(environment=environment, checkout_base_url=url)
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert bank_calls == []
    assert connections(salon_a) == 0


@pytest.mark.parametrize(
    ("environment", "url", "expected"),
    [
        ("test", "", TEST_HOST),
        ("test", TEST_HOST + "/", TEST_HOST),
        ("production", "", PRODUCTION_HOST),
        (
            "production",
            "HTTPS://Checkout-Key.Inplat-Tech.com",
            "HTTPS://Checkout-Key.Inplat-Tech.com",
        ),
    ],
)
def test_the_listed_hosts_are_asked(salon_a, login, bank_calls, environment, url, expected):
    response = login(salon_a.owner).post(
        CONNECT, form_data(environment=environment, checkout_base_url=url)
    )
    assert response.status_code == 400  # the mock bank does not answer
    assert f"Uzum Bank did not answer at {expected}." in response.content.decode()
    assert [call[0].split("/api/")[0].lower() for call in bank_calls] == [expected.lower()]


def test_the_operator_sets_the_list(salon_a, login, bank_calls, settings):
    settings.NAVBAT_UZUM_CHECKOUT_HOSTS = "chk.bank.example, checkout-key.inplat-tech.com"
    client = login(salon_a.owner)
    refused = client.post(CONNECT, form_data(checkout_base_url=""))
    assert (
        f"{TEST_HOST} is not a Checkout host of Uzum Bank that this server allows "
        "(chk.bank.example, checkout-key.inplat-tech.com)."
    ) in refused.content.decode().replace("&#x27;", "'")
    assert bank_calls == []
    client.post(CONNECT, form_data(checkout_base_url="https://chk.bank.example"))
    assert [call[0] for call in bank_calls] == [
        "https://chk.bank.example/api/v1/payment/getOrderStatus"
    ]


@pytest.mark.parametrize("url", ELSEWHERE + ["http://test-chk-api.uzumcheckout.uz"])
def test_the_service_refuses_before_asking_any_bank(salon_a, bank_calls, url):
    with pytest.raises(ValidationError) as caught:
        services.connect(
            business=salon_a.business,
            environment="test",
            terminal_id=str(uuid.uuid4()),
            api_key=KEY,
            checkout_base_url=url,
        )
    assert list(caught.value.message_dict) == ["checkout_base_url"]
    assert bank_calls == []
    assert connections(salon_a) == 0


def test_the_sandbox_environment_keeps_its_own_host(salon_a, bank_in_process, sandbox_terminal):
    terminal = sandbox_terminal(merchant_name="A")
    connection = services.connect(
        business=salon_a.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
    )
    assert connection.checkout_base_url == f"{ROOT}/sandbox/uzum/checkout"


@pytest.mark.parametrize("url", ELSEWHERE + ["http://test-chk-api.uzumcheckout.uz"])
def test_the_client_never_sends_the_key_elsewhere(url):
    calls = []
    transport = httpx.MockTransport(lambda request: calls.append(request) or httpx.Response(200))
    allowed = {"test-chk-api.uzumcheckout.uz", "checkout-key.inplat-tech.com"}
    with pytest.raises(HostNotAllowed):
        CheckoutClient(url, str(uuid.uuid4()), KEY, transport=transport, allowed_hosts=allowed)
    assert calls == []
    assert KEY not in repr(HostNotAllowed(url))


def test_a_connection_saved_with_another_host_sends_nothing(salon_a, connect_uzum, monkeypatch):
    """A host written before the rule (or straight into the database): the card payment
    fails with a clear error, and no request carries the key anywhere."""
    connection = connect_uzum(salon_a)
    bank_calls = record_bank_calls(monkeypatch)
    Connection.objects.filter(pk=connection.pk).update(
        environment="production", checkout_base_url="https://attacker.example"
    )
    link = payments.link_for(
        business=salon_a.business, kind="appointment", payable_id=salon_a.appointments[0].pk
    )
    with pytest.raises(ProviderError) as refused:
        payments.start_card_payment(link=link, language="en", success_url=ROOT, failure_url=ROOT)
    assert refused.value.message == (
        "The salon's Uzum Bank connection names a host this server does not allow. "
        "The salon must check its Uzum Bank connection."
    )
    assert bank_calls == []
    order = PaymentOrder.objects.get()
    assert (order.state, order.bank_order_id) == (State.CANCELLED, "")


# ---- who may change the bank settings ---------------------------------------------------


def test_an_administrator_sees_the_page_but_changes_nothing(
    salon_a, login, connect_uzum, monkeypatch
):
    connection = connect_uzum(salon_a)
    bank_calls = record_bank_calls(monkeypatch)
    client = login(salon_a.admin)
    page = client.get(OVERVIEW)
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="connected"' in body
    assert 'id="change-keys"' not in body and 'id="disconnect"' not in body
    assert 'id="owner-only"' in body
    for path in (CONNECT, DISCONNECT):
        assert client.get(path).status_code == 403
        assert client.post(path, form_data()).status_code == 403
    assert client.post(CONNECT, {**form_data(), "create_sandbox": "1"}).status_code == 403
    assert list(scoped(Connection, salon_a.business).values_list("pk", "is_active")) == [
        (connection.pk, True)
    ]
    assert bank_calls == []


def test_an_owner_changes_and_disconnects(salon_a, login, connect_uzum):
    connection = connect_uzum(salon_a)
    client = login(salon_a.owner)
    body = client.get(OVERVIEW).content.decode()
    assert 'id="change-keys"' in body and 'id="disconnect"' in body
    assert 'id="owner-only"' not in body
    assert client.get(CONNECT).status_code == 200
    assert client.get(DISCONNECT).status_code == 200
    assert client.post(DISCONNECT).status_code == 302
    connection.refresh_from_db()
    assert connection.is_active is False
