"""Connecting Uzum Bank (F1), the service: keys checked with the bank before anything is
saved, a refusal told apart from a bank that does not answer, reconnecting and
disconnecting keep the history, and the sandbox's "make me a terminal" path."""

import ast
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.exceptions import ValidationError

import navbat
from navbat.accounts.sandbox import sandbox_owner
from navbat.finance.models import CashRegister, FeeRate, FeeSchedule, Transaction
from navbat.kit.tenancy import scoped
from navbat.payments import providers
from navbat.payments import services as payments
from navbat.payments.models import PaymentOrder, State
from navbat.uzum import clients, selectors, services
from navbat.uzum.models import Callback, Connection
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import MerchantService, Terminal

pytestmark = pytest.mark.django_db

ROOT = "http://127.0.0.1:8000"


def nothing_saved(salon) -> None:
    business = salon.business
    assert scoped(Connection, business).count() == 0
    assert scoped(FeeSchedule, business).count() == 0
    assert not scoped(CashRegister, business).filter(name="Uzum Bank").exists()


def keys_of(terminal) -> dict:
    return {"terminal_id": str(terminal.terminal_id), "api_key": terminal.api_key}


@pytest.fixture
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT
    return ROOT


@pytest.fixture
def no_bank_call(monkeypatch):
    """A transport that fails the test if anything reaches the bank."""
    calls = []

    def handler(request):
        calls.append(request.url)
        return httpx.Response(500)

    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.MockTransport(handler))
    return calls


@pytest.fixture
def bank_down(monkeypatch):
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    monkeypatch.setattr(clients, "transport_factory", lambda: httpx.MockTransport(handler))


def test_right_keys_are_saved(salon_a, bank_in_process, sandbox_terminal, public_root):
    terminal = sandbox_terminal()
    connection = services.connect(
        business=salon_a.business,
        environment="sandbox",
        merchant_service_id=100_123,
        merchant_login="merchant100123",
        merchant_password="app-secret-1",
        app_payments=True,
        installments=True,
        author=salon_a.owner,
        **keys_of(terminal),
    )
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.business_id == salon_a.business.pk
    assert connection.is_active is True
    assert connection.environment == "sandbox"
    assert connection.checkout_base_url == f"{ROOT}/sandbox/uzum/checkout"
    assert connection.terminal_id == terminal.terminal_id
    assert connection.api_key == terminal.api_key
    assert connection.masked_api_key == "•" * 8 + terminal.api_key[-4:]
    assert connection.merchant_service_id == 100_123
    assert connection.merchant_login == "merchant100123"
    assert connection.merchant_password == "app-secret-1"
    assert (connection.card_payments, connection.app_payments, connection.installments) == (
        True,
        True,
        True,
    )
    assert connection.connected_by == salon_a.owner
    assert connection.register.name == "Uzum Bank"
    assert connection.register.kind == "online"
    # The bank's published terms: 7 card kinds × (special terms, standard terms).
    assert scoped(FeeRate, salon_a.business).filter(schedule=connection.fee_schedule).count() == 14
    assert providers.active_account(business=salon_a.business).id == connection.pk


def test_installments_need_the_app(salon_a, bank_in_process, sandbox_terminal):
    connection = services.connect(
        business=salon_a.business,
        environment="sandbox",
        installments=True,
        **keys_of(sandbox_terminal()),
    )
    assert (connection.card_payments, connection.app_payments, connection.installments) == (
        True,
        False,
        False,
    )


def test_a_wrong_key_is_refused_and_nothing_is_saved(salon_a, bank_in_process, sandbox_terminal):
    terminal = sandbox_terminal()
    with pytest.raises(services.KeysRefused) as caught:
        services.connect(
            business=salon_a.business,
            environment="sandbox",
            terminal_id=str(terminal.terminal_id),
            api_key="0" * 64,
        )
    assert caught.value.code == "keys_refused"
    assert caught.value.messages == [
        "Uzum Bank refused this terminal id and API key. Check them against the bank's e-mail."
    ]
    nothing_saved(salon_a)


