"""A client cancels an online booking from their booking page, on a phone: inside the
salon's refund window the page says the prepayment goes back before the click, and the
refund reaches the bank (the job, over real HTTP to the sandbox); outside it the page says
it does not, and nothing is refunded."""

from datetime import time

import pytest

from navbat.booking import online
from navbat.booking.models import CancelledBy, OnlineBooking, Status
from navbat.kit.timeutil import local_datetime
from navbat.payments.models import PaymentOrder, Refund
from tests.booking.test_payment_link import pay_online
from tests.browser.session import connect_sandbox_terminal
from tests.browser.widget_session import (
    TZ,
    fits_the_phone,
    phone,  # noqa: F401 - the fixture
    widget_with_prepayment,
)
from tests.payments.jobs import run_due

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REFUND_JOB = "navbat.booking.tasks.refund_cancelled"


def prepaid_booking(salon, *, days: int):
    """An online booking ``days`` ahead at 15:00 whose 30 % prepayment was paid by card."""
    from datetime import timedelta

    from navbat.kit.timeutil import local_today

    booked = online.book_online(
        location=salon.location,
        service_ids=[salon.services[0].pk],
        specialist_id=None,
        starts_at=local_datetime(local_today(TZ) + timedelta(days=days), time(15), TZ),
        name="Malika Yusupova",
        phone="+998 93 111 22 33",
        language="en",
    )
    order = pay_online(salon, booked.appointment)
    assert (order.state, order.paid_amount) == ("paid", 3_000_000)
    return booked, order


@pytest.fixture
def connected(live_server, salon_a, settings):
    settings.NAVBAT_PUBLIC_URL = live_server.url
    return connect_sandbox_terminal(live_server=live_server, salon=salon_a)


def cancel_on_the_page(client_page, live_server, booked) -> str:
    client_page.goto(f"{live_server.url}/book/b/{booked.online.manage_token}/")
    assert client_page.inner_text("#status-text") == "Confirmed"
    assert client_page.inner_text("#paid") == "30 000 so'm"
    said = client_page.inner_text("#cancel-money")
    client_page.click("#cancel")
    client_page.wait_for_selector("#done")
    assert client_page.inner_text("#status-title") == "The booking is cancelled"
    assert client_page.inner_text("#cancelled-by") == "You cancelled this booking."
    assert fits_the_phone(client_page)
    return said


def test_cancelling_inside_the_refund_window_gives_the_prepayment_back(
    phone,  # noqa: F811 - the fixture
    live_server,
    salon_a,
    connected,
    tmp_path,
):
    widget_with_prepayment(salon_a)  # refunds up to 24 h before, cut-off 24 h
    booked, order = prepaid_booking(salon_a, days=3)
    said = cancel_on_the_page(phone, live_server, booked)
    assert said == "If you cancel now, 30 000 so'm is given back to you."
    assert phone.inner_text("#refund") == (
        "30 000 so'm is being given back to you, the way it was paid."
    )
    phone.screenshot(path=str(tmp_path / "cancelled-refunded.png"), full_page=True)
    row = OnlineBooking.objects.get()
    assert (row.cancelled_by, row.refund_decided) == (CancelledBy.CLIENT, 3_000_000)
    assert row.appointment.status == Status.CANCELLED

    assert run_due(REFUND_JOB) == 1
    refund = Refund.objects.get()
    assert (refund.amount, refund.state, refund.automatic) == (3_000_000, "done", True)
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == ("refunded", 3_000_000)


def test_cancelling_outside_the_refund_window_keeps_the_prepayment(
    phone,  # noqa: F811 - the fixture
    live_server,
    salon_a,
    connected,
    tmp_path,
):
    widget_with_prepayment(salon_a, refund_before_hours=24 * 7)
    booked, order = prepaid_booking(salon_a, days=3)
    said = cancel_on_the_page(phone, live_server, booked)
    assert said == (
        "If you cancel now, the 30 000 so'm paid is not given back. If you cancel at least "
        "168 hours before the visit, the prepayment is given back."
    )
    assert phone.inner_text("#refund") == (
        "The 30 000 so'm paid is not given back under the salon's terms."
    )
    phone.screenshot(path=str(tmp_path / "cancelled-kept.png"), full_page=True)
    row = OnlineBooking.objects.get()
    assert (row.cancelled_by, row.refund_decided) == (CancelledBy.CLIENT, 0)
    assert run_due(REFUND_JOB) == 0
    assert Refund.objects.count() == 0
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == ("paid", 0)
    assert PaymentOrder.objects.count() == 1
