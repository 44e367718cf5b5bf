"""F2 + F3 end to end in a real browser, over real HTTP to the sandbox bank: the desk sends a
payment link, the client pays by card on the bank's page, comes back to "Payment completed
successfully", and the books hold the income in "Uzum Bank" and the bank's fee."""

import pytest

from navbat.finance.models import Transaction
from navbat.payments.models import PaymentOrder
from tests.browser.session import connect_sandbox_terminal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UZCARD = "8600 0000 0000 0018"


@pytest.fixture
def connected(live_server, salon_a, settings):
    """Salon A connected to a sandbox terminal over real HTTP, with callbacks to this server."""
    settings.NAVBAT_PUBLIC_URL = live_server.url
    return connect_sandbox_terminal(live_server=live_server, salon=salon_a)


def test_a_client_pays_the_link_by_card_and_the_books_show_it(
    page, live_server, salon_a, connected, tmp_path
):
    appointment = salon_a.appointments[0]  # one haircut, 100 000 so'm
    log_in(page, live_server, salon_a.admin)

    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    assert page.inner_text("#due") == "100 000 so'm"
    page.click("#payment-link-button")
    page.wait_for_selector("#payment-link-url")
    assert page.inner_text("#payment-link-amount") == "100 000 so'm"
    url = page.input_value("#payment-link-url")
    assert url.startswith(f"{live_server.url}/pay/")
    assert page.locator("#payment-link-qr svg").count() == 1
    sent = page.inner_text("#payment-link-sent")
    assert sent.startswith("Payment link sent ") and sent.endswith(" by admin-a@example.uz")
    page.screenshot(path=str(tmp_path / "window-link.png"), full_page=True)

    # The client opens the link on a phone.
    with page.context.expect_page() as opened:
        page.click("#open-payment-link")
    phone = opened.value
    phone.set_viewport_size({"width": 360, "height": 740})
    phone.wait_for_load_state()
    assert phone.url == url
    assert phone.inner_text("#salon-name") == "Salon A"
    assert phone.inner_text("#specialist") == "Specialist A0"
    assert phone.inner_text("#due") == "100 000 so'm"
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.screenshot(path=str(tmp_path / "quick-payment.png"), full_page=True)

    phone.click("#pay-card")
    phone.wait_for_url("**/sandbox/uzum/pay/**")
    assert phone.inner_text("#merchant-name") == "Salon A"
    assert phone.inner_text("#amount") == "100 000 so'm"
    phone.fill("#card_number", UZCARD)
    phone.fill("#expiry", "12/30")
    phone.fill("#cvv", "123")
    phone.click("#pay-button")
    phone.wait_for_selector("#back-button")
    phone.click("#back-button")

    phone.wait_for_url(f"{url}/return/**")
    phone.wait_for_selector("#receipt")
    assert phone.inner_text("#outcome-title") == "Payment completed successfully"
    assert phone.inner_text("#amount-paid") == "100 000 so'm"
    assert phone.inner_text("#card-used") == "Uzcard 860000******0018"
    assert phone.inner_text("#due") == "0 so'm"
    phone.screenshot(path=str(tmp_path / "paid.png"), full_page=True)

    order = PaymentOrder.objects.get()
    assert (order.state, order.paid_amount, order.card_kind, order.fee_amount) == (
        "paid",
        10_000_000,
        "uzcard",
        100_000,
    )

    # Back at the desk: the appointment is paid, online.
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    assert page.inner_text("#payment-state") == "Paid"
    assert page.inner_text("#paid") == "100 000 so'm"
    assert page.inner_text("#due") == "0 so'm"
    assert page.inner_text("#appointment-status") == "Confirmed"
    row = page.locator(f"#online-payments tr[data-reference='{order.reference}']")
    assert "Paid" in row.inner_text() and "Uzcard" in row.inner_text()
    assert page.locator("#payment-link-sent").inner_text().startswith("Payment link sent")

    # The books: the income in "Uzum Bank" and the bank's fee, Uzcard 1 % in 2026.
    page.click("nav.mainnav >> text=Finance")
    page.wait_for_selector("#transactions")
    rows = page.locator("#transactions tbody tr")
    assert rows.count() == 2
    texts = sorted(rows.nth(i).inner_text() for i in range(2))
    income = next(t for t in texts if "Payment for a sale" in t)
    fee = next(t for t in texts if "Bank fee" in t)
    assert "Uzum Bank" in income and "Client A0" in income and "100 000 so'm" in income
    assert "Uzum Bank" in fee and "−1 000 so'm" in fee and "Bank fee 1 %" in fee
    assert page.inner_text("#total-income") == "100 000 so'm"
    assert page.inner_text("#total-expense") == "1 000 so'm"
    page.screenshot(path=str(tmp_path / "transactions.png"), full_page=True)
    assert Transaction.objects.filter(business=salon_a.business).count() == 2
