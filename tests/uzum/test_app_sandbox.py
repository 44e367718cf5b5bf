"""The sandbox's Uzum Bank app pays our Merchant API over real HTTP (a live server), driven as
a phone drives it: the Quick Payment page's "Pay in the Uzum Bank app" link opens the app,
which asks /check; the app's pay form sends /create and /confirm. Proves that an installment
payment is recorded with its tariff and the 5 % fee, that the app's misbehaviour (a confirm
answer lost, a confirm sent twice, a slow create) still records exactly one payment, that an
operator's reverse from the sandbox refunds the order and reverses income and fee, and that
the Quick Payment page notices the app's payment by itself."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from navbat.accounts.sandbox import sandbox_owner
from navbat.finance.models import Transaction, TransactionKind
from navbat.payments.models import Method, PaymentOrder, State
from navbat.uzum.models import MerchantTransaction, TransactionState
from navbat.uzum_sandbox import app as sandbox_app
from navbat.uzum_sandbox import faults
from navbat.uzum_sandbox.models import AppTransaction, MerchantService
from tests.uzum.merchant import LOGIN, PASSWORD, SERVICE_ID, connect_app, link_of

pytestmark = pytest.mark.django_db(transaction=True)

HAIRCUT = 10_000_000  # tiyin: appointments[0] of the salon fixture
INSTALLMENT_FEE = 500_000  # 5 % in 2026
CARD_FEE = 100_000  # 1 % in 2026 (Uzcard, Humo, Uzum Visa)
PHONE = "998901234567"  # the sandbox app's test customer
PAY_APP = re.compile(r'id="pay-app" href="([^"]+)"')
PAY_FORM = re.compile(r'<form method="post" action="([^"]+)" id="pay-form">')
REDIRECT_FIELD = re.compile(r'name="redirectUrl" value="([^"]+)"')


class Phone:
    """The client's phone: the Quick Payment page, then the Uzum Bank app it opens."""

    def __init__(self, live_server, link):
        self.root = live_server.url
        self.link = link
        self.http = httpx.Client(cookies={"django_language": "en"}, timeout=60)

    def close(self):
        self.http.close()

    def page(self) -> httpx.Response:
        return self.http.get(f"{self.root}/pay/{self.link.token}")

    def watch(self) -> httpx.Response:
        return self.http.get(f"{self.root}/pay/{self.link.token}/watch")

    def open_app(self) -> tuple[str, str]:
        """Follow the page's app link; the app page's form action and its redirectUrl."""
        page = self.page()
        assert page.status_code == 200
        [href] = PAY_APP.findall(page.text)
        app_url = html.unescape(href)
        parts = urlsplit(app_url)
        assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
            f"{self.root}/sandbox/uzum/open-service"
        )
        assert parse_qs(parts.query) == {
            "serviceId": [str(SERVICE_ID)],
            "order": [self.link.code],
            "amount": [str(HAIRCUT)],
            "redirectUrl": [f"{self.root}/pay/{self.link.token}"],
        }
        opened = self.http.get(app_url)
        assert opened.status_code == 200, opened.text
        text = html.unescape(opened.text)
        assert '<dd data-field="salon">Salon A</dd>' in text  # what our /check said
        assert f'<dd data-field="amount">{HAIRCUT}</dd>' in text
        [action] = PAY_FORM.findall(opened.text)
        [redirect_url] = REDIRECT_FIELD.findall(opened.text)
        return html.unescape(action), html.unescape(redirect_url)

    def pay(self, source: str, tariff: str = "") -> AppTransaction:
        action, redirect_url = self.open_app()
        form = {"source": source, "redirectUrl": redirect_url}
        if tariff:
            form["tariff"] = tariff
        answer = self.http.post(f"{self.root}{action}", data=form, follow_redirects=False)
        assert answer.status_code == 302, answer.text
        trans_id = action.split("/")[-2]
        assert answer.headers["location"].startswith(f"/sandbox/uzum/open-service/{trans_id}/")
        return AppTransaction.objects.get(trans_id=trans_id)


