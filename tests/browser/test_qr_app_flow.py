"""F5 with the Uzum Bank app in installments: the point's address on the phone leads to the
bound appointment's payment page, the client pays in the sandbox's app (15-0-4); the order is
marked as come by QR; the administrator's window, never reloaded, turns to paid; the point's
address asks the administrator again."""

import pytest
from playwright.sync_api import expect

from navbat.payments import qr
from navbat.payments.models import Channel, PaymentOrder, PointBinding
from tests.browser.session import log_in
from tests.browser.test_app_payment_flow import connected, phone  # noqa: F401 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pay_by_qr_in_the_app_in_installments(
    page,
    phone,  # noqa: F811 - the fixture
    live_server,
    salon_a,
    connected,  # noqa: F811 - the fixture
    tmp_path,
):
    appointment = salon_a.appointments[0]  # one haircut, 100 000 so'm
    point_url = qr.point_url(salon_a.checkout_point)
    log_in(page, live_server, salon_a.owner)
    page.goto(f"{live_server.url}/appointments/{appointment.pk}/")
    page.click("#pay-by-qr-button")
    page.wait_for_selector("#pay-by-qr-waiting")

    phone.goto(point_url)
    assert phone.url.startswith(f"{live_server.url}/pay/")
    assert phone.inner_text("#due") == "100 000 so'm"
    phone.click("#pay-app")
    phone.wait_for_url("**/sandbox/uzum/open-service?**")
    assert phone.inner_text("#amount") == "100 000 so'm"
    phone.click("label[for=source-INSTALLMENT]")
    phone.wait_for_selector("#plans", state="visible")
    phone.click("label[for=tariff-15-0-4]")
    phone.click("#pay-button")
    phone.wait_for_selector("#outcome[data-status=CONFIRMED]")
    phone.screenshot(path=str(tmp_path / "phone-app-paid.png"), full_page=True)

    order = PaymentOrder.objects.get()
    assert (order.method, order.state, order.channel, order.tariff) == (
        "app",
        "paid",
        Channel.QR,
        "15-0-4",
    )

    expect(page.locator("#pay-by-qr-paid")).to_be_visible(timeout=10_000)
    expect(page.locator("#payment-state")).to_have_text("Paid", timeout=10_000)
    assert page.inner_text("#due") == "0 so'm"
    page.screenshot(path=str(tmp_path / "window-paid.png"), full_page=True)
    assert PointBinding.objects.get().end_reason == "paid"

    phone.goto(point_url)
    assert phone.url == point_url
    expect(phone.locator("#qr-ask")).to_contain_text("Ask the administrator to set up your payment")
