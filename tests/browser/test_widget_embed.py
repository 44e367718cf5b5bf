"""The widget on the salon's own site (F6): the floating button script opens it in a frame
over the page, in the page's language; the steps work inside the frame (it may be framed
by any site; nothing there needs a cookie); the close button and Escape close it."""

from datetime import time, timedelta

import pytest

from navbat.booking.models import OnlineBooking
from navbat.kit.timeutil import local_datetime, local_today
from tests.booking.widget_helpers import turn_on_widget
from tests.browser.widget_session import PHONE_SIZE, TZ

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def salon_site(live_server, widget_url: str, lang: str) -> str:
    return f"""<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Salon A</title></head>
<body><h1>Salon A</h1><p>Welcome.</p>
<script src="{live_server.url}/static/navbat/book-button.js"
        data-navbat-book="{widget_url}" async></script>
</body></html>"""


def test_the_floating_button_opens_the_widget_in_a_frame(browser, live_server, salon_a):
    turn_on_widget(salon_a)
    widget_url = f"{live_server.url}/book/{salon_a.location.public_slug}/"
    context = browser.new_context(viewport=PHONE_SIZE, is_mobile=True, has_touch=True)
    # The salon's test site is drawn by the browser's router, so Chrome counts it as on the
    # internet and asks before it reaches this machine's navbat: the permission a real site
    # reaching navbat on the internet never needs.
    context.grant_permissions(["local-network-access"])
    context.set_default_timeout(15_000)
    page = context.new_page()
    # The salon's site: another site than navbat's (127.0.0.1, not localhost), drawn by the
    # browser's router. The browser sends navbat's frame no cookie from there.
    salon_site_url = live_server.url.replace("localhost", "127.0.0.1") + "/salon-site.html"
    assert salon_site_url.startswith("http://127.0.0.1:")
    page.route(
        salon_site_url,
        lambda route: route.fulfill(
            status=200, content_type="text/html", body=salon_site(live_server, widget_url, "ru")
        ),
    )
    page.goto(salon_site_url)
    button = page.locator("[data-navbat-book-button]")
    assert button.inner_text() == "Записаться онлайн"
    # Escape (the focus on the salon's page, on the close button) closes it.
    button.click()
    page.locator("[data-navbat-book-overlay]").wait_for()
    page.keyboard.press("Escape")
    assert page.locator("[data-navbat-book-overlay]").count() == 0
    button.click()
    frame_element = page.locator("iframe[data-navbat-book-frame]")
    assert frame_element.get_attribute("src") == widget_url + "?embed=1&lang=ru"
    frame = page.frame_locator("iframe[data-navbat-book-frame]")
    frame.locator("#salon-name").wait_for()
    assert frame.locator("html").get_attribute("lang") == "ru"
    assert frame.locator("#salon-name").inner_text() == "Salon A"
    # A step inside the frame: the language and the frame travel with the address.
    haircut = salon_a.services[0]
    frame.locator(f"li[data-service='{haircut.pk}'] a[data-action=add]").click()
    frame.locator(f"li[data-service='{haircut.pk}'].chosen").wait_for()
    frame.locator("#next").click()
    frame.locator("#any-specialist").wait_for()
    assert "embed=1" in frame.locator("#any-specialist").get_attribute("href")
    assert "lang=ru" in frame.locator("#any-specialist").get_attribute("href")
    page.locator("[data-navbat-book-close]").click()
    assert page.locator("[data-navbat-book-overlay]").count() == 0

    # Booking from the frame: the steps, then "Book" leaves the frame for the booking page.
    button.click()
    frame = page.frame_locator("iframe[data-navbat-book-frame]")
    frame.locator(f"li[data-service='{haircut.pk}'] a[data-action=add]").click()
    frame.locator("#next").click()
    frame.locator("#any-specialist").wait_for()
    frame.locator("#any-specialist").click()
    frame.locator("#calendar").wait_for()
    day = local_today(TZ) + timedelta(days=2)
    if frame.locator(f"a.day.free[data-day='{day.isoformat()}']").count() == 0:
        frame.locator("#next-month").click()
    frame.locator(f"a.day.free[data-day='{day.isoformat()}']").click()
    frame.locator("#times").wait_for()
    frame.locator("a.time[data-time='15:00']").click()
    frame.locator("#details-form").wait_for()
    frame.locator("#id_name").fill("Malika Yusupova")
    frame.locator("#id_phone").fill("+998 93 111 22 33")
    frame.locator("#book").click()
    page.wait_for_url(f"{live_server.url}/book/b/**")
    assert page.locator("html").get_attribute("lang") == "ru"
    booked = OnlineBooking.objects.get()
    assert page.url == f"{live_server.url}/book/b/{booked.manage_token}/?new=1"
    assert booked.language == "ru"
    assert booked.appointment.starts_at == local_datetime(day, time(15), TZ)
    context.close()