def test_an_unknown_terminal_is_refused(salon_a, bank_in_process, sandbox_terminal):
    terminal = sandbox_terminal()
    with pytest.raises(services.KeysRefused):
        services.connect(
            business=salon_a.business,
            environment="sandbox",
            terminal_id=str(uuid.uuid4()),
            api_key=terminal.api_key,
        )
    nothing_saved(salon_a)


def test_a_bank_that_does_not_answer_is_not_a_wrong_key(salon_a, bank_down, public_root):
    with pytest.raises(services.BankUnreachable) as caught:
        services.connect(
            business=salon_a.business,
            environment="test",
            terminal_id=str(uuid.uuid4()),
            api_key="a" * 64,
        )
    assert not isinstance(caught.value, services.KeysRefused)
    assert caught.value.code == "bank_unreachable"
    assert caught.value.messages == [
        "Uzum Bank did not answer at https://test-chk-api.uzumcheckout.uz. "
        "Check the host, or try again later."
    ]
    nothing_saved(salon_a)


def test_a_failing_bank_is_unreachable_too(salon_a, bank_in_process, sandbox_terminal):
    """The sandbox's fault switch: every Checkout call answers HTTP 503."""
    terminal = sandbox_terminal(faults={"*": {"mode": "error_5xx", "status": 503}})
    with pytest.raises(services.BankUnreachable):
        services.connect(business=salon_a.business, environment="sandbox", **keys_of(terminal))
    nothing_saved(salon_a)


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"terminal_id": "not-a-uuid"}, "terminal_id", "A terminal id looks like"),
        ({"api_key": "   "}, "api_key", "Enter the API key."),
        ({"environment": "moon"}, "environment", "Choose an environment."),
        ({"checkout_base_url": "ftp://bank"}, "checkout_base_url", "Enter the host as a web"),
        ({"checkout_base_url": "https://bank.uz/" + "a" * 300}, "checkout_base_url", "too long"),
        ({"auto_fiscal": True, "tin": "12345678x"}, "tin", "A TIN is 9 digits."),
        ({"auto_fiscal": True, "pinfl": "123"}, "pinfl", "A PINFL is 14 digits."),
        ({"auto_fiscal": True}, None, "exactly one of the TIN or the PINFL"),
        ({"auto_fiscal": True, "tin": "123456789", "pinfl": "12345678901234"}, None, "exactly"),
        ({"card_payments": False}, None, "Offer at least one payment method."),
        ({"app_payments": True}, None, "need the Merchant API service id, login and password"),
        ({"payment_attribute": "order&amount=1"}, "payment_attribute", "Latin letters"),
        ({"payment_attribute": "1order"}, "payment_attribute", "Latin letters"),
        ({"payment_attribute": "o" * 33}, "payment_attribute", "Latin letters"),
        ({"payment_attribute": "amount"}, "payment_attribute", "taken by the link itself"),
        ({"payment_attribute": "serviceId"}, "payment_attribute", "taken by the link itself"),
        ({"payment_attribute": "redirectURL"}, "payment_attribute", "taken by the link itself"),
    ],
)
def test_bad_input_is_refused_before_asking_the_bank(salon_a, no_bank_call, fields, field, message):
    arguments = {
        "business": salon_a.business,
        "environment": "test",
        "terminal_id": str(uuid.uuid4()),
        "api_key": "a" * 64,
        **fields,
    }
    with pytest.raises(ValidationError) as caught:
        services.connect(**arguments)
    error = caught.value
    if field is None:
        assert not hasattr(error, "error_dict")
        assert message in error.messages[0]
    else:
        assert list(error.message_dict) == [field]
        assert message in error.message_dict[field][0]
    assert no_bank_call == []
    nothing_saved(salon_a)


