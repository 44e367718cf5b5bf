"""What the widget's browser tests share: a phone-sized browser, the widget on with a
required prepayment, and the client's way through the steps."""

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from navbat.booking.models import Appointment, BookingSettings
from navbat.kit.timeutil import local_today
from navbat.salons.models import Prepayment, PrepaymentAmount

TZ = "Asia/Tashkent"
PHONE_SIZE = {"width": 390, "height": 844}


def widget_with_prepayment(salon, *, percent: int = 30, **settings) -> BookingSettings:
    """The salon's widget on; its haircut asks ``percent`` % in advance, required."""
    haircut = salon.services[0]
    haircut.prepayment = Prepayment.REQUIRED
    haircut.prepayment_amount = PrepaymentAmount.PERCENT
    haircut.prepayment_value = percent
    haircut.save()
    settings.setdefault("min_notice_minutes", 0)
    return BookingSettings.objects.create(
        business=salon.business, location=salon.location, enabled=True, **settings
    )


@pytest.fixture
def phone(browser, live_server):
    """The client's phone (390×844), its own browser: nothing shared with the salon's."""
    context = browser.new_context(
        locale="en-US", viewport=PHONE_SIZE, is_mobile=True, has_touch=True, device_scale_factor=2
    )
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def fits_the_phone(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_SIZE["width"]


def choose_day(page, day) -> None:
    """Click ``day`` in the widget's calendar, turning to its month first if needed."""
    cell = page.locator(f"a.day.free[data-day='{day.isoformat()}']")
    if cell.count() == 0:
        page.click("#next-month")
        cell.wait_for()
    cell.click()


def book_two_services_with_anyone(
    page, live_server, salon, *, days: int = 2, at: str = "15:00", shots=None
):
    """Widget → two services → any specialist → a day → a time → name and phone → book;
    returns the day booked. Every step is an htmx swap of the page's content; ``shots``, a
    folder, gets a picture of each."""

    def shot(name):
        if shots is not None:
            page.screenshot(path=str(shots / f"{name}.png"), full_page=True)

    haircut, colouring = salon.services
    page.goto(f"{live_server.url}/book/{salon.location.public_slug}/")
    page.wait_for_load_state("load")  # htmx is there: the steps swap in place
    assert page.inner_text("#salon-name") == salon.business.name
    page.click(f"li[data-service='{haircut.pk}'] a[data-action=add]")
    page.wait_for_selector(f"li[data-service='{haircut.pk}'].chosen")
    page.click(f"li[data-service='{colouring.pk}'] a[data-action=add]")
    page.wait_for_selector(f"li[data-service='{colouring.pk}'].chosen")
    assert page.inner_text("#summary-duration") == "1 h 30 min"
    assert fits_the_phone(page)
    shot("1-services")
    page.click("#next")
    page.wait_for_selector("#any-specialist")
    shot("2-specialist")
    page.click("#any-specialist")
    page.wait_for_selector("#calendar")
    shot("3-day")
    day = local_today(TZ) + timedelta(days=days)
    choose_day(page, day)
    page.wait_for_selector("#times")
    shot("4-time")
    page.click(f"a.time[data-time='{at}']")
    page.wait_for_selector("#details-form")
    assert page.inner_text("#summary-specialist") == "Any specialist"
    page.fill("#id_name", "Malika Yusupova")
    page.fill("#id_phone", "+998 93 111 22 33")
    page.fill("#id_comment", "First visit")
    assert fits_the_phone(page)
    shot("5-details")
    page.click("#book")
    page.wait_for_url("**/book/b/**")
    return day


def latest_online_booking() -> Appointment:
    return Appointment.objects.filter(source="online").latest("id")


def assert_journal_shows_online_booking(page, live_server, appointment, *, prepaid: str) -> None:
    """The salon's journal on the booking's day shows it as an online booking with its
    prepayment (``prepaid``: the amount as the page writes it)."""
    day = appointment.starts_at.astimezone(ZoneInfo(TZ)).date()
    page.goto(f"{live_server.url}/journal/?date={day.isoformat()}")
    block = page.locator(f"[data-appointment='{appointment.pk}']")
    block.wait_for()
    assert "Malika Yusupova" in block.inner_text()
    assert "online" in block.get_attribute("class").split()
    assert block.locator(".src").text_content() == "online"
    assert block.locator(".prepaid").text_content() == f"prepaid {prepaid}"
