"""Integrations → Uzum Bank, the pages: who reaches them, what they show, and bad input that
gets a clear error and saves nothing."""

import re
import uuid

import httpx
import pytest

from navbat.kit.tenancy import scoped
from navbat.uzum import clients
from navbat.uzum.models import Connection
from navbat.uzum_sandbox.models import MerchantService, Terminal

pytestmark = pytest.mark.django_db

ROOT = "http://127.0.0.1:8000"
OVERVIEW = "/integrations/uzum/"
CONNECT = "/integrations/uzum/connect"
DISCONNECT = "/integrations/uzum/disconnect"


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT
    settings.NAVBAT_SANDBOX = True


@pytest.fixture
def bank_down(monkeypatch):
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.MockTransport(handler))


def form_data(terminal=None, **overrides) -> dict:
    data = {
        "environment": "sandbox",
        "checkout_base_url": f"{ROOT}/sandbox/uzum/checkout",
        "terminal_id": str(terminal.terminal_id) if terminal else str(uuid.uuid4()),
        "api_key": terminal.api_key if terminal else "k" * 64,
        "merchant_service_id": "",
        "merchant_login": "",
        "merchant_password": "",
        "card_payments": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def text(response) -> str:
    return response.content.decode()


def connections(salon) -> int:
    return scoped(Connection, salon.business).count()


def test_index_leads_to_the_uzum_page(salon_a, login):
    response = login(salon_a.owner).get("/integrations/")
    assert response.status_code == 302
    assert response["Location"] == OVERVIEW


def test_the_owner_sees_the_page_and_the_form(salon_a, login):
    client = login(salon_a.owner)
    page = client.get(OVERVIEW)
    assert page.status_code == 200
    assert 'id="not-connected"' in text(page)
    assert f'href="{CONNECT}"' in text(page)
    assert f'href="{OVERVIEW}" class="active">Integrations</a>' in text(page)
    form = client.get(CONNECT)
    assert form.status_code == 200
    body = text(form)
    assert '<option value="sandbox" selected>Built-in sandbox</option>' in body
    assert f'value="{ROOT}/sandbox/uzum/checkout"' in body
    assert 'id="create-sandbox"' in body
    # Enter in a field submits with the form's first button: connecting, not the sandbox's.
    assert body.index('id="connect-submit"') < body.index('id="create-sandbox"')
    # The environment's default hosts, for the page's script to swap.
    assert '"test": "https://test-chk-api.uzumcheckout.uz"' in body
    assert '"production": "https://checkout-key.inplat-tech.com"' in body


def test_specialists_get_403_everywhere(salon_a, login, bank_in_process, sandbox_terminal):
    client = login(salon_a.specialist_user)
    for url in ("/integrations/", OVERVIEW, CONNECT, DISCONNECT):
        assert client.get(url).status_code == 403, url
        assert client.post(url, form_data(sandbox_terminal())).status_code == 403, url
    assert connections(salon_a) == 0
    journal = text(client.get("/"))
    assert "Integrations" not in journal


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login")


def test_connecting_shows_the_masked_key_and_the_addresses(
    salon_a, login, bank_in_process, sandbox_terminal
):
    terminal = sandbox_terminal()
    client = login(salon_a.owner)
    response = client.post(
        CONNECT,
        form_data(
            terminal,
            merchant_service_id="100777",
            merchant_login="merchant100777",
            merchant_password="app-password-123",
            app_payments="on",
            installments="on",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == OVERVIEW
    connection = Connection.objects.get(business=salon_a.business)
    assert connection.api_key == terminal.api_key
    assert connection.connected_by == salon_a.owner

    page = client.get(OVERVIEW)
    body = text(page)
    assert "Uzum Bank is connected. Give the addresses below to Uzum" in body
    assert terminal.api_key not in body
    assert "app-password-123" not in body
    assert f'<td id="api-key">{"•" * 8}{terminal.api_key[-4:]}</td>' in body
    assert f'<td id="merchant-password">{"•" * 8}-123</td>' in body
    assert f'<td id="terminal-id">{terminal.terminal_id}</td>' in body
    assert '<td id="merchant-service-id">100777</td>' in body
    assert '<td id="merchant-login">merchant100777</td>' in body
    assert '<td id="environment">Built-in sandbox</td>' in body
    public_id = connection.public_id
    assert f'<code id="url-payment">{ROOT}/uzum/checkout/{public_id}/callback</code>' in body
    assert f'<code id="url-event">{ROOT}/uzum/checkout/{public_id}/event</code>' in body
    assert f'<code id="url-receipt">{ROOT}/uzum/checkout/{public_id}/receipt</code>' in body
    assert f'<code id="url-merchant">{ROOT}/uzum/merchant/{public_id}/</code>' in body
    assert '<code id="payment-attribute">order</code>' in body
    assert len(re.findall(r'class="copy"', body)) == 5
    methods = re.search(r'<td id="methods">(.*?)</td>', body, re.S).group(1)
    assert re.findall(r'<span class="badge">([^<]+)</span>', methods) == [
        "Card payment",
        "Uzum Bank app",
        "Installments in the app",
    ]
    assert "Not issued by the terminal" in body
    # The fee schedule, read-only: the special terms and the standard ones, per card kind.
    rates = re.search(r'<table class="list" id="fee-rates">(.*?)</table>', body, re.S).group(1)
    rows = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td>", rates)
    assert len(rows) == 14
    assert rows[:2] == [("Uzum Visa", "0 %"), ("Uzum Visa", "1 %")]
    assert ("Uzcard", "0.4 %") in rows
    assert ("Installments", "3 %") in rows
    assert ("Installments", "5 %") in rows
    assert "2025-12-31" in rates
    assert "2026-01-01" in rates


def test_administrators_see_the_page_but_do_not_connect(
    salon_a, login, bank_in_process, sandbox_terminal
):
    client = login(salon_a.admin)
    page = text(client.get(OVERVIEW))
    assert 'id="not-connected"' in page
    assert f'href="{CONNECT}"' not in page
    assert "Only the salon's owner can change the bank settings." in page.replace("&#x27;", "'")
    assert client.get(CONNECT).status_code == 403
    assert client.post(CONNECT, form_data(sandbox_terminal())).status_code == 403
    assert connections(salon_a) == 0


def test_a_wrong_key_is_a_clear_error_and_saves_nothing(
    salon_a, login, bank_in_process, sandbox_terminal
):
    terminal = sandbox_terminal()
    typed = "wrong-key-" + "9" * 40
    response = login(salon_a.owner).post(
        CONNECT, form_data(terminal, api_key=typed, merchant_password="typed-password")
    )
    assert response.status_code == 400
    body = text(response)
    assert "Uzum Bank refused this terminal id and API key. Check them against the bank" in body
    assert "did not answer" not in body
    # The typed secrets are not sent back; the terminal id is kept for the next try.
    assert typed not in body
    assert "typed-password" not in body
    assert f'value="{terminal.terminal_id}"' in body
    assert connections(salon_a) == 0


def test_a_bank_that_is_down_is_told_apart(salon_a, login, bank_down):
    response = login(salon_a.owner).post(
        CONNECT,
        form_data(environment="test", checkout_base_url=""),
    )
    assert response.status_code == 400
    body = text(response)
    assert (
        "Uzum Bank did not answer at https://test-chk-api.uzumcheckout.uz. "
        "Check the host, or try again later."
    ) in body
    assert "refused" not in body
    assert connections(salon_a) == 0


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"terminal_id": "12345"}, "A terminal id looks like 8-4-4-4-12 hex digits."),
        ({"terminal_id": ""}, "Enter the terminal id."),
        ({"api_key": ""}, "Enter the API key."),
        ({"api_key": "k" * 257}, "Ensure this value has at most 256 characters (it has 257)."),
        ({"terminal_id": "x" * 500}, "Ensure this value has at most 64 characters (it has 500)."),
        ({"checkout_base_url": "not a url"}, "Enter the host as a web address"),
        (
            {"checkout_base_url": "https://bank.uz/" + "a" * 400},
            "Ensure this value has at most 300 characters",
        ),
        (
            {"environment": "production", "checkout_base_url": "http://bank.example"},
            "The production host must use https.",
        ),
        ({"environment": "moon"}, "Select a valid choice. moon is not one of the available"),
        ({"merchant_service_id": "abc"}, "Enter a whole number."),
        ({"merchant_service_id": "9" * 30}, "Ensure this value is less than or equal to"),
        ({"merchant_service_id": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"merchant_login": "l" * 101}, "Ensure this value has at most 100 characters"),
        ({"merchant_password": "p" * 129}, "Ensure this value has at most 128 characters"),
        ({"card_payments": None}, "Offer at least one payment method."),
        ({"installments": "on"}, "Installments are offered only with the Uzum Bank app."),
        (
            {"app_payments": "on"},
            "Payments in the Uzum Bank app need the Merchant API service id, login and password.",
        ),
        ({"auto_fiscal": "on"}, "Fiscal receipts need exactly one of the TIN or the PINFL."),
        ({"auto_fiscal": "on", "tin": "12345678A"}, "A TIN is 9 digits."),
        ({"auto_fiscal": "on", "pinfl": "1234567890123456"}, "at most 14 characters"),
        ({"auto_fiscal": "on", "pinfl": "1234567890123a"}, "A PINFL is 14 digits."),
    ],
)
def test_bad_input_gets_a_clear_error_and_saves_nothing(
    salon_a, login, bank_in_process, sandbox_terminal, overrides, message
):
    response = login(salon_a.owner).post(CONNECT, form_data(sandbox_terminal(), **overrides))
    assert response.status_code == 400
    assert message in text(response).replace("&#x27;", "'")
    assert connections(salon_a) == 0


