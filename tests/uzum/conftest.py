"""Fixtures for the contract tests: sandbox terminals and clients. The sandbox bank answers in
this process (httpx over WSGI: real HTTP requests and answers, rows in the test's transaction);
the tests marked ``over_a_socket`` reach it through a live server instead, to prove that path."""

import httpx
import pytest

from navbat.uzum.checkout import CheckoutClient
from tests.uzum.merchant import App, connect_app, link_of
from tests.uzum.sandbox import IN_PROCESS, SOCKET


class Bank:
    """Where the sandbox bank answers: its Checkout URL and the httpx transport to reach it
    (None: the network)."""

    def __init__(self, url: str, app=None):
        self.url = url
        self.app = app

    def transport(self) -> httpx.BaseTransport | None:
        return None if self.app is None else httpx.WSGITransport(app=self.app)

    def http(self, **options) -> httpx.Client:
        return httpx.Client(transport=self.transport(), **options)


@pytest.fixture
def bank(request, settings):
    if getattr(request, "param", IN_PROCESS) == SOCKET:
        live_server = request.getfixturevalue("live_server")
        return Bank(live_server.url + "/sandbox/uzum/checkout")
    app = request.getfixturevalue("bank_in_process")
    return Bank(settings.NAVBAT_PUBLIC_URL + "/sandbox/uzum/checkout", app)


@pytest.fixture
def sandbox_url(bank):
    return bank.url


@pytest.fixture
def http(bank):
    """An httpx client that reaches wherever the bank answers."""
    with bank.http() as client:
        yield client


@pytest.fixture
def make_terminal(db):
    from navbat.uzum_sandbox.models import Terminal

    def make(pay_types=("ONE_STEP", "TWO_STEP"), auto_fiscal=False, **fields):
        terminal = Terminal.objects.create(
            pay_types=list(pay_types), auto_fiscal=auto_fiscal, **fields
        )
        return terminal

    return make


@pytest.fixture
def terminal(make_terminal):
    return make_terminal()


@pytest.fixture
def client_for(bank):
    made = []

    def make(terminal, *, api_key=None, terminal_id=None, base_url=None, **options):
        options.setdefault("read_retries", 0)
        options.setdefault("money_retries", 0)
        options.setdefault("retry_backoff", 0)
        options.setdefault("timeout", 20)
        if "transport" not in options and "http_client" not in options:
            transport = bank.transport()
            if transport is not None:
                options["transport"] = transport
        client = CheckoutClient(
            base_url or bank.url,
            terminal_id or str(terminal.terminal_id),
            api_key or terminal.api_key,
            **options,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def checkout(client_for, terminal):
    return client_for(terminal)


# ------------------------------------------------------------------ the Merchant API tests


@pytest.fixture
def connection(salon_a, connect_uzum):
    """Salon A connected with card and app payments (installments too)."""
    return connect_app(connect_uzum, salon_a)


@pytest.fixture
def app(connection):
    """The Uzum Bank app calling that connection's Merchant API."""
    return App(connection)


@pytest.fixture
def link(salon_a):
    """The payment link of salon A's first appointment."""
    return link_of(salon_a)
