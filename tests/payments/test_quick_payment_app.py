"""The Quick Payment page offers "Pay in the Uzum Bank app" (issue 5, part 2): the exact
open-service link (sandbox or Uzum's host, the connection's attribute name, the amount due,
the way back), the same link as a QR for a large screen, what the app will offer, when the
button is not offered at all, and the watch the page polls until the app has paid."""

import html
import re
import uuid
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from django.utils import translation

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.finance.models import Transaction
from navbat.payments.links import qr_svg
from navbat.payments.models import PaymentOrder
from navbat.uzum import services as uzum
from navbat.uzum.models import MerchantTransaction
from tests.uzum.merchant import LOGIN, PASSWORD, SERVICE_ID, App, link_of
from tests.uzum.merchant import connect_app as connect_app_at_root

pytestmark = pytest.mark.django_db

ROOT = "http://testserver-root"
UZUM_HOST = "https://open.uzumbank.example/open-service"
WITH_INSTALLMENTS = (
    "In the app: a card, the Uzum balance or installments (pay in parts). "
    "The salon receives the whole amount at once."
)
WITHOUT_INSTALLMENTS = "In the app: a card or the Uzum balance."
DUE = 10_000_000  # the first appointment of a built salon: one haircut, 100 000 so'm


@pytest.fixture
def root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT
    settings.NAVBAT_UZUM_OPEN_SERVICE_URL = UZUM_HOST
    return settings


def connect_app(connect_uzum, salon, **options):
    # The validator wants a dotted host for the bank; the bank answers in process anyway.
    options.setdefault("checkout_base_url", "http://127.0.0.1:8000/sandbox/uzum/checkout")
    return connect_app_at_root(connect_uzum, salon, **options)


def page_of(client, link) -> str:
    response = client.get(f"/pay/{link.token}")
    assert response.status_code == 200
    return response.content.decode()


def app_href(page: str) -> str | None:
    found = re.findall(r'id="pay-app" href="([^"]*)"', page)
    assert len(found) <= 1
    return html.unescape(found[0]) if found else None


def app_qr(page: str) -> str:
    """The markup inside ``#app-qr`` up to its explanation."""
    section = page.split('id="app-qr">', 1)[1]
    return section.split('<p class="muted">', 1)[0].strip()


def methods_sentence(page: str) -> str:
    found = re.findall(r'id="app-methods">([^<]*)<', page)
    assert len(found) == 1
    return html.unescape(found[0])


def link_url(link) -> str:
    return f"{ROOT}/pay/{link.token}"


def expected_query(link, *, attribute="order", amount=DUE, service_id=SERVICE_ID) -> list:
    return [
        ("serviceId", str(service_id)),
        (attribute, link.code),
        ("amount", str(amount)),
        ("redirectUrl", link_url(link)),
    ]


def connect_elsewhere(salon, environment: str, **options):
    """A connection to Uzum's own hosts: the keys are not checked (no bank in the test)."""
    return uzum.connect(
        business=salon.business,
        environment=environment,
        terminal_id=str(uuid.uuid4()),
        api_key="test-api-key",
        merchant_service_id=SERVICE_ID,
        merchant_login=LOGIN,
        merchant_password=PASSWORD,
        app_payments=True,
        installments=True,
        author=salon.owner,
        verify=False,
        **options,
    )


def pay_in_app(connection, link, *, source="INSTALLMENT", tariff="15-0-4"):
    app = App(connection)
    trans_id = uuid.uuid4()
    assert app.check(link.code).status == 200
    assert app.create(link.code, DUE, trans_id).body["status"] == "CREATED"
    confirmed = app.confirm(trans_id, source=source, tariff=tariff)
    assert (confirmed.status, confirmed.body["status"]) == (200, "CONFIRMED")
    return trans_id


def nothing_recorded(salon) -> None:
    assert PaymentOrder.objects.count() == 0
    assert MerchantTransaction.objects.count() == 0
    assert Transaction.objects.filter(business=salon.business).count() == 0


# ---- the link ----------------------------------------------------------------------------


def test_on_the_sandbox_the_button_opens_the_sandbox_app_for_this_link(
    client, salon_a, root, connect_uzum
):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)

    page = page_of(client, link)

    href = app_href(page)
    parts = urlsplit(href)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "http",
        "testserver-root",
        "/sandbox/uzum/open-service",
    )
    assert parse_qsl(parts.query, strict_parsing=True) == expected_query(link)
    # The way back travels whole, encoded, so the app does not take it for its own parameters.
    assert parts.query.endswith("&redirectUrl=" + quote(link_url(link), safe=""))
    assert f"{ROOT}/pay/" not in parts.query
    # The card stays the first offer; the app is the second.
    assert 'id="pay-card">Pay by card<' in page
    assert '<a class="big secondary" id="pay-app"' in page
    assert ">Pay in the Uzum Bank app</a>" in page
    nothing_recorded(salon_a)


