"""The desk's day, in a real browser: log in, open the journal, book, see it there."""

from datetime import timedelta

import pytest

from navbat.booking.models import Appointment
from navbat.kit.timeutil import local_today
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, live_server, user, language="en"):
    user.preferred_language = language  # login switches the pages to the user's language
    user.save(update_fields=["preferred_language"])
    page.goto(f"{live_server.url}/journal/")
    assert "/accounts/login/" in page.url
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/journal/**")


def test_book_two_services_and_a_product_for_a_new_client(page, live_server, salon_a, tmp_path):
    log_in(page, live_server, salon_a.owner)
    day = local_today("Asia/Tashkent") + timedelta(days=1)
    page.goto(f"{live_server.url}/journal/?date={day.isoformat()}")
    assert page.locator(".appt").count() == 2

    page.click("text=New appointment")
    # The form's page loaded, its scripts too: typed before htmx is there, the phone would
    # never be looked up (seen on a loaded machine).
    page.wait_for_selector("#id_client_phone")
    page.wait_for_load_state("load")
    page.fill("#id_client_phone", "+998 93 777 12 34")
    page.wait_for_selector("#client-lookup >> text=New client")
    page.fill("#id_client_name", "Browser Mijoz")
    page.select_option("#id_specialist", str(salon_a.specialists[0].pk))
    page.fill("#id_day", day.isoformat())
    page.fill("#id_start_time", "14:00")
    page.select_option("#id_lines-0-item", f"service:{salon_a.services[0].pk}")
    page.click("#add-line")
    page.select_option("#id_lines-1-item", f"service:{salon_a.services[1].pk}")
    page.fill("#id_lines-1-price", "250000")
    page.click("#add-line")
    page.select_option("#id_lines-2-item", f"product:{salon_a.products[0].pk}")
    page.fill("#id_lines-2-quantity", "2")
    page.click("#save-appointment")

    page.wait_for_selector("text=The appointment is saved.")
    # 100 000 + 250 000 + 2 × 50 000 = 450 000 so'm
    assert page.inner_text("#total") == "450 000 so'm"
    assert page.inner_text("#due") == "450 000 so'm"
    appointment = Appointment.objects.latest("id")
    assert appointment.client.name == "Browser Mijoz"
    assert appointment.lines.count() == 3

    page.click("text=← Journal")
    block = page.locator(f"[data-appointment='{appointment.pk}']")
    block.wait_for()
    assert "Browser Mijoz" in block.inner_text()
    assert "450 000 so'm" in block.inner_text()
    assert "14:00–15:30" in block.inner_text()
    assert page.locator(".appt").count() == 3
    page.screenshot(path=str(tmp_path / "journal.png"), full_page=True)

    block.click()
    page.wait_for_selector("#bill")
    assert page.locator("#bill tbody tr").count() == 3


def test_language_switch_is_remembered(page, live_server, salon_a):
    log_in(page, live_server, salon_a.owner)
    page.click("button[data-lang=ru]")
    page.wait_for_selector("html[lang=ru]")
    page.goto(f"{live_server.url}/journal/")
    assert page.get_attribute("html", "lang") == "ru"
    assert "Журнал" in page.inner_text("nav.mainnav")
    salon_a.owner.refresh_from_db()
    assert salon_a.owner.preferred_language == "ru"