@pytest.fixture
def shop(salon_a, connect_uzum, live_server, settings):
    """Salon A on the sandbox with app payments, and the sandbox's service for it."""
    settings.NAVBAT_PUBLIC_URL = live_server.url
    # The app's pause between /status questions; the answers, not the pace, are under test.
    settings.NAVBAT_SANDBOX_APP_STATUS_PAUSE = 0
    connection = connect_app(connect_uzum, salon_a)
    service = MerchantService.objects.create(
        owner=sandbox_owner(salon_a.business.pk),
        service_id=SERVICE_ID,
        login=LOGIN,
        password=PASSWORD,
        merchant_name=salon_a.business.name,
        merchant_base_url=f"{live_server.url}/uzum/merchant/{connection.public_id}",
        attribute_name="order",
    )
    link = link_of(salon_a)
    phone = Phone(live_server, link)
    yield salon_a, connection, service, link, phone
    phone.close()


def set_fault(service, endpoint: str, spec: dict) -> None:
    service.faults = faults.merge_service_faults({}, {endpoint: spec})
    service.save(update_fields=["faults"])


def calls(tx: AppTransaction) -> list[tuple[str, int | None, str | None, str | None]]:
    """Each call the app made: endpoint, HTTP status, the answer's status and errorCode."""
    tx.refresh_from_db()
    rows = []
    for entry in tx.exchange:
        answer = entry["response"] if isinstance(entry["response"], dict) else {}
        rows.append(
            (entry["endpoint"], entry["status"], answer.get("status"), answer.get("errorCode"))
        )
    return rows


def books(link) -> list[tuple[str, int]]:
    rows = Transaction.objects.filter(document=link.document).order_by("id")
    return [(t.kind, t.amount) for t in rows]


def the_payment(link) -> PaymentOrder:
    [order] = PaymentOrder.objects.filter(link=link)
    return order


def test_installments_record_the_tariff_and_the_installment_fee(shop):
    salon, connection, _service, link, phone = shop

    tx = phone.pay("INSTALLMENT", tariff="15-0-4")

    assert (tx.status, tx.payment_source, tx.tariff, tx.amount) == (
        "CONFIRMED",
        "INSTALLMENT",
        "15-0-4",
        HAIRCUT,
    )
    assert calls(tx) == [
        ("check", 200, "OK", None),
        ("create", 200, "CREATED", None),
        ("confirm", 200, "CONFIRMED", None),
    ]
    confirm = tx.exchange[2]["request"]
    assert (confirm["paymentSource"], confirm["tariff"], confirm["phone"]) == (
        "INSTALLMENT",
        "15-0-4",
        PHONE,
    )
    order = the_payment(link)
    assert (order.method, order.state, order.amount, order.paid_amount) == (
        Method.APP,
        State.PAID,
        HAIRCUT,
        HAIRCUT,
    )
    assert (order.card_kind, order.card_scheme, order.tariff) == (
        "installment",
        "INSTALLMENT",
        "15-0-4",
    )
    assert (order.fee_rate_bp, order.fee_amount) == (500, INSTALLMENT_FEE)
    assert books(link) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, INSTALLMENT_FEE),
    ]
    assert (order.income.register.name, order.fee.register.name) == ("Uzum Bank", "Uzum Bank")
    merchant_tx = MerchantTransaction.objects.get(connection=connection)
    assert (
        str(merchant_tx.trans_id),
        merchant_tx.state,
        merchant_tx.tariff,
        merchant_tx.phone,
        merchant_tx.processing_reference,
        merchant_tx.order_id,
    ) == (
        str(tx.trans_id),
        TransactionState.CONFIRMED,
        "15-0-4",
        PHONE,
        "",  # the app sends no processing reference for installments (null)
        order.pk,
    )
    assert confirm["processingReferenceNumber"] is None


def test_a_confirm_answer_lost_is_settled_through_status(shop):
    _salon, _connection, service, link, phone = shop
    set_fault(service, "confirm", {"mode": "timeout", "seconds": 1})

    tx = phone.pay("UZCARD")

    # Our answer to /confirm reached the app but was ignored; /status then told the truth.
    assert calls(tx) == [
        ("check", 200, "OK", None),
        ("create", 200, "CREATED", None),
        ("confirm", 200, "CONFIRMED", None),
        ("status", 200, "CONFIRMED", None),
    ]
    assert tx.exchange[2]["note"] == "answer ignored: timeout (fault)"
    assert tx.exchange[3]["response"]["confirmTime"] == tx.exchange[2]["response"]["confirmTime"]
    assert tx.status == "CONFIRMED"
    order = the_payment(link)
    assert (order.state, order.paid_amount, order.card_kind, order.fee_amount) == (
        State.PAID,
        HAIRCUT,
        "uzcard",
        CARD_FEE,
    )
    assert books(link) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, CARD_FEE),
    ]


