"""Finance → Online payments in a real browser under the Content-Security-Policy: the
connection and the checkout points are shown with their QR pictures; an administrator adds
a point, renames it and downloads its poster, which decodes to the point's address."""

import tempfile
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from playwright.sync_api import expect

from navbat.kit.tenancy import scoped
from navbat.salons.checkout_points import code_in_use
from navbat.salons.models import CheckoutPoint
from tests.browser.session import connect_sandbox_terminal, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_adds_renames_and_downloads_a_poster(page, live_server, salon_a, settings):
    settings.NAVBAT_PUBLIC_URL = live_server.url
    connect_sandbox_terminal(live_server=live_server, salon=salon_a)
    log_in(page, live_server, salon_a.admin)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server.url}/payments/")
    expect(page.locator("#connection-name")).to_have_text("Uzum Bank")
    expect(page.locator("#connection-methods")).to_have_text("Card payment")
    expect(page.locator(f"#point-{salon_a.checkout_point.pk} .qr-preview svg")).to_be_visible()

    page.fill("#point-add-name", "Till 2")
    page.click("#point-add button[type=submit]")
    page.wait_for_load_state("networkidle")
    point = scoped(CheckoutPoint, salon_a.business).get(name="Till 2")
    row = page.locator(f"#point-{point.pk}")
    expect(row.locator(".point-name")).to_have_text("Till 2")
    expect(row.locator(".qr-preview svg")).to_be_visible()

    row.locator("input[name=name]").fill("Kassa 2")
    row.locator("form[action$='/rename'] button").click()
    page.wait_for_load_state("networkidle")
    expect(page.locator(f"#point-{point.pk} .point-name")).to_have_text("Kassa 2")
    page.screenshot(path=Path(tempfile.gettempdir()) / "navbat-qr-points-page.png", full_page=True)

    with page.expect_download() as download:
        page.locator(f"#point-{point.pk} a[href$='poster-a4.pdf']").click()
    document = pypdfium2.PdfDocument(Path(download.value.path()).read_bytes())
    try:
        image = document[0].render(scale=150 / 72).to_pil()
    finally:
        document.close()
    code = code_in_use(point).code
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [f"{live_server.url}/q/{code}"]
    page.wait_for_load_state("networkidle")