def test_changing_keys_replaces_the_connection_and_keeps_the_history(
    salon_a, login, bank_in_process, sandbox_terminal
):
    client = login(salon_a.owner)
    first_terminal, second_terminal = sandbox_terminal(), sandbox_terminal()
    client.post(
        CONNECT,
        form_data(
            first_terminal,
            merchant_service_id="100778",
            merchant_login="merchant100778",
            merchant_password="kept-password",
            app_payments="on",
        ),
    )
    first = Connection.objects.get(business=salon_a.business)

    form = text(client.get(CONNECT))
    assert "Change Uzum Bank keys" in form
    assert f'value="{first_terminal.terminal_id}"' in form
    assert first_terminal.api_key not in form
    assert "kept-password" not in form
    assert "Leave empty to keep the current password." in form

    # The Merchant API password left empty: the current one is kept.
    response = client.post(
        CONNECT,
        form_data(
            second_terminal,
            merchant_service_id="100778",
            merchant_login="merchant100778",
            app_payments="on",
        ),
    )
    assert response.status_code == 302
    second = scoped(Connection, salon_a.business).get(is_active=True)
    first.refresh_from_db()
    assert first.is_active is False
    assert second.terminal_id == second_terminal.terminal_id
    assert second.merchant_password == "kept-password"
    assert second.fee_schedule_id == first.fee_schedule_id
    page = text(client.get(OVERVIEW))
    assert f'<td id="terminal-id">{second_terminal.terminal_id}</td>' in page
    assert 'id="earlier-connections"' in page
    assert f"<td>{first_terminal.terminal_id}</td>" in page


