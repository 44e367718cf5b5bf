"""The password pages in a real browser, under the Content-Security-Policy: the top bar's
"Change password" leads to the form, a new password works at the next login, and "Forgot
your password?" on the login page answers "Check your e-mail"."""

import pytest
from playwright.sync_api import expect

from tests.browser.session import log_in
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "a-new-salon-password-42"


def test_an_owner_changes_the_password_and_logs_in_with_the_new_one(page, live_server, salon_a):
    log_in(page, live_server, salon_a.owner)
    page.click("text=Change password")
    page.wait_for_url("**/accounts/password/")
    page.fill("input[name=old_password]", PASSWORD)
    page.fill("input[name=new_password1]", NEW_PASSWORD)
    page.fill("input[name=new_password2]", NEW_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/accounts/password/done/")
    expect(page.locator("main")).to_contain_text("Your password has been changed.")

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=email]", salon_a.owner.email)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/journal/**")
    page.wait_for_load_state("networkidle")


def test_forgot_password_answers_check_your_email(page, live_server, salon_a):
    page.context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    page.goto(f"{live_server.url}/accounts/login/")
    page.click("text=Forgot your password?")
    page.wait_for_url("**/accounts/password/reset/")
    page.fill("input[name=email]", salon_a.owner.email)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/accounts/password/reset/sent/")
    expect(page.locator("main")).to_contain_text("Check your e-mail")
    page.wait_for_load_state("networkidle")