def test_reconnecting_keeps_the_old_connection_and_its_fee_schedule(
    salon_a, bank_in_process, sandbox_terminal
):
    first = services.connect(
        business=salon_a.business, environment="sandbox", **keys_of(sandbox_terminal())
    )
    second_terminal = sandbox_terminal()
    second = services.connect(
        business=salon_a.business, environment="sandbox", **keys_of(second_terminal)
    )
    first.refresh_from_db()
    assert first.is_active is False
    assert first.disconnected_at is not None
    assert second.is_active is True
    assert second.terminal_id == second_terminal.terminal_id
    assert second.fee_schedule_id == first.fee_schedule_id
    assert second.register_id == first.register_id
    assert scoped(FeeSchedule, salon_a.business).count() == 1
    assert scoped(Connection, salon_a.business).count() == 2
    assert selectors.active_connection(business=salon_a.business) == second
    assert list(selectors.earlier_connections(business=salon_a.business)) == [first]


def test_a_refused_change_of_keys_keeps_the_current_connection(
    salon_a, bank_in_process, sandbox_terminal
):
    current = services.connect(
        business=salon_a.business, environment="sandbox", **keys_of(sandbox_terminal())
    )
    with pytest.raises(services.KeysRefused):
        services.connect(
            business=salon_a.business,
            environment="sandbox",
            terminal_id=str(sandbox_terminal().terminal_id),
            api_key="wrong",
        )
    current.refresh_from_db()
    assert current.is_active is True
    assert scoped(Connection, salon_a.business).count() == 1


def test_connecting_after_a_disconnect_reuses_the_fee_schedule(
    salon_a, bank_in_process, sandbox_terminal
):
    first = services.connect(
        business=salon_a.business, environment="sandbox", **keys_of(sandbox_terminal())
    )
    services.disconnect(connection=first)
    again = services.connect(
        business=salon_a.business, environment="sandbox", **keys_of(sandbox_terminal())
    )
    assert again.fee_schedule_id == first.fee_schedule_id
    assert scoped(FeeSchedule, salon_a.business).count() == 1


