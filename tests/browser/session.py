"""Logging a salon's person in, as the browser tests of the payment flows begin."""

from tests.conftest import PASSWORD


def log_in(page, live_server, user) -> None:
    """Log ``user`` in through the login form, with the interface in English."""
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    page.goto(f"{live_server.url}/journal/")
    page.fill("input[name=email]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url("**/journal/**")
