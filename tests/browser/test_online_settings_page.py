"""The "Online booking" page and a specialist's photo in a real browser, under the
Content-Security-Policy: an administrator turns the widget on, copies its snippet, downloads
its QR (which decodes to the widget), sees a phone code waiting; a photo bigger than the
server takes is made smaller in the browser and stored, a file that is no picture is
refused there with the page's message."""

import io
import os
import tempfile
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from navbat.booking import phone_checks
from navbat.booking.models import BookingSettings
from navbat.salons.models import Specialist
from tests.browser.session import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_turns_the_widget_on_and_takes_its_snippets(
    page, live_server, salon_a, settings
):
    settings.NAVBAT_PUBLIC_URL = live_server.url
    log_in(page, live_server, salon_a.admin)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.click("nav.mainnav >> text=Online booking")
    page.wait_for_url(f"**/online-booking/{salon_a.location.pk}/")
    expect(page.locator("#widget-state")).to_have_text("Off")

    page.check("#id_enabled")
    page.select_option("#id_slot_step_minutes", "30")
    page.fill("#id_min_notice_minutes", "90")
    page.select_option("#id_refund_policy", "always")
    page.click("#booking-settings-form button[type=submit]")
    expect(page.locator("#widget-state")).to_have_text("On")
    saved = BookingSettings.objects.get(location=salon_a.location)
    assert (saved.enabled, saved.slot_step_minutes, saved.min_notice_minutes) == (True, 30, 90)
    assert (saved.refund_policy, saved.hold_minutes) == ("always", 15)

    url = f"{live_server.url}/book/{salon_a.location.public_slug}/"
    expect(page.locator("#widget-url")).to_have_value(url)
    expect(page.locator("#widget-qr svg")).to_be_visible()
    page.click("button[data-copy=button-snippet]")
    expect(page.locator("button[data-copy=button-snippet]")).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == (
        f'<script src="{live_server.url}/static/navbat/book-button.js" '
        f'data-navbat-book="{url}" async></script>'
    )

    with page.expect_download() as download:
        page.click("a[href$='/qr.png']")
    image = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert [result.text for result in zxingcpp.read_barcodes(image)] == [url]

    check = phone_checks.ask_code(location=salon_a.location, phone="+998905551234")
    page.reload()
    expect(page.locator("#phone-code-list .phone-code")).to_have_text(check.code)
    # Kept to be looked at.
    page.screenshot(path=Path(tempfile.gettempdir()) / "navbat-online-booking.png", full_page=True)


def bmp(size=(600, 400)) -> bytes:
    """An uncompressed picture: large as a file, small once a JPEG."""
    image = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="BMP")
    return out.getvalue()


def test_a_big_photo_is_made_smaller_in_the_browser_and_stored(
    page, live_server, salon_a, settings
):
    settings.NAVBAT_MAX_REQUEST_BYTES = 216 * 1024  # photos up to 200 KB in one request
    specialist = salon_a.specialists[1]
    data = bmp()
    assert len(data) > 600 * 1024
    log_in(page, live_server, salon_a.owner)
    page.goto(f"{live_server.url}/catalog/specialists/{specialist.pk}/")
    expect(page.locator("#no-photo")).to_be_visible()
    page.set_input_files(
        "#id_photo-photo", files=[{"name": "big.bmp", "mimeType": "image/bmp", "buffer": data}]
    )
    # photo.js put a JPEG within the limit in its place (and says so on the input; not
    # wait_for_function: Playwright evaluates its string with eval, which the policy refuses).
    expect(page.locator("#id_photo-photo[data-resized]")).to_have_count(1)
    assert page.evaluate("document.getElementById('id_photo-photo').files[0].type") == "image/jpeg"
    assert page.evaluate("document.getElementById('id_photo-photo').files[0].size") <= 200 * 1024
    page.click("#photo-form button[type=submit]")
    expect(page.locator("text=The photo is saved.")).to_be_visible()
    expect(page.locator("#specialist-photo")).to_be_visible()
    stored = Specialist.objects.get(pk=specialist.pk)
    image = Image.open(io.BytesIO(bytes(stored.photo)))
    assert (image.format, image.size) == ("JPEG", (256, 256))


def test_a_big_file_that_is_no_picture_is_refused_in_the_browser(
    page, live_server, salon_a, settings
):
    settings.NAVBAT_MAX_REQUEST_BYTES = 216 * 1024
    specialist = salon_a.specialists[1]
    log_in(page, live_server, salon_a.owner)
    page.goto(f"{live_server.url}/catalog/specialists/{specialist.pk}/")
    page.set_input_files(
        "#id_photo-photo",
        files=[{"name": "big.jpg", "mimeType": "image/jpeg", "buffer": os.urandom(300 * 1024)}],
    )
    expect(page.locator("ul.photo-size")).to_have_text("The file is too big: at most 0.2 MB.")
    assert page.evaluate("document.getElementById('id_photo-photo').files.length") == 0
    assert Specialist.objects.get(pk=specialist.pk).photo is None
