"""What the browser tests of the payment flows begin with: a salon's person logged in, and
the salon connected to a sandbox terminal whose callbacks reach the live server."""

from navbat.uzum import services as uzum
from navbat.uzum_sandbox.models import Terminal
from tests.conftest import PASSWORD


def log_in(page, live_server, user) -> None:
    """Log ``user`` in through the login form, with the interface in English."""
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    page.goto(f"{live_server.url}/journal/")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/journal/**")


def connect_sandbox_terminal(*, live_server, salon, checkout_root: str | None = None):
    """``salon`` connected to a new sandbox card terminal over real HTTP (its Checkout host
    ``checkout_root``, this server by default), its three callbacks pointed at this server."""
    terminal = Terminal.objects.create(merchant_name="Salon A", pay_types=["ONE_STEP"])
    connection = uzum.connect(
        business=salon.business,
        environment="sandbox",
        checkout_base_url=(checkout_root or live_server.url) + "/sandbox/uzum/checkout",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        author=salon.owner,
    )
    point_callbacks_at(terminal, root=live_server.url, connection=connection)
    return connection


def point_callbacks_at(terminal, *, root: str, connection) -> None:
    """The sandbox terminal's three callbacks sent to ``connection``'s addresses on ``root``
    (the live server), as a salon gives them to the bank's manager."""
    base = f"{root}/uzum/checkout/{connection.public_id}"
    terminal.payment_callback_url = f"{base}/callback"
    terminal.event_callback_url = f"{base}/event"
    terminal.receipt_callback_url = f"{base}/receipt"
    terminal.save()