def test_the_qr_holds_the_same_link_for_a_large_screen(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)

    page = page_of(client, link)

    href = app_href(page)
    qr = app_qr(page)
    assert qr.startswith("<svg") and qr.endswith("</svg>")
    assert qr.count("<svg") == 1
    # The QR is a pure function of the URL: the same markup is the same link encoded.
    assert qr == qr_svg(href, scale=3)
    assert qr != qr_svg(href.replace(f"amount={DUE}", f"amount={DUE + 100}"), scale=3)
    assert "Scan this code with your phone to pay in the Uzum Bank app." in page


def test_the_page_watches_for_the_app_payment(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)

    page = page_of(client, link)

    watch = re.findall(r'<div id="app-watch" ([^>]*)>', page)
    assert watch == [
        f'hx-get="/pay/{link.token}/watch" hx-trigger="every 3s" hx-swap="none" aria-hidden="true"'
    ]
    assert "htmx.min.js" in page


def test_with_installments_the_page_names_them(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a, installments=True)
    page = page_of(client, link_of(salon_a))
    assert methods_sentence(page) == WITH_INSTALLMENTS


def test_without_installments_the_page_does_not_promise_them(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a, installments=False)
    link = link_of(salon_a)

    page = page_of(client, link)

    assert methods_sentence(page) == WITHOUT_INSTALLMENTS
    assert "installments" not in page.lower()
    # Installments are the app's business: the link itself is the same.
    assert parse_qsl(urlsplit(app_href(page)).query) == expected_query(link)


def test_without_app_payments_there_is_no_app_button_nor_watch(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a, app_payments=False)
    link = link_of(salon_a)

    page = page_of(client, link)

    assert app_href(page) is None
    for absent in ('id="pay-app"', 'id="app-watch"', 'id="app-qr"', "<svg", "/watch"):
        assert absent not in page
    assert 'id="pay-card">Pay by card<' in page
    assert 'id="no-methods"' not in page


def test_an_app_only_connection_makes_the_app_the_main_button(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a, card_payments=False)
    link = link_of(salon_a)

    page = page_of(client, link)

    assert '<a class="big" id="pay-app"' in page
    assert 'id="pay-card"' not in page
    assert 'id="card-form"' not in page
    assert 'id="no-methods"' not in page
    assert parse_qsl(urlsplit(app_href(page)).query) == expected_query(link)


@pytest.mark.parametrize("environment", ["test", "production"])
def test_off_the_sandbox_the_button_opens_uzums_app_host(client, salon_a, root, environment):
    connect_elsewhere(salon_a, environment)
    link = link_of(salon_a)

    page = page_of(client, link)

    href = app_href(page)
    base, query = href.split("?", 1)
    assert base == UZUM_HOST
    assert parse_qsl(query, strict_parsing=True) == expected_query(link)
    assert "/sandbox/" not in href
    assert app_qr(page) == qr_svg(href, scale=3)


def test_the_connections_attribute_name_is_the_parameter_name(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a, payment_attribute="invoice")
    link = link_of(salon_a)

    page = page_of(client, link)

    query = parse_qsl(urlsplit(app_href(page)).query, strict_parsing=True)
    assert query == expected_query(link, attribute="invoice")
    assert "order" not in dict(query)


def test_the_link_carries_what_is_still_due(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=3_000_000)
    link = link_of(salon_a)

    page = page_of(client, link)

    assert 'id="due">70 000 so&#x27;m<' in page
    query = parse_qsl(urlsplit(app_href(page)).query, strict_parsing=True)
    assert query == expected_query(link, amount=7_000_000)


@pytest.mark.parametrize(
    ("due", "offered"),
    [(99_900, False), (100_000, True)],  # 999 so'm and 1 000 so'm, the app's minimum
)
def test_the_app_is_offered_from_one_thousand_som_due(
    client, salon_a, root, connect_uzum, due, offered
):
    connect_app(connect_uzum, salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=DUE - due)
    link = link_of(salon_a)

    page = page_of(client, link)

    href = app_href(page)
    if offered:
        assert parse_qsl(urlsplit(href).query) == expected_query(link, amount=due)
        assert 'id="app-watch"' in page
    else:
        assert href is None
        assert 'id="app-watch"' not in page
        assert 'id="app-qr"' not in page
    # The card takes any amount: it stays on offer either way.
    assert 'id="pay-card">Pay by card<' in page


def test_a_paid_link_offers_no_app_button(client, salon_a, root, connect_uzum):
    connection = connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    pay_in_app(connection, link)

    page = page_of(client, link)

    assert 'id="outcome-title">Payment completed successfully<' in page
    assert 'id="amount-paid">100 000 so&#x27;m<' in page
    assert 'id="card-used">Installments<' in page
    assert app_href(page) is None
    for absent in ('id="pay-app"', 'id="app-watch"', 'id="app-qr"', 'id="pay-card"'):
        assert absent not in page


def test_a_link_paid_at_the_desk_offers_no_app_button(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=DUE)
    link = link_of(salon_a)

    page = page_of(client, link)

    assert 'id="outcome-title">Payment completed successfully<' in page
    assert app_href(page) is None
    assert 'id="app-watch"' not in page


# ---- the watch ---------------------------------------------------------------------------


