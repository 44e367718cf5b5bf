"""Every function that calls the bank refuses inside ``transaction.atomic()``: nothing is
sent to the bank and nothing is written (navbat.kit.bankcalls). The same calls outside a
transaction reach the bank, so the counting transport does count."""

import uuid
from datetime import timedelta

import httpx
import pytest
from django.db import transaction
from django.test import RequestFactory
from django.utils import timezone

from navbat.kit.bankcalls import BankCallInTransaction, ensure_outside_transaction
from navbat.payments import public_views, reconciliation, services
from navbat.payments.models import PaymentOrder
from navbat.uzum import clients
from navbat.uzum import services as uzum
from navbat.uzum.checkout import Cart, CartItem, CheckoutClient, ReceiptParams, RegisterRequest
from navbat.uzum.checkout import client as checkout_client_module
from navbat.uzum.models import Connection
from navbat.uzum.provider import UzumProvider
from tests.payments.jobs import RETURN_URL, start_payment

pytestmark = pytest.mark.django_db

ORDER = uuid.uuid4()


class CountingBank:
    """A transport that counts what reaches it and answers "no such order"."""

    def __init__(self):
        self.requests = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        return httpx.Response(200, json={"errorCode": 3005, "message": "not found"})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


@pytest.fixture
def counting_bank(monkeypatch):
    bank = CountingBank()
    monkeypatch.setattr(clients, "transport_factory", bank.transport)
    return bank


def checkout_client(bank: CountingBank) -> CheckoutClient:
    return CheckoutClient(
        "https://test.example/checkout",
        str(uuid.uuid4()),
        "secret-key",
        transport=bank.transport(),
        read_retries=0,
        money_retries=0,
    )


def register_request() -> RegisterRequest:
    item = CartItem(
        title="Haircut",
        product_id="service-1",
        quantity=1,
        unit_price=100,
        total=100,
        receipt_params=ReceiptParams(spic="1", package_code="1", vat_percent=12, tin="1"),
    )
    return RegisterRequest(
        amount=100,
        order_number=str(uuid.uuid4()),
        client_id="c",
        success_url="https://x/ok",
        failure_url="https://x/no",
        cart=Cart(cart_id="c", total=100, items=(item,)),
    )


CLIENT_CALLS = {
    "register": lambda c: c.register(register_request(), "ru"),
    "get_order_status": lambda c: c.get_order_status(ORDER),
    "get_operation_state": lambda c: c.get_operation_state(ORDER),
    "get_receipts": lambda c: c.get_receipts(ORDER),
    "complete": lambda c: c.complete(ORDER, 100, uuid.uuid4()),
    "reverse": lambda c: c.reverse(ORDER, 100, uuid.uuid4()),
    "refund": lambda c: c.refund(ORDER, 100, uuid.uuid4()),
    "verify_credentials": lambda c: c.verify_credentials(),
}


def test_the_guard_is_installed_in_every_checkout_client():
    # The client stays plain Python + httpx; the uzum app installs the guard at start.
    assert ensure_outside_transaction in checkout_client_module._before_request


@pytest.mark.parametrize("name", sorted(CLIENT_CALLS))
def test_each_checkout_client_call_is_refused_inside_atomic(name):
    bank = CountingBank()
    with checkout_client(bank) as client:
        with transaction.atomic(), pytest.raises(BankCallInTransaction) as refused:
            CLIENT_CALLS[name](client)
        assert bank.requests == []
        assert refused.value.what.startswith("uzum checkout ")
        # Outside a transaction the very same call reaches the bank.
        try:
            CLIENT_CALLS[name](client)
        except Exception as error:  # the counting bank's "not found", whatever it means here
            assert not isinstance(error, BankCallInTransaction)
        assert len(bank.requests) == 1
        assert bank.requests[0].startswith("/checkout/api/v1/")