def test_disconnect_asks_then_keeps_the_history(salon_a, login, connect_uzum):
    connection = connect_uzum(salon_a)
    client = login(salon_a.owner)
    confirm = client.get(DISCONNECT)
    assert confirm.status_code == 200
    assert "Disconnect Uzum Bank?" in text(confirm)
    assert str(connection.terminal_id) in text(confirm)
    connection.refresh_from_db()
    assert connection.is_active is True  # a GET changes nothing

    response = client.post(DISCONNECT)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.is_active is False
    page = text(client.get(OVERVIEW))
    assert "Uzum Bank is disconnected. Its payments and transactions stay in the books." in page
    assert 'id="not-connected"' in page
    assert f"<td>{connection.terminal_id}</td>" in page
    # Nothing left to disconnect: a clear message, no error.
    again = client.post(DISCONNECT, follow=True)
    assert again.status_code == 200
    assert "Uzum Bank is not connected." in text(again)
    assert connections(salon_a) == 1


def test_another_business_sees_only_its_own_state(salon_a, salon_b, login, client, connect_uzum):
    connection = connect_uzum(salon_a)
    login(salon_b.owner)
    page = text(client.get(OVERVIEW))
    assert 'id="not-connected"' in page
    assert str(connection.terminal_id) not in page
    assert str(connection.public_id) not in page
    form = text(client.get(CONNECT))
    assert str(connection.terminal_id) not in form
    response = client.post(DISCONNECT)
    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.is_active is True
    assert connections(salon_b) == 0