def test_the_watch_says_nothing_while_the_link_is_due(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)

    response = client.get(f"/pay/{link.token}/watch")

    assert response.status_code == 204
    assert response.content == b""
    assert "HX-Refresh" not in response
    nothing_recorded(salon_a)


def test_the_watch_says_nothing_while_the_app_has_only_created(client, salon_a, root, connect_uzum):
    connection = connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    created = App(connection).create(link.code, DUE)
    assert created.body["status"] == "CREATED"

    response = client.get(f"/pay/{link.token}/watch")

    assert response.status_code == 204
    assert "HX-Refresh" not in response
    order = PaymentOrder.objects.get()
    assert (order.method, order.state, order.paid_amount) == ("app", "pending", 0)
    assert Transaction.objects.filter(business=salon_a.business).count() == 0


def test_the_watch_reloads_the_page_once_the_app_has_paid(client, salon_a, root, connect_uzum):
    connection = connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    assert client.get(f"/pay/{link.token}/watch").status_code == 204
    pay_in_app(connection, link)

    response = client.get(f"/pay/{link.token}/watch")

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    assert response.content == b""
    # Asking again changes nothing: still one order, one income, one fee.
    assert client.get(f"/pay/{link.token}/watch")["HX-Refresh"] == "true"
    assert PaymentOrder.objects.count() == 1
    assert Transaction.objects.filter(business=salon_a.business).count() == 2


def test_the_watch_reloads_a_page_whose_visit_was_cancelled(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    cancel_appointment(appointment=salon_a.appointments[0])

    response = client.get(f"/pay/{link.token}/watch")

    assert response.status_code == 200
    assert response["HX-Refresh"] == "true"
    page = page_of(client, link)
    assert 'id="closed">This appointment was cancelled.<' in page
    assert app_href(page) is None
    nothing_recorded(salon_a)


@pytest.mark.parametrize("token", ["x" * 43, "short", "bad%20token%3Cscript%3E"])
def test_the_watch_of_an_unknown_link_is_not_found(client, salon_a, root, connect_uzum, token):
    connect_app(connect_uzum, salon_a)
    link_of(salon_a)

    response = client.get(f"/pay/{token}/watch")

    assert response.status_code == 404
    assert "HX-Refresh" not in response
    nothing_recorded(salon_a)


def test_the_watch_only_answers_reads(client, salon_a, root, connect_uzum):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    assert client.post(f"/pay/{link.token}/watch").status_code == 405
    assert client.head(f"/pay/{link.token}/watch").status_code == 204
    nothing_recorded(salon_a)


# ---- languages ---------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["uz", "ru"])
def test_switching_the_language_keeps_the_app_button(client, salon_a, root, connect_uzum, language):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    english = app_href(page_of(client, link))

    response = client.post(
        "/accounts/language/", {"language": language, "next": f"/pay/{link.token}"}
    )
    assert response.status_code == 302
    page = page_of(client, link)

    assert f'<html lang="{language}">' in page
    # The app speaks its own language: the link is the same whatever the page's.
    assert app_href(page) == english
    assert app_qr(page) == qr_svg(english, scale=3)
    assert f'hx-get="/pay/{link.token}/watch"' in page


@pytest.mark.parametrize("language", ["uz", "ru"])
def test_the_app_button_speaks_the_clients_language(client, salon_a, root, connect_uzum, language):
    connect_app(connect_uzum, salon_a, installments=True)
    link = link_of(salon_a)
    client.cookies["django_language"] = language
    with translation.override(language):
        label = translation.gettext("Pay in the Uzum Bank app")
        sentence = translation.gettext(WITH_INSTALLMENTS)

    page = html.unescape(page_of(client, link))

    # The rest of the page is translated (the card button); the app's part must be too.
    assert "Pay by card" not in page
    assert label != "Pay in the Uzum Bank app"
    assert sentence != WITH_INSTALLMENTS
    assert f'id="pay-app" href="{app_href(page_of(client, link))}">{label}</a>' in page
    assert methods_sentence(page_of(client, link)) == sentence


def test_while_a_card_payment_is_open_the_page_still_offers_the_app(
    client, salon_a, root, connect_uzum
):
    """A client who opened the card page and came back may pay in the app at once (issue
    12): the button, its QR and the watch are all there, and no "wait until" notice."""
    from datetime import timedelta

    from django.utils import timezone

    from navbat.payments import services as payments

    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    before = page_of(client, link)
    card = payments.start_card_payment(
        link=link, language="en", success_url=ROOT + "/ok", failure_url=ROOT + "/no"
    )
    PaymentOrder.objects.filter(pk=card.pk).update(expires_at=timezone.now() + timedelta(minutes=7))

    page = page_of(client, link)

    assert app_href(page) == app_href(before) is not None
    assert app_qr(page) == app_qr(before)
    assert 'id="app-watch"' in page
    assert 'id="app-waits"' not in page
    assert methods_sentence(page) == methods_sentence(before)
    assert 'id="pay-card"' in page
    assert PaymentOrder.objects.get().state == "pending"
