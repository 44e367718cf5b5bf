"""F6 with the Uzum Bank app in installments, on a phone: the widget books two services with
any specialist, the booking page asks the prepayment, the client pays it in the sandbox's
app (15-0-4), comes back through the payment page to their booking page, confirmed and
prepaid; the salon's journal shows the booking."""

import pytest

from navbat.booking.models import OnlineBooking, Status
from navbat.payments.models import PaymentOrder
from tests.browser.session import log_in
from tests.browser.test_app_payment_flow import connected  # noqa: F401 - the fixture
from tests.browser.widget_session import (
    assert_journal_shows_online_booking,
    book_two_services_with_anyone,
    latest_online_booking,
    phone,  # noqa: F401 - the fixture
    widget_with_prepayment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_client_books_online_and_prepays_in_the_app_in_installments(
    page,
    phone,  # noqa: F811 - the fixture
    live_server,
    salon_a,
    connected,  # noqa: F811 - the fixture
    tmp_path,
):
    widget_with_prepayment(salon_a)
    book_two_services_with_anyone(phone, live_server, salon_a, at="11:00")
    appointment = latest_online_booking()
    online = OnlineBooking.objects.get(appointment=appointment)
    assert appointment.status == Status.AWAITING_PAYMENT
    assert phone.inner_text("#due") == "30 000 so'm"

    phone.click("#pay")
    phone.wait_for_url("**/pay/**")
    assert phone.inner_text("#due") == "30 000 so'm"
    assert phone.inner_text("#pay-app") == "Pay in the Uzum Bank app"
    phone.click("#pay-app")
    phone.wait_for_url("**/sandbox/uzum/open-service?**")
    assert phone.inner_text("#amount") == "30 000 so'm"
    phone.click("label[for=source-INSTALLMENT]")
    phone.wait_for_selector("#plans", state="visible")
    phone.click("label[for=tariff-15-0-4]")
    phone.screenshot(path=str(tmp_path / "app.png"), full_page=True)
    phone.click("#pay-button")
    phone.wait_for_selector("#outcome[data-status=CONFIRMED]")
    assert "30 000 so'm" in phone.inner_text("#outcome")

    # Back from the app to the payment page: the prepayment is paid, the rest is for later.
    phone.click("#back-button")
    phone.wait_for_url("**/pay/**")
    assert phone.inner_text("#paid") == "30 000 so'm"
    phone.click("#back-to-payable")
    phone.wait_for_url(f"{live_server.url}/book/b/{online.manage_token}/")
    assert phone.inner_text("#status-text") == "Confirmed"
    assert phone.inner_text("#paid") == "30 000 so'm"
    phone.screenshot(path=str(tmp_path / "booked-paid.png"), full_page=True)

    appointment.refresh_from_db()
    assert (appointment.status, appointment.hold_until) == (Status.CONFIRMED, None)
    order = PaymentOrder.objects.get()
    assert (order.method, order.state, order.paid_amount, order.card_kind, order.tariff) == (
        "app",
        "paid",
        3_000_000,
        "installment",
        "15-0-4",
    )
    assert order.channel == "booking"

    log_in(page, live_server, salon_a.owner)
    assert_journal_shows_online_booking(page, live_server, appointment, prepaid="30 000 so'm")