@pytest.fixture
def paying(salon_a, connect_uzum, monkeypatch):
    """A connected salon with a card order registered at the sandbox (in-process); from
    here on the bank is a counting transport."""
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank = CountingBank()
    monkeypatch.setattr(clients, "transport_factory", bank.transport)
    return salon_a, connection, order, bank


def _refused(call, bank: CountingBank) -> BankCallInTransaction:
    orders = PaymentOrder.objects.count()
    connections = Connection.objects.count()
    with transaction.atomic(), pytest.raises(BankCallInTransaction) as refused:
        call()
    assert bank.requests == []
    assert (PaymentOrder.objects.count(), Connection.objects.count()) == (orders, connections)
    return refused.value


def test_each_provider_network_method_is_refused_inside_atomic(paying):
    salon, connection, order, counting_bank = paying
    provider = UzumProvider()
    account = provider.account_for(business=salon.business)
    link = order.link
    for name, call in {
        "start_card_payment": lambda: provider.start_card_payment(
            order=order,
            account=account,
            success_url=RETURN_URL,
            failure_url=RETURN_URL,
            cart=(),
            description="x",
        ),
        "fetch": lambda: provider.fetch(order=order),
        "fetch_bank_order": lambda: provider.fetch_bank_order(
            connection=connection, bank_order_id=order.bank_order_id
        ),
    }.items():
        refused = _refused(call, counting_bank)
        assert refused.what == f"navbat.uzum.provider.UzumProvider.{name}"
    assert link.pk == order.link_id
    # Outside: the status read goes to the bank.
    with pytest.raises(Exception) as answered:
        provider.fetch(order=order)
    assert not isinstance(answered.value, BankCallInTransaction)
    assert len(counting_bank.requests) == 1


def test_each_payments_service_that_calls_the_bank_is_refused_inside_atomic(paying):
    salon, _connection, order, counting_bank = paying
    state = (order.state, order.checks, order.next_check_at)
    calls = {
        "navbat.payments.services.start_card_payment": lambda: services.start_card_payment(
            link=order.link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
        ),
        "navbat.payments.services.refresh": lambda: services.refresh(order=order),
        "navbat.payments.reconciliation.check_pending": lambda: reconciliation.check_pending(
            order_id=order.pk, now=timezone.now() + timedelta(hours=2)
        ),
        "navbat.payments.reconciliation.run_daily": lambda: reconciliation.run_daily(
            business=salon.business
        ),
    }
    for what, call in calls.items():
        assert _refused(call, counting_bank).what == what
    order.refresh_from_db()
    assert (order.state, order.checks, order.next_check_at) == state


def test_each_uzum_service_that_calls_the_bank_is_refused_inside_atomic(
    salon_a, counting_bank, settings
):
    settings.NAVBAT_SANDBOX = True
    keys = {"terminal_id": str(uuid.uuid4()), "api_key": "secret-key"}
    calls = {
        "navbat.uzum.services.check_keys": lambda: uzum.check_keys(
            base_url=uzum.default_checkout_url("sandbox"), environment="sandbox", **keys
        ),
        "navbat.uzum.services.check_keys ": lambda: uzum.connect(
            business=salon_a.business, environment="sandbox", **keys
        ),
        "navbat.uzum.services.create_sandbox_keys": lambda: uzum.create_sandbox_keys(
            business_id=salon_a.business.pk, public_id=uuid.uuid4(), merchant_name="x"
        ),
        "navbat.uzum.services.create_sandbox_keys ": lambda: uzum.connect_new_sandbox(
            business=salon_a.business
        ),
    }
    for what, call in calls.items():
        assert _refused(call, counting_bank).what == what.strip()


def test_a_view_that_lost_its_decorator_fails_loudly(paying):
    """What ATOMIC_REQUESTS would do to a bank-calling view without @bank_calling_view."""
    _salon, _connection, order, counting_bank = paying
    request = RequestFactory().post(f"/pay/{order.link.token}/card")
    with transaction.atomic(), pytest.raises(BankCallInTransaction):
        public_views.pay_card_view(request, order.link.token)
    assert counting_bank.requests == []