def test_a_confirm_sent_twice_is_answered_10016_and_recorded_once(shop):
    _salon, _connection, service, link, phone = shop
    set_fault(service, "confirm", {"mode": "duplicate"})

    tx = phone.pay("HUMO")

    assert calls(tx) == [
        ("check", 200, "OK", None),
        ("create", 200, "CREATED", None),
        ("confirm", 200, "CONFIRMED", None),
        ("confirm", 400, "FAILED", "10016"),
    ]
    assert tx.exchange[3]["note"] == "duplicate (fault)"
    assert tx.exchange[3]["response"]["transId"] == str(tx.trans_id)
    assert tx.status == "CONFIRMED"
    order = the_payment(link)
    assert (order.state, order.paid_amount, order.card_kind, order.fee_amount) == (
        State.PAID,
        HAIRCUT,
        "humo",
        CARD_FEE,
    )
    assert books(link) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, CARD_FEE),
    ]


def test_a_slow_create_still_records_one_payment(shop):
    _salon, connection, service, link, phone = shop
    set_fault(service, "create", {"mode": "delay", "seconds": 1})

    tx = phone.pay("UZUM_DEBIT_VISA")

    assert calls(tx) == [
        ("check", 200, "OK", None),
        ("create", 200, "CREATED", None),
        ("confirm", 200, "CONFIRMED", None),
    ]
    assert tx.status == "CONFIRMED"
    order = the_payment(link)
    assert (order.state, order.paid_amount, order.card_kind, order.fee_amount) == (
        State.PAID,
        HAIRCUT,
        "uzum_visa",
        CARD_FEE,
    )
    assert books(link) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, CARD_FEE),
    ]
    assert MerchantTransaction.objects.filter(connection=connection).count() == 1


def test_an_operator_reverse_from_the_sandbox_refunds_the_order(shop, client):
    salon, connection, _service, link, phone = shop
    tx = phone.pay("UZCARD")
    order = the_payment(link)

    # The dashboard's button, pressed by the salon's owner: a form POST inside the sandbox.
    client.force_login(salon.owner)
    answer = client.post(f"/sandbox/uzum/transactions/{tx.trans_id}/reverse")

    assert answer.status_code == 302
    assert calls(tx)[3:] == [("reverse", 200, "REVERSED", None)]
    assert tx.status == "REVERSED"
    order.refresh_from_db()
    assert (order.state, order.paid_amount, order.refunded_amount) == (
        State.REFUNDED,
        HAIRCUT,
        HAIRCUT,
    )
    assert books(link) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, CARD_FEE),
        (TransactionKind.REFUND, HAIRCUT),
        (TransactionKind.FEE_RETURN, CARD_FEE),
    ]
    refund, fee_back = Transaction.objects.filter(document=link.document).order_by("id")[2:]
    assert (refund.reverses_id, fee_back.reverses_id) == (order.income_id, order.fee_id)
    merchant_tx = MerchantTransaction.objects.get(connection=connection)
    assert merchant_tx.state == TransactionState.REVERSED

    # The dashboard sends nothing for a reversed transaction; the app's own call again is a
    # replay (10018) that changes nothing.
    client.post(f"/sandbox/uzum/transactions/{tx.trans_id}/reverse")
    assert len(calls(tx)) == 4
    again = sandbox_app.reverse_payment(tx)
    assert (again.status, again.error_code) == (400, "10018")
    assert books(link) == [
        (TransactionKind.SALE_PAYMENT, HAIRCUT),
        (TransactionKind.BANK_FEE, CARD_FEE),
        (TransactionKind.REFUND, HAIRCUT),
        (TransactionKind.FEE_RETURN, CARD_FEE),
    ]
    order.refresh_from_db()
    assert (order.state, order.refunded_amount) == (State.REFUNDED, HAIRCUT)
    tx.refresh_from_db()
    assert tx.status == "REVERSED"


def test_the_quick_payment_page_notices_the_app_payment(shop):
    _salon, _connection, _service, link, phone = shop
    before = phone.watch()
    assert (before.status_code, before.headers.get("HX-Refresh")) == (204, None)
    assert "Payment completed successfully" not in phone.page().text

    phone.pay("UZCARD")

    after = phone.watch()
    assert (after.status_code, after.headers.get("HX-Refresh")) == (200, "true")
    page = phone.page()
    assert page.status_code == 200
    assert "Payment completed successfully" in page.text
    assert 'id="pay-app"' not in page.text  # nothing left to pay in the app
    assert 'id="amount-paid">100 000' in html.unescape(page.text)
