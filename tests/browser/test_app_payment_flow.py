"""F2 + F3 by the Uzum Bank app, end to end in a real browser over real HTTP: the desk sends a
payment link; the link is open on a large screen (with its QR) while the client's phone opens
it too and pays in the sandbox's Uzum Bank app in installments (15-0-4, no overpayment); the
app calls our Merchant API; the large screen turns to "Payment completed successfully" by
itself; the books hold the income in "Uzum Bank" and the 5 % installment fee of 2026."""

import uuid

import pytest
from playwright.sync_api import expect

from navbat.accounts.sandbox import sandbox_owner
from navbat.finance.models import Transaction
from navbat.payments.models import PaymentOrder
from navbat.uzum import services as uzum
from navbat.uzum.models import MerchantTransaction
from navbat.uzum_sandbox.models import AppTransaction, MerchantService, Terminal
from tests.browser.session import log_in, point_callbacks_at

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICE_ID = 600_123
APP_LOGIN = "salon-a-app"
APP_PASSWORD = "app-pässword-7"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def connected(live_server, salon_a, settings):
    """Salon A connected to the sandbox over real HTTP: a Checkout terminal, and a Merchant
    API service whose app calls this server's ``/uzum/merchant/<public_id>`` with the same
    login and password as the connection holds."""
    settings.NAVBAT_PUBLIC_URL = live_server.url
    # The sandbox app asks /status only after a failed /confirm; none should fail here.
    settings.NAVBAT_SANDBOX_APP_STATUS_PAUSE = 0
    public_id = uuid.uuid4()
    owner = sandbox_owner(salon_a.business.pk)
    terminal = Terminal.objects.create(owner=owner, merchant_name="Salon A", pay_types=["ONE_STEP"])
    service = MerchantService.objects.create(
        owner=owner,
        service_id=SERVICE_ID,
        login=APP_LOGIN,
        password=APP_PASSWORD,
        merchant_name="Salon A",
        merchant_base_url=f"{live_server.url}/uzum/merchant/{public_id}",
        attribute_name="order",
    )
    connection = uzum.connect(
        business=salon_a.business,
        environment="sandbox",
        checkout_base_url=live_server.url + "/sandbox/uzum/checkout",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        merchant_service_id=service.service_id,
        merchant_login=APP_LOGIN,
        merchant_password=APP_PASSWORD,
        card_payments=True,
        app_payments=True,
        installments=True,
        public_id=public_id,
        author=salon_a.owner,
    )
    point_callbacks_at(terminal, root=live_server.url, connection=connection)
    return connection


