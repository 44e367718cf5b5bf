"""Fixtures for the contract tests: sandbox terminals and clients over real HTTP."""

import pytest

from navbat.uzum.checkout import CheckoutClient
from tests.uzum.merchant import App, connect_app, link_of


@pytest.fixture
def sandbox_url(live_server):
    return live_server.url + "/sandbox/uzum/checkout"


@pytest.fixture
def make_terminal(transactional_db):
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
def client_for(sandbox_url):
    made = []

    def make(terminal, *, api_key=None, terminal_id=None, base_url=None, **options):
        options.setdefault("read_retries", 0)
        options.setdefault("money_retries", 0)
        options.setdefault("retry_backoff", 0)
        options.setdefault("timeout", 20)
        client = CheckoutClient(
            base_url or sandbox_url,
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