def test_disconnect_keeps_payments_callbacks_and_the_books(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    appointment = salon_a.appointments[0]
    link = payments.link_for(
        business=salon_a.business, kind="appointment", payable_id=appointment.pk
    )
    order = payments.start_card_payment(
        link=link,
        language="en",
        success_url=f"{ROOT}/pay/x/return/REFERENCE",
        failure_url=f"{ROOT}/pay/x/return/REFERENCE?failed=1",
    )
    bank.pay(order_id=order.bank_order_id, card_number="8600000000000018", code="")
    order = payments.refresh(order=order)
    assert order.state == State.PAID
    Callback.objects.create(
        business=salon_a.business,
        connection=connection,
        kind="payment",
        digest="d" * 64,
        body={"orderId": order.bank_order_id},
        bank_order_id=order.bank_order_id,
    )
    books = scoped(Transaction, salon_a.business).count()

    gone = services.disconnect(connection=connection)
    assert gone.is_active is False
    assert gone.disconnected_at is not None
    again = services.disconnect(connection=connection)  # a repeat changes nothing
    assert again.disconnected_at == gone.disconnected_at

    assert providers.active_account(business=salon_a.business) is None
    assert providers.get("uzum").account_by_id(account_id=connection.pk).id == connection.pk
    order.refresh_from_db()
    assert order.state == State.PAID
    assert order.account_id == connection.pk
    assert scoped(PaymentOrder, salon_a.business).count() == 1
    assert scoped(Callback, salon_a.business).filter(connection=connection).count() == 1
    assert scoped(Transaction, salon_a.business).count() == books
    assert scoped(Transaction, salon_a.business).filter(pk=order.income_id).exists()
    assert Connection.objects.filter(pk=connection.pk).exists()


def test_connect_takes_the_public_id_the_bank_was_told(salon_a, bank_in_process, sandbox_terminal):
    public_id = uuid.uuid4()
    connection = services.connect(
        business=salon_a.business,
        environment="sandbox",
        public_id=public_id,
        **keys_of(sandbox_terminal()),
    )
    assert connection.public_id == public_id


# --------------------------------------------------------------- "create a terminal for me"


def test_the_sandbox_makes_a_terminal_and_the_salon_is_connected(
    salon_a, bank_in_process, public_root
):
    connection = services.connect_new_sandbox(
        business=salon_a.business,
        app_payments=True,
        installments=True,
        auto_fiscal=True,
        pinfl="12345678901234",
        author=salon_a.admin,
    )
    terminal = Terminal.objects.get(terminal_id=connection.terminal_id)
    service = MerchantService.objects.get(service_id=connection.merchant_service_id)
    base = f"{ROOT}/uzum/checkout/{connection.public_id}"
    assert terminal.payment_callback_url == f"{base}/callback"
    assert terminal.event_callback_url == f"{base}/event"
    assert terminal.receipt_callback_url == f"{base}/receipt"
    assert terminal.auto_fiscal is True
    assert terminal.merchant_name == "Salon A"
    assert terminal.api_key == connection.api_key
    # Made with the salon's sandbox token: the salon's own at the sandbox.
    assert terminal.owner == service.owner == sandbox_owner(salon_a.business.pk)
    assert service.merchant_base_url == f"{ROOT}/uzum/merchant/{connection.public_id}"
    assert service.attribute_name == "order"
    assert (connection.merchant_login, connection.merchant_password) == (
        service.login,
        service.password,
    )
    assert connection.environment == "sandbox"
    assert connection.checkout_base_url == f"{ROOT}/sandbox/uzum/checkout"
    assert (connection.app_payments, connection.installments, connection.auto_fiscal) == (
        True,
        True,
        True,
    )
    assert (connection.tin, connection.pinfl) == ("", "12345678901234")
    assert connection.connected_by == salon_a.admin


def test_a_sandbox_that_does_not_answer_saves_nothing(salon_a, bank_down, public_root):
    before = (Terminal.objects.count(), MerchantService.objects.count())
    with pytest.raises(services.BankUnreachable) as caught:
        services.connect_new_sandbox(business=salon_a.business)
    assert caught.value.messages == [
        f"The built-in sandbox bank did not answer at {ROOT}/sandbox/uzum/control. Try again later."
    ]
    assert (Terminal.objects.count(), MerchantService.objects.count()) == before
    nothing_saved(salon_a)


def test_no_sandbox_terminal_where_the_sandbox_is_off(salon_a, no_bank_call, settings):
    settings.NAVBAT_SANDBOX = False
    with pytest.raises(ValidationError) as caught:
        services.connect_new_sandbox(business=salon_a.business)
    assert caught.value.message_dict == {"environment": ["The built-in sandbox is off here."]}
    assert no_bank_call == []
    nothing_saved(salon_a)


def test_the_adapter_never_imports_the_sandbox():
    """The sandbox is another bank, reached over HTTP only."""
    offenders = []
    for path in (Path(navbat.__file__).parent / "uzum").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if "uzum_sandbox" in n]
    assert offenders == []


def test_the_payment_attribute_name_is_kept_and_defaults_to_order(
    salon_a, bank_in_process, sandbox_terminal
):
    terminal = sandbox_terminal()
    first = services.connect(
        business=salon_a.business, environment="sandbox", payment_attribute="", **keys_of(terminal)
    )
    assert first.payment_attribute == "order"
    second = services.connect(
        business=salon_a.business,
        environment="sandbox",
        payment_attribute=" invoice_no ",
        **keys_of(terminal),
    )
    assert second.payment_attribute == "invoice_no"
    assert Connection.objects.get(pk=second.pk).payment_attribute == "invoice_no"
