"""The online payments dashboard in a real browser under the Content-Security-Policy: the
period links move the whole page, the chart is drawn, and the CSV link follows the period."""

import pytest
from playwright.sync_api import expect

from tests.browser.session import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_switches_the_period_and_the_chart_and_csv_follow(page, live_server, salon_a):
    blocked = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    log_in(page, live_server, salon_a.owner)
    page.goto(f"{live_server.url}/payments/")

    expect(page.locator("#period-month")).to_have_attribute("aria-current", "page")
    expect(page.locator("#income-chart")).to_be_visible()
    expect(page.locator("#dash-paid")).to_have_text("0 so'm")

    page.click("#period-today")
    page.wait_for_url("**/payments/?period=today")

    expect(page.locator("#period-today")).to_have_attribute("aria-current", "page")
    expect(page.locator("#income-chart")).to_be_visible()
    expect(page.locator("#export-csv")).to_have_attribute(
        "href", "/payments/export.csv?period=today"
    )
    assert blocked == []
