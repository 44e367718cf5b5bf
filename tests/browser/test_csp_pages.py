"""The pages whose scripts moved out of the templates, in a real browser under the
Content-Security-Policy: nothing is blocked (the autouse ``csp_violations`` fixture fails any
test that sees a violation) and the behaviours still work — copy buttons, the journal's
positions and its date picker, htmx panels, the connect form, the Django admin, the API
docs — and "Pay by card" reaches a bank page on another host."""

import pytest
from playwright.sync_api import expect

from navbat.booking.selectors import PIXELS_PER_MINUTE
from navbat.kit.timeutil import local_today, to_local
from navbat.payments.models import PaymentOrder
from tests.browser.session import connect_sandbox_terminal, log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UZCARD = "8600 0000 0000 0018"


def settle(page) -> None:
    """Let the browser's last requests (the favicon after a page loads) finish before the
    test's database goes away under the live server."""
    page.wait_for_load_state("networkidle")


def other_host(live_server) -> str:
    """The same server under another origin: stands in for the bank's own host."""
    return live_server.url.replace("localhost", "127.0.0.1")


@pytest.fixture
def connected(live_server, salon_a, settings):
    """Salon A on a sandbox terminal whose Checkout host is ``checkout_root``."""

    def connect(checkout_root: str):
        settings.NAVBAT_PUBLIC_URL = live_server.url
        return connect_sandbox_terminal(
            live_server=live_server, salon=salon_a, checkout_root=checkout_root
        )

    return connect


def test_copy_buttons_and_the_htmx_panel_work(page, live_server, salon_a, connected):
    connected(live_server.url)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    log_in(page, live_server, salon_a.owner)

    page.goto(f"{live_server.url}/appointments/{salon_a.appointments[0].pk}/")
    page.click("#payment-link-button")  # htmx swaps the panel in
    page.wait_for_selector("#payment-link-url")
    url = page.input_value("#payment-link-url")
    page.click("#copy-payment-link")
    # Not wait_for_function: Playwright evaluates its string with eval, which the policy refuses.
    expect(page.locator("#copy-payment-link")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == url

    page.goto(f"{live_server.url}/integrations/uzum/")
    payment_callback = page.inner_text("#url-payment")
    page.click("button[data-copy=url-payment]")
    expect(page.locator("button[data-copy=url-payment]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == payment_callback
    settle(page)


def test_the_journal_places_its_blocks_and_its_date_picker_navigates(page, live_server, salon_a):
    appointment = salon_a.appointments[0]  # tomorrow 10:00, 60 minutes
    log_in(page, live_server, salon_a.owner)
    day = to_local(appointment.starts_at, "Asia/Tashkent").date()
    page.goto(f"{live_server.url}/journal/?date={day.isoformat()}")
    block = page.locator(f"a.appt[data-appointment='{appointment.pk}']")
    box = block.bounding_box()
    lane = page.locator(f".lane[data-specialist='{appointment.specialist_id}']").bounding_box()
    assert box["height"] == 60 * PIXELS_PER_MINUTE
    hours = page.locator(".timecol .hour").first.inner_text()
    first_hour = int(hours.split(":")[0])
    assert box["y"] - lane["y"] == (10 - first_hour) * 60 * PIXELS_PER_MINUTE

    today = local_today("Asia/Tashkent")
    page.fill("input[name=date]", today.isoformat())
    page.dispatch_event("input[name=date]", "change")
    page.wait_for_url(f"**/journal/?*date={today.isoformat()}*")
    settle(page)


def test_the_connect_form_follows_the_environment(page, live_server, salon_a, settings):
    settings.NAVBAT_PUBLIC_URL = live_server.url
    log_in(page, live_server, salon_a.owner)
    page.goto(f"{live_server.url}/integrations/uzum/connect")
    page.select_option("#id_environment", "test")
    assert page.input_value("#id_checkout_base_url") == "https://test-chk-api.uzumcheckout.uz"
    assert page.locator("#sandbox-offer").is_hidden()
    page.select_option("#id_environment", "sandbox")
    assert page.input_value("#id_checkout_base_url") == (f"{live_server.url}/sandbox/uzum/checkout")
    assert page.locator("#sandbox-offer").is_visible()
    page.uncheck("#id_app_payments")
    assert page.locator("#id_installments").is_disabled()
    settle(page)


def test_a_bank_page_on_another_host_is_reached_and_paid(
    page, live_server, salon_a, connected, settings
):
    bank = other_host(live_server)
    # In production the default, https:, admits the bank's page wherever it is; this test's
    # bank speaks plain http on another origin, so it is named instead.
    settings.NAVBAT_PAY_FORM_ACTION = [bank]
    connected(bank)
    link_page = _link(page, live_server, salon_a)
    page.goto(link_page)
    page.click("#pay-card")
    page.wait_for_url(f"{bank}/sandbox/uzum/pay/**")
    page.fill("#card_number", UZCARD)
    page.fill("#expiry", "12/30")
    page.fill("#cvv", "123")
    page.click("#pay-button")
    page.wait_for_selector("#back-button")
    page.click("#back-button")
    page.wait_for_url(f"{link_page}/return/**")
    page.wait_for_selector("#receipt")
    assert PaymentOrder.objects.get().state == "paid"


def test_without_the_widening_the_browser_stops_the_redirect_to_the_bank(
    page, live_server, salon_a, connected, settings, csp_violations
):
    """Why the Quick Payment pages widen form-action: the browser holds the redirect after
    "Pay by card" to it, and the bank's page would never open."""
    bank = other_host(live_server)
    settings.NAVBAT_PAY_FORM_ACTION = []
    connected(bank)
    link_page = _link(page, live_server, salon_a)
    page.goto(link_page)
    page.click("#pay-card")
    page.wait_for_timeout(1500)
    assert not page.url.startswith(bank)
    assert any("form-action" in text for text in csp_violations), csp_violations
    csp_violations.clear()


def test_the_sandbox_test_card_buttons_fill_the_form(page, live_server, salon_a, connected):
    connected(live_server.url)
    page.goto(_link(page, live_server, salon_a))
    page.click("#pay-card")
    page.wait_for_url("**/sandbox/uzum/pay/**")
    page.click("button.fill >> nth=0")
    assert page.input_value("#card_number").count(" ") == 3
    assert page.input_value("#expiry") == "12/30"
    assert page.input_value("#cvv") == "123"


def test_the_django_admin_works_under_the_policy(page, live_server, salon_a):
    owner = salon_a.owner
    owner.is_staff = owner.is_superuser = True
    owner.save()
    page.goto(f"{live_server.url}/admin/")
    page.fill("#id_username", owner.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content-main")
    page.goto(f"{live_server.url}/admin/salons/business/")
    page.wait_for_selector("#result_list")
    page.click("#result_list tbody a >> nth=0")
    page.wait_for_selector("form")
    page.goto(f"{live_server.url}/admin/salons/client/")
    page.wait_for_selector("#result_list")


def test_the_api_docs_render_under_the_policy(page, live_server):
    page.goto(f"{live_server.url}/api/v1/docs")
    page.wait_for_selector(".swagger-ui .information-container", timeout=30_000)
    assert page.locator(".opblock").count() > 5


def _link(page, live_server, salon) -> str:
    """The payment link of salon's first appointment, made the way the desk makes it."""
    log_in(page, live_server, salon.admin)
    page.goto(f"{live_server.url}/appointments/{salon.appointments[0].pk}/")
    page.click("#payment-link-button")
    page.wait_for_selector("#payment-link-url")
    return page.input_value("#payment-link-url")
