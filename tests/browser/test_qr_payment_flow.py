"""F5 end to end in a real browser over real HTTP: the administrator leads the checkout point
to an appointment ("Pay by QR"); the point's printed address, opened on a phone, is that
appointment's payment page; the client pays by card on the sandbox bank; the administrator's
window, never reloaded, turns to paid by itself; the point's address asks the administrator
again. And the "ask the administrator" page turns into the payment page within 3 seconds of a
binding."""

import time

import pytest
from playwright.sync_api import expect

from navbat.payments import qr
from navbat.payments.models import Channel, PaymentOrder, PointBinding
from tests.browser.session import connect_sandbox_terminal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UZCARD = "8600 0000 0000 0018"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def connected(live_server, salon_a, settings):
    settings.NAVBAT_PUBLIC_URL = live_server.url
    return connect_sandbox_terminal(live_server=live_server, salon=salon_a)


def phone_page(browser, live_server, language="en"):
    context = browser.new_context(locale="en-US", viewport=PHONE)
    context.add_cookies([{"name": "django_language", "value": language, "url": live_server.url}])
    context.set_default_timeout(15_000)
    return context.new_page()


def test_pay_by_qr_at_the_checkout_by_card(
    page, browser, live_server, salon_a, connected, tmp_path
):
    appointment = salon_a.appointments[0]  # one haircut, 100 000 so'm
    point_url = qr.point_url(salon_a.checkout_point)
    log_in(page, live_server, salon_a.admin)
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    assert page.inner_text("#due") == "100 000 so'm"
    page.select_option("#pay-by-qr-point", str(salon_a.checkout_point.pk))
    page.click("#pay-by-qr-button")
    page.wait_for_selector("#pay-by-qr-waiting")
    assert page.inner_text("#pay-by-qr-waiting").startswith("Waiting for payment at Desk until ")
    page.screenshot(path=str(tmp_path / "window-waiting.png"), full_page=True)

    # The client scans the point's QR.
    phone = phone_page(browser, live_server)
    phone.goto(point_url)
    assert phone.url.startswith(f"{live_server.url}/pay/")
    assert phone.inner_text("#salon-name") == "Salon A"
    assert phone.inner_text("#due") == "100 000 so'm"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=str(tmp_path / "phone-payment.png"), full_page=True)
    phone.click("#pay-card")
    phone.wait_for_url("**/sandbox/uzum/pay/**")
    phone.fill("#card_number", UZCARD)
    phone.fill("#expiry", "12/30")
    phone.fill("#cvv", "123")
    phone.click("#pay-button")
    phone.wait_for_selector("#back-button")
    phone.click("#back-button")
    phone.wait_for_selector("#receipt")
    assert phone.inner_text("#outcome-title") == "Payment completed successfully"

    order = PaymentOrder.objects.get()
    assert (order.state, order.channel, order.paid_amount) == ("paid", Channel.QR, 10_000_000)

    # The administrator's window, never reloaded, reads paid by itself.
    expect(page.locator("#pay-by-qr-paid")).to_be_visible(timeout=10_000)
    expect(page.locator("#payment-state")).to_have_text("Paid", timeout=10_000)
    assert page.inner_text("#due") == "0 so'm"
    assert page.locator("#pay-by-qr-waiting").count() == 0
    page.screenshot(path=str(tmp_path / "window-paid.png"), full_page=True)
    assert PointBinding.objects.get().end_reason == "paid"

    # The point is free again: its address asks the administrator.
    phone.goto(point_url)
    assert phone.url == point_url
    expect(phone.locator("#qr-ask")).to_contain_text("Ask the administrator to set up your payment")
    phone.context.close()


def test_the_ask_page_turns_into_the_payment_page_within_3_seconds(
    browser, live_server, salon_a, connected, tmp_path
):
    point_url = qr.point_url(salon_a.checkout_point)
    phone = phone_page(browser, live_server, language="ru")
    phone.goto(point_url)
    expect(phone.locator("#qr-ask h1")).to_have_text("Salon A")
    assert phone.evaluate("document.documentElement.lang") == "ru"
    phone.screenshot(path=str(tmp_path / "phone-ask.png"), full_page=True)
    time.sleep(1.5)  # a few polls with nothing bound
    assert phone.url == point_url

    binding = qr.bind(
        point=salon_a.checkout_point, kind="appointment", payable_id=salon_a.appointments[1].pk
    )
    bound_at = time.monotonic()
    phone.wait_for_url(f"**/pay/{binding.link.token}", timeout=3_000)
    expect(phone.locator("#due")).to_be_visible(
        timeout=max(0.1, 3 - (time.monotonic() - bound_at)) * 1000
    )
    assert time.monotonic() - bound_at < 3
    assert phone.evaluate("document.documentElement.lang") == "ru"
    phone.context.close()
