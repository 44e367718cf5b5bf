"""F6 end to end on a phone (390×844), over real HTTP to the sandbox bank: the salon's widget
→ two services → any specialist → a time → name and phone → the booking page asks the
prepayment within the hold → paid by card on the bank's page → back to the booking page,
confirmed and prepaid → the salon's journal shows the booking."""

from zoneinfo import ZoneInfo

import pytest

from navbat.booking.models import OnlineBooking, Status
from navbat.payments.models import PaymentOrder
from tests.browser.session import connect_sandbox_terminal, log_in
from tests.browser.widget_session import (
    TZ,
    assert_journal_shows_online_booking,
    book_two_services_with_anyone,
    fits_the_phone,
    latest_online_booking,
    phone,  # noqa: F401 - the fixture
    widget_with_prepayment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

UZCARD = "8600 0000 0000 0018"


def test_a_client_books_online_and_prepays_by_card(
    page,
    phone,  # noqa: F811 - the fixture
    live_server,
    salon_a,
    settings,
    tmp_path,
):
    settings.NAVBAT_PUBLIC_URL = live_server.url
    connect_sandbox_terminal(live_server=live_server, salon=salon_a)
    widget_with_prepayment(salon_a)

    book_two_services_with_anyone(phone, live_server, salon_a, shots=tmp_path)
    appointment = latest_online_booking()
    online = OnlineBooking.objects.get(appointment=appointment)
    assert appointment.status == Status.AWAITING_PAYMENT
    assert phone.url == f"{live_server.url}/book/b/{online.manage_token}/?new=1"
    assert phone.inner_text("#status-title") == "Pay the prepayment to keep this time"
    until = appointment.hold_until.astimezone(ZoneInfo(TZ))
    assert phone.inner_text("#hold").startswith(f"Pay 30 000 so'm by {until:%H:%M} ")
    assert "(15 minutes left)" in phone.inner_text("#hold")
    assert phone.inner_text("#due") == "30 000 so'm"
    assert phone.inner_text("#total") == "300 000 so'm"
    assert fits_the_phone(phone)
    phone.screenshot(path=str(tmp_path / "booked-awaiting.png"), full_page=True)

    phone.click("#pay")
    phone.wait_for_url("**/pay/**")
    assert phone.inner_text("#due") == "30 000 so'm"
    phone.click("#pay-card")
    phone.wait_for_url("**/sandbox/uzum/pay/**")
    assert phone.inner_text("#amount") == "30 000 so'm"
    phone.fill("#card_number", UZCARD)
    phone.fill("#expiry", "12/30")
    phone.fill("#cvv", "123")
    phone.click("#pay-button")
    phone.wait_for_selector("#back-button")
    phone.click("#back-button")
    phone.wait_for_selector("#receipt")
    assert phone.inner_text("#outcome-title") == "Payment completed successfully"
    assert phone.inner_text("#amount-paid") == "30 000 so'm"

    # The confirmation: the client's booking page, confirmed and prepaid.
    phone.click("#back-to-payable")
    phone.wait_for_url(f"{live_server.url}/book/b/{online.manage_token}/")
    assert phone.inner_text("#status-text") == "Confirmed"
    assert phone.inner_text("#paid") == "30 000 so'm"
    assert phone.inner_text("#due") == "270 000 so'm"
    assert phone.inner_text("#specialist") in ("Specialist A0", "Specialist A1")
    assert fits_the_phone(phone)
    phone.screenshot(path=str(tmp_path / "booked-paid.png"), full_page=True)

    appointment.refresh_from_db()
    assert (appointment.status, appointment.hold_until, appointment.prepayment) == (
        Status.CONFIRMED,
        None,
        3_000_000,
    )
    order = PaymentOrder.objects.get()
    assert (order.state, order.paid_amount, order.channel) == ("paid", 3_000_000, "booking")

    log_in(page, live_server, salon_a.admin)
    assert_journal_shows_online_booking(page, live_server, appointment, prepaid="30 000 so'm")
    page.screenshot(path=str(tmp_path / "journal.png"), full_page=True)