@pytest.fixture
def phone(browser, live_server):
    """The client's phone: its own browser, nothing shared with the desk's."""
    context = browser.new_context(
        locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_a_client_pays_the_link_in_the_app_in_installments_and_the_books_show_it(
    page, phone, live_server, salon_a, connected, tmp_path
):
    appointment = salon_a.appointments[0]  # one haircut, 100 000 so'm
    log_in(page, live_server, salon_a.owner)

    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    assert page.inner_text("#due") == "100 000 so'm"
    page.click("#payment-link-button")
    page.wait_for_selector("#payment-link-url")
    url = page.input_value("#payment-link-url")
    assert url.startswith(f"{live_server.url}/pay/")

    # The link open on a large screen: the app is offered as a code to scan.
    with page.context.expect_page() as opened:
        page.click("#open-payment-link")
    screen = opened.value
    screen.wait_for_load_state()
    assert screen.url == url
    assert screen.viewport_size == {"width": 1400, "height": 900}
    assert screen.inner_text("#due") == "100 000 so'm"
    expect(screen.locator("#app-qr svg")).to_be_visible()
    assert screen.locator("#app-qr svg").count() == 1
    assert screen.inner_text("#app-methods") == (
        "In the app: a card, the Uzum balance or installments (pay in parts). "
        "The salon receives the whole amount at once."
    )
    screen.screenshot(path=str(tmp_path / "screen-with-qr.png"), full_page=True)

    # The same link on the phone: a button, no code to scan.
    phone.goto(url)
    assert phone.inner_text("#due") == "100 000 so'm"
    assert phone.inner_text("#pay-app") == "Pay in the Uzum Bank app"
    assert phone.locator("#app-qr").is_hidden()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.get_attribute("#pay-app", "href") == screen.get_attribute("#pay-app", "href")
    phone.screenshot(path=str(tmp_path / "phone-link.png"), full_page=True)

    phone.click("#pay-app")
    phone.wait_for_url("**/sandbox/uzum/open-service?**")
    assert phone.inner_text("[data-field=salon]") == "Salon A"
    assert phone.inner_text("[data-field=service]") == "Haircut A"
    assert phone.inner_text("[data-field=due]") == "100 000 so'm"
    assert phone.inner_text("#amount") == "100 000 so'm"
    assert not phone.locator("#plans").is_visible()
    phone.click("label[for=source-INSTALLMENT]")
    phone.wait_for_selector("#plans", state="visible")
    phone.click("label[for=tariff-15-0-4]")
    phone.screenshot(path=str(tmp_path / "phone-app.png"), full_page=True)
    phone.click("#pay-button")

    phone.wait_for_selector("#outcome[data-status=CONFIRMED]")
    assert "100 000 so'm" in phone.inner_text("#outcome")
    assert "Installments · 4 months, no overpayment (15-0-4)" in phone.inner_text("#outcome")
    assert phone.inner_text("#back-button") == "Back to Salon A"
    phone.screenshot(path=str(tmp_path / "phone-paid.png"), full_page=True)

    # Meanwhile the large screen, never touched by the test, shows the payment by itself.
    expect(screen.locator("#receipt #outcome-title")).to_be_visible(timeout=15_000)
    assert screen.inner_text("#outcome-title") == "Payment completed successfully"
    assert screen.inner_text("#amount-paid") == "100 000 so'm"
    assert screen.inner_text("#card-used") == "Installments"
    assert screen.locator("#pay-app").count() == 0
    assert screen.locator("#app-watch").count() == 0
    assert screen.url == url
    # The page reloaded itself (htmx's HX-Refresh), the test only waited.
    kind = screen.evaluate("performance.getEntriesByType('navigation')[0].type")
    assert kind == "reload"
    screen.screenshot(path=str(tmp_path / "screen-paid.png"), full_page=True)

    # What the app said to us, and what we recorded: one transaction, one order, paid.
    app_tx = AppTransaction.objects.get()
    assert [entry["endpoint"] for entry in app_tx.exchange] == ["check", "create", "confirm"]
    assert [entry["status"] for entry in app_tx.exchange] == [200, 200, 200]
    assert (app_tx.status, app_tx.payment_source, app_tx.tariff, app_tx.amount) == (
        "CONFIRMED",
        "INSTALLMENT",
        "15-0-4",
        10_000_000,
    )
    tx = MerchantTransaction.objects.get()
    assert (tx.trans_id, tx.state, tx.payment_source, tx.tariff, tx.amount) == (
        app_tx.trans_id,
        "CONFIRMED",
        "INSTALLMENT",
        "15-0-4",
        10_000_000,
    )
    order = PaymentOrder.objects.get()
    assert order == tx.order
    assert (
        order.method,
        order.state,
        order.paid_amount,
        order.card_kind,
        order.tariff,
        order.fee_rate_bp,
        order.fee_amount,
    ) == ("app", "paid", 10_000_000, "installment", "15-0-4", 500, 500_000)

    # The phone goes back from the app to the link: paid there too.
    phone.click("#back-button")
    phone.wait_for_url(url)
    phone.wait_for_selector("#receipt")
    assert phone.inner_text("#outcome-title") == "Payment completed successfully"
    assert phone.inner_text("#amount-paid") == "100 000 so'm"
    assert phone.locator("#pay-app").count() == 0
    phone.screenshot(path=str(tmp_path / "phone-back.png"), full_page=True)

    # The books: the income in "Uzum Bank" and the installment fee, 5 % in 2026.
    page.goto(f"{live_server.url}/finance/transactions/")
    page.wait_for_selector("#transactions")
    rows = page.locator("#transactions tbody tr")
    assert rows.count() == 2
    texts = [rows.nth(i).inner_text() for i in range(2)]
    income = next(t for t in texts if "Payment for a sale" in t)
    fee = next(t for t in texts if "Bank fee" in t)
    assert "Uzum Bank" in income and "Client A0" in income and "100 000 so'm" in income
    assert "INSTALLMENT 15-0-4" in income
    assert "Uzum Bank" in fee and "−5 000 so'm" in fee and "Bank fee 5 %" in fee
    assert page.inner_text("#total-income") == "100 000 so'm"
    assert page.inner_text("#total-expense") == "5 000 so'm"
    page.screenshot(path=str(tmp_path / "transactions.png"), full_page=True)
    assert Transaction.objects.filter(business=salon_a.business).count() == 2
    assert PaymentOrder.objects.count() == 1