def test_create_a_sandbox_terminal_from_the_form(salon_a, login, bank_in_process):
    response = login(salon_a.owner).post(
        CONNECT,
        {
            "environment": "sandbox",
            "checkout_base_url": "",
            "terminal_id": "",
            "api_key": "",
            "card_payments": "on",
            "app_payments": "on",
            "installments": "on",
            "create_sandbox": "1",
        },
    )
    assert response.status_code == 302
    connection = Connection.objects.get(business=salon_a.business)
    terminal = Terminal.objects.get(terminal_id=connection.terminal_id)
    assert terminal.payment_callback_url == (
        f"{ROOT}/uzum/checkout/{connection.public_id}/callback"
    )
    service = MerchantService.objects.get(service_id=connection.merchant_service_id)
    assert service.merchant_base_url == f"{ROOT}/uzum/merchant/{connection.public_id}"
    assert (connection.app_payments, connection.installments) == (True, True)
    assert connection.checkout_base_url == f"{ROOT}/sandbox/uzum/checkout"


def test_a_sandbox_terminal_only_for_the_sandbox(salon_a, login, bank_in_process):
    before = Terminal.objects.count()
    response = login(salon_a.owner).post(
        CONNECT,
        {"environment": "test", "card_payments": "on", "create_sandbox": "1"},
    )
    assert response.status_code == 400
    assert "A sandbox terminal is made only for the built-in sandbox." in text(response)
    assert Terminal.objects.count() == before
    assert connections(salon_a) == 0


def test_without_the_sandbox_it_is_not_offered(salon_a, login, settings, bank_in_process):
    settings.NAVBAT_SANDBOX = False
    client = login(salon_a.owner)
    form = text(client.get(CONNECT))
    assert 'value="sandbox"' not in form
    assert 'id="create-sandbox"' not in form
    assert '<option value="test" selected>Uzum test</option>' in form
    assert 'value="https://test-chk-api.uzumcheckout.uz"' in form
    response = client.post(CONNECT, form_data(environment="sandbox"))
    assert response.status_code == 400
    assert "Select a valid choice. sandbox is not one of the available choices." in text(response)
    assert connections(salon_a) == 0


def test_the_page_speaks_the_users_language(salon_a, login):
    body = text(login(salon_a.owner, "ru").get(CONNECT))
    assert '<html lang="ru">' in body


def test_an_empty_host_is_filled_by_the_server(salon_a, login, bank_in_process, sandbox_terminal):
    response = login(salon_a.owner).post(
        CONNECT, form_data(sandbox_terminal(), checkout_base_url="")
    )
    assert response.status_code == 302
    connection = Connection.objects.get(business=salon_a.business)
    assert connection.checkout_base_url == f"{ROOT}/sandbox/uzum/checkout"


@pytest.mark.django_db(transaction=True)
def test_create_a_sandbox_terminal_over_real_http(live_server, settings, client):
    """No in-process transport: the page asks the sandbox's control API and checks the keys
    over sockets, as `navbat run` does, with no transaction held open meanwhile."""
    from tests.conftest import build_salon

    settings.NAVBAT_PUBLIC_URL = live_server.url
    salon = build_salon("L")
    client.force_login(salon.owner)
    client.cookies["django_language"] = "en"
    response = client.post(
        CONNECT,
        {"environment": "sandbox", "card_payments": "on", "create_sandbox": "1"},
    )
    assert response.status_code == 302
    connection = Connection.objects.get(business=salon.business)
    assert connection.checkout_base_url == f"{live_server.url}/sandbox/uzum/checkout"
    terminal = Terminal.objects.get(terminal_id=connection.terminal_id)
    assert terminal.payment_callback_url == (
        f"{live_server.url}/uzum/checkout/{connection.public_id}/callback"
    )
    assert terminal.api_key == connection.api_key
