"""The salon's view of online bookings in a real browser (nothing blocked by the CSP): the
journal marks a hold awaiting its prepayment and a prepaid booking; the window cancels the
prepaid one after asking whether the money goes back, and says it is on its way."""

from datetime import timedelta

import pytest

from navbat.booking.models import CancelledBy, OnlineBooking, Status
from navbat.kit.timeutil import local_today
from navbat.payments import services as payments
from navbat.uzum_sandbox import bank
from tests.booking.prepaid import (
    UZCARD,
    ask_thirty_percent,
    book,
    booked_in_the_past,
    widget_on,
)
from tests.browser.session import connect_sandbox_terminal, log_in
from tests.payments.jobs import RETURN_URL, waiting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CANCEL_JOB = "navbat.booking.tasks.refund_cancelled"


def test_the_journal_and_the_window_of_online_bookings(page, live_server, salon_a, tmp_path):
    widget_on(salon_a)
    ask_thirty_percent(salon_a)
    connect_sandbox_terminal(live_server=live_server, salon=salon_a)
    awaiting = booked_in_the_past(
        salon_a, ago=timedelta(minutes=5), starts_at=salon_a.at(11, 0, days=2), comment="Hi!"
    )
    prepaid = book(salon_a, starts_at=salon_a.at(15, 0, days=2), phone="+998905551230")
    order = payments.start_card_payment(
        link=prepaid.link, language="en", success_url=RETURN_URL, failure_url=RETURN_URL
    )
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    payments.refresh(order=order)

    log_in(page, live_server, salon_a.owner)
    day = (local_today("Asia/Tashkent") + timedelta(days=2)).isoformat()
    page.goto(f"{live_server.url}/journal/?date={day}")
    hold = page.locator(f"[data-appointment='{awaiting.appointment.pk}']")
    assert "online" in hold.get_attribute("class")
    assert "awaiting prepayment 30 000 so'm · 10 min left" in hold.inner_text()
    # Its own style: dashed, not the booked colour.
    assert hold.evaluate("e => getComputedStyle(e).borderTopStyle") == "dashed"
    paid = page.locator(f"[data-appointment='{prepaid.appointment.pk}']")
    assert "prepaid 30 000 so'm" in paid.inner_text()
    assert paid.locator(".src").inner_text().lower() == "online"
    page.screenshot(path=str(tmp_path / "journal-online.png"), full_page=True)

    paid.click()
    page.wait_for_selector("#online-booking")
    assert "Prepaid 30 000 so'm" in page.inner_text("#online-booking")
    # No answer given: the browser does not send it (the server refuses it too: the page
    # tests), and nothing changed.
    assert page.evaluate("document.querySelector('#cancel-online').checkValidity()") is False
    page.click("#cancel-online-button")
    prepaid.appointment.refresh_from_db()
    assert prepaid.appointment.status == Status.CONFIRMED
    page.check("#cancel-online input[value=refund]")
    page.click("#cancel-online-button")
    page.wait_for_selector("text=30 000 so'm goes back to the client.")
    assert "being refunded to the card automatically" in page.inner_text("#online-booking")
    page.screenshot(path=str(tmp_path / "window-cancelled.png"), full_page=True)
    extra = OnlineBooking.objects.get(appointment=prepaid.appointment)
    assert (extra.cancelled_by, extra.refund_decided) == (CancelledBy.SALON, 3_000_000)
    assert waiting(CANCEL_JOB).count() == 1
