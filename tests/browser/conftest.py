"""Playwright drives Debian's chromium (/usr/bin/chromium); browsers are never downloaded."""

import os
import shutil

import pytest

# Playwright's sync API keeps an event loop in the test thread; the ORM calls the fixtures
# make there are still synchronous, so Django's async guard must stand aside in this folder.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("NAVBAT_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"chromium not found at {CHROMIUM}: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield instance
        instance.close()


# Reports each Content-Security-Policy violation on the console (Chrome also logs its own
# "Refused to ..." line); init scripts are injected by the browser, outside the page's policy.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(autouse=True)
def csp_violations(browser, monkeypatch):
    """Every browser context a test opens is watched: anything the Content-Security-Policy
    blocked fails the test. A test that provokes a violation on purpose empties the list."""
    violations = []
    new_context = browser.new_context

    def record(message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("CSP violation: "):
            violations.append(text)

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.add_init_script(REPORT_VIOLATIONS)
        context.on("console", record)
        return context

    monkeypatch.setattr(browser, "new_context", watched_context)
    yield violations
    assert violations == [], "\n".join(violations)


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    context.add_cookies([{"name": "django_language", "value": "en", "url": live_server.url}])
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
