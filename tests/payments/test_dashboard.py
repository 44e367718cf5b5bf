"""The online payments dashboard (issue 13, item 5): a month of card, app, installment,
refunded and QR payments; every total and every split equals the books' rows of those
payments to the tiyin; the chart has a bar per day; the CSV lists each payment as the list
does; the period's ends are the business's local midnights; bad input is a clear 400."""

import csv
import html
import io
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Sum

from navbat.finance.models import Direction, Transaction, TransactionKind
from navbat.kit.money import format_money
from navbat.kit.timeutil import local_today
from navbat.payments import charts, dashboard, refunds, services
from navbat.payments.forms import Period, period_days
from navbat.payments.models import PaymentOrder, RefundRoute
from navbat.uzum_sandbox import bank
from tests.payments.jobs import start_payment
from tests.uzum.merchant import App, connect_app, link_of

pytestmark = pytest.mark.django_db

HAIRCUT = 10_000_000
UZCARD, HUMO, UZUM_VISA = "8600000000000018", "9860000000000016", "4916990000000014"
MASTERCARD = "5555555555554444"
MARCH = {"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-31"}
FIRST, LAST = date(2026, 3, 1), date(2026, 3, 31)
SVG = "{http://www.w3.org/2000/svg}"


def card_paid(salon, appointment, card):
    order = start_payment(salon, appointment=appointment)
    bank.pay(order_id=order.bank_order_id, card_number=card)
    return services.refresh(order=order)


def app_paid(salon, connection, appointment, *, source="UZCARD", tariff=None):
    app = App(connection)
    link = link_of(salon, appointment)
    trans_id = uuid.uuid4()
    assert app.check(link.code).status == 200
    assert app.create(link.code, HAIRCUT, trans_id).body["status"] == "CREATED"
    assert app.confirm(trans_id, source=source, tariff=tariff).body["status"] == "CONFIRMED"
    return PaymentOrder.objects.get(link=link, method="app")


def started(hour: int, minute: int, day: date) -> datetime:
    """A Tashkent wall-clock moment (UTC+5) in UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(hours=5)


@pytest.fixture
def month(salon_a, connect_uzum, settings):
    """March 2026 of salon A: card payments (Uzcard refunded to the card in two parts, the
    first with its fee returned; Humo by the checkout QR, partly given back from the cash
    register; Uzum Visa from online booking; MasterCard at 23:30 on the last day; Humo at
    00:10 on the first), an app payment, an app payment in installments by the QR, a card
    payment still waiting, and a Uzcard payment at 00:10 on 1 April (outside)."""
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0
    connection = connect_app(connect_uzum, salon_a)
    business = salon_a.business
    book = iter(
        salon_a.book(specialist=salon_a.specialists[index % 2], hour=9 + index, days=2)
        for index in range(7)
    )
    orders = {
        "uzcard": card_paid(salon_a, salon_a.appointments[0], UZCARD),
        "humo_qr": card_paid(salon_a, salon_a.appointments[1], HUMO),
        "visa_booking": card_paid(salon_a, next(book), UZUM_VISA),
        "app": app_paid(salon_a, connection, next(book), source="UZUM_DEBIT_VISA"),
        "installment": app_paid(
            salon_a, connection, next(book), source="INSTALLMENT", tariff="15-0-4"
        ),
        "waiting": start_payment(salon_a, appointment=next(book)),
        "last_evening": card_paid(salon_a, next(book), MASTERCARD),
        "april": card_paid(salon_a, next(book), UZCARD),
        "first_night": card_paid(salon_a, next(book), HUMO),
    }
    schedule = connection.fee_schedule
    schedule.fee_returned_on_refund = True
    schedule.save()
    refunds.refund_payment(
        business=business, order_id=orders["uzcard"].pk, amount=4_000_000, reason="Part"
    )
    schedule.fee_returned_on_refund = False
    schedule.save()
    refunds.refund_payment(
        business=business, order_id=orders["uzcard"].pk, amount=6_000_000, reason="Rest"
    )
    refunds.refund_payment(
        business=business,
        order_id=orders["humo_qr"].pk,
        amount=2_500_001,
        reason="Short",
        route=RefundRoute.REGISTER,
        register_id=salon_a.cash.pk,
    )
    moments = {
        "uzcard": started(10, 0, date(2026, 3, 2)),
        "humo_qr": started(11, 15, date(2026, 3, 5)),
        "visa_booking": started(18, 40, date(2026, 3, 5)),
        "app": started(9, 5, date(2026, 3, 10)),
        "installment": started(16, 0, date(2026, 3, 17)),
        "waiting": started(12, 0, date(2026, 3, 20)),
        "last_evening": started(23, 30, LAST),
        "april": started(0, 10, date(2026, 4, 1)),
        "first_night": started(0, 10, FIRST),
    }
    for name, moment in moments.items():
        paid_at = moment + timedelta(minutes=1) if name != "waiting" else None
        PaymentOrder.objects.filter(pk=orders[name].pk).update(created_at=moment, paid_at=paid_at)
    PaymentOrder.objects.filter(pk__in=[orders["humo_qr"].pk, orders["installment"].pk]).update(
        channel="qr"
    )
    PaymentOrder.objects.filter(pk=orders["visa_booking"].pk).update(channel="booking")
    return {name: PaymentOrder.objects.get(pk=order.pk) for name, order in orders.items()}


IN_MARCH = (
    "uzcard",
    "humo_qr",
    "visa_booking",
    "app",
    "installment",
    "waiting",
    "last_evening",
    "first_night",
)


def books(orders) -> dict[str, int]:
    """The books' rows of ``orders`` (their documents: one appointment each) per kind, and
    their net (income less expense)."""
    rows = Transaction.objects.filter(document__in=[order.document_id for order in orders])
    sums = {kind: 0 for kind in TransactionKind.values}
    for row in rows.values("kind").annotate(total=Sum("amount")):
        sums[row["kind"]] = row["total"]
    income = rows.filter(direction=Direction.INCOME).aggregate(t=Sum("amount"))["t"] or 0
    expense = rows.filter(direction=Direction.EXPENSE).aggregate(t=Sum("amount"))["t"] or 0
    sums["net"] = income - expense
    return sums


def assert_equal_to_books(share, orders) -> None:
    expected = books(orders)
    assert share.paid == expected[TransactionKind.SALE_PAYMENT]
    assert share.refunded == expected[TransactionKind.REFUND]
    assert share.fees == expected[TransactionKind.BANK_FEE]
    assert share.fees_returned == expected[TransactionKind.FEE_RETURN]
    assert share.net == expected["net"]


def board_of(salon, first=FIRST, last=LAST, **filters):
    return dashboard.dashboard(business=salon.business, date_from=first, date_to=last, **filters)


def test_the_months_totals_equal_the_books_to_the_tiyin(salon_a, month):
    board = board_of(salon_a)
    march = [month[name] for name in IN_MARCH]
    assert board.totals.count == 8
    assert board.settled == 7
    assert board.totals.paid == 7 * HAIRCUT
    assert board.totals.refunded == HAIRCUT + 2_500_001
    assert month["uzcard"].fee_returned_amount == 40_000  # 1 % of the first 40 000 so'm
    assert board.totals.fees_returned == 40_000
    assert board.totals.fees == sum(order.fee_amount for order in march)
    assert board.totals.fees > 0
    assert_equal_to_books(board.totals, march)
    assert board.totals.net == (7 * HAIRCUT - HAIRCUT - 2_500_001 - board.totals.fees + 40_000)


def test_every_split_equals_the_books_of_its_payments(salon_a, month):
    board = board_of(salon_a)
    methods = {share.key: share for share in board.by_method}
    assert [(s.key, s.label, s.count) for s in board.by_method] == [
        ("card", "Card payment", 5),
        ("app", "Uzum Bank app", 1),
        ("installment", "Installments", 1),
    ]
    groups = {
        "card": ["uzcard", "humo_qr", "visa_booking", "last_evening", "first_night"],
        "app": ["app"],
        "installment": ["installment"],
    }
    for key, names in groups.items():
        assert_equal_to_books(methods[key], [month[name] for name in names])

    channels = {share.key: share for share in board.by_channel}
    assert [(s.key, s.label, s.count) for s in board.by_channel] == [
        ("link", "By link", 4),
        ("qr", "By QR at the checkout", 2),
        ("booking", "Online booking", 1),
    ]
    groups = {
        "link": ["uzcard", "app", "last_evening", "first_night"],
        "qr": ["humo_qr", "installment"],
        "booking": ["visa_booking"],
    }
    for key, names in groups.items():
        assert_equal_to_books(channels[key], [month[name] for name in names])

    kinds = {share.key: share for share in board.by_card_kind}
    # The sandbox's checkout reports its Uzum Visa test card as a Visa (scheme "VISA"); the
    # app names it (paymentSource UZUM_DEBIT_VISA).
    assert [(s.key, s.label, s.count) for s in board.by_card_kind] == [
        ("uzum_visa", "Uzum Visa", 1),
        ("uzcard", "Uzcard", 1),
        ("humo", "Humo", 2),
        ("visa", "Visa", 1),
        ("mastercard", "MasterCard", 1),
        ("installment", "Installments", 1),
    ]
    groups = {
        "uzum_visa": ["app"],
        "uzcard": ["uzcard"],
        "visa": ["visa_booking"],
        "humo": ["humo_qr", "first_night"],
        "mastercard": ["last_evening"],
        "installment": ["installment"],
    }
    for key, names in groups.items():
        assert_equal_to_books(kinds[key], [month[name] for name in names])
    for split in (board.by_method, board.by_channel, board.by_card_kind):
        assert sum(share.paid for share in split) == board.totals.paid
        assert sum(share.net for share in split) == board.totals.net


def test_the_periods_ends_are_the_salons_midnights(salon_a, month):
    last = board_of(salon_a, LAST, LAST)
    assert (last.totals.count, last.totals.paid) == (1, HAIRCUT)
    assert last.by_card_kind[0].key == "mastercard"  # 23:30 on 31 March
    april = board_of(salon_a, date(2026, 4, 1), date(2026, 4, 1))
    assert (april.totals.count, april.totals.paid) == (1, HAIRCUT)  # 00:10 on 1 April
    assert april.totals.fees == month["april"].fee_amount
    first = board_of(salon_a, FIRST, FIRST)
    assert (first.totals.count, first.by_card_kind[0].key) == (1, "humo")  # 00:10 on 1 March
    before = board_of(salon_a, date(2026, 2, 28), date(2026, 2, 28))
    assert (before.totals.count, before.totals.paid, before.days[0].paid) == (0, 0, 0)


def parsed(svg) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 — markup the test's own code made


def test_the_chart_has_a_bar_per_day_with_its_income_and_fees(salon_a, month):
    board = board_of(salon_a)
    root = parsed(charts.daily_chart(board.days))
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    assert root.find(SVG + "title").text == "Daily income and bank fees"
    desc = root.find(SVG + "desc").text
    assert desc.startswith("From 1 Mar 2026 to 31 Mar 2026: income 700 000 so'm, bank fees ")
    bars = root.findall(f".//{SVG}rect[@class='bar']")
    assert [bar.get("data-day") for bar in bars] == [
        (FIRST + timedelta(days=n)).isoformat() for n in range(31)
    ]
    expected = {}
    for name in IN_MARCH:
        order = month[name]
        day = (order.created_at + timedelta(hours=5)).date()
        income = books([order])
        paid, fees = expected.get(day, (0, 0))
        expected[day] = (
            paid + income[TransactionKind.SALE_PAYMENT],
            fees + income[TransactionKind.BANK_FEE],
        )
    top, height = int(root.get("data-top")), float(root.get("data-plot-height"))
    assert top == 20_000_000  # the busiest day (5 March) holds 200 000 so'm: the scale's top
    for bar in bars:
        paid, fees = expected.get(date.fromisoformat(bar.get("data-day")), (0, 0))
        assert (int(bar.get("data-paid")), int(bar.get("data-fees"))) == (paid, fees)
        assert float(bar.get("height")) == pytest.approx(height * paid / top, abs=0.01)
    assert [int(bar.get("data-paid")) for bar in bars if bar.get("data-paid") != "0"] == [
        HAIRCUT,
        HAIRCUT,
        2 * HAIRCUT,
        HAIRCUT,
        HAIRCUT,
        HAIRCUT,
    ]
    dots = root.findall(f".//{SVG}circle[@class='fee-dot']")
    assert len(dots) == 31
    assert sum(int(dot.get("data-fees")) for dot in dots) == board.totals.fees
    # The fees on their own scale (right): the busiest day's fees reach its top or near it.
    fee_top = int(root.get("data-fee-top"))
    busiest = max(int(dot.get("data-fees")) for dot in dots)
    assert charts.scale(busiest)[0] == fee_top
    bottom = charts.TOP + height
    for dot in dots:
        expected_y = bottom - height * int(dot.get("data-fees")) / fee_top
        assert float(dot.get("cy")) == pytest.approx(expected_y, abs=0.01)
    fee_labels = [text.text for text in root.findall(f".//{SVG}g[@class='axis fees']/{SVG}text")]
    assert fee_labels[0] == "0" and fee_labels[-1] == "so'm"
    assert fee_labels[-2] == charts._som(fee_top)
    labels = [text.text for text in root.findall(f".//{SVG}g[@class='axis y']/{SVG}text")]
    assert labels == ["0", "50 000", "100 000", "150 000", "200 000", "so'm"]
    # Black and white: no colour tells income from fees, the dashes and the legend do.
    assert root.find(f".//{SVG}polyline[@class='fees']").get("stroke-dasharray") == "5 3"


def test_the_scale_is_round_so_m(salon_a):
    assert charts.scale(0) == (100, 100)
    assert charts.scale(1) == (100, 100)
    assert charts.scale(700) == (800, 200)
    assert charts.scale(10_000_000) == (10_000_000, 2_000_000)
    assert charts.scale(10_000_001) == (15_000_000, 5_000_000)
    assert charts.scale(123_456_789) == (150_000_000, 50_000_000)
    empty = parsed(charts.daily_chart([]))
    assert empty.findall(f".//{SVG}rect[@class='bar']") == []


HEADER = [
    "Time",
    "Method",
    "Card",
    "Card number",
    "Amount, so'm",
    "Fee, so'm",
    "State",
    "For",
    "Client",
    "Refunded, so'm",
    "Fee returned, so'm",
    "Reference",
]


def csv_of(response) -> list[list[str]]:
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    return list(csv.reader(io.StringIO(body.decode("utf-8")[1:])))


def som(tiyin: int) -> str:
    return f"{tiyin // 100}.{tiyin % 100:02d}"


def test_the_csv_lists_each_payment_of_the_period_as_the_list_does(salon_a, login, month):
    response = login(salon_a.admin).get("/payments/export.csv", MARCH)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="payments-2026-03-01-2026-03-31.csv"'
    )
    rows = csv_of(response)
    assert rows[0] == HEADER
    assert len(rows) == 1 + 8
    by_reference = {row[-1]: row for row in rows[1:]}
    assert set(by_reference) == {month[name].reference for name in IN_MARCH}
    assert [row[-1] for row in rows[1:]] == [
        month[name].reference
        for name in (
            "first_night",
            "uzcard",
            "humo_qr",
            "visa_booking",
            "app",
            "installment",
            "waiting",
            "last_evening",
        )
    ]
    uzcard = month["uzcard"]
    assert by_reference[uzcard.reference] == [
        "2026-03-02 10:01",
        "Card payment",
        "Uzcard",
        "860000******0018",
        "100000.00",
        som(uzcard.fee_amount),
        "Refunded",
        uzcard.document.title,
        salon_a.clients[0].name,
        "100000.00",
        "400.00",
        uzcard.reference,
    ]
    humo = month["humo_qr"]
    assert by_reference[humo.reference][:7] == [
        "2026-03-05 11:16",
        "Card payment",
        "Humo",
        "986000******0016",
        "100000.00",
        som(humo.fee_amount),
        "Partly refunded",
    ]
    assert by_reference[humo.reference][8:11] == [salon_a.clients[1].name, "25000.01", "0.00"]
    installment = month["installment"]
    assert by_reference[installment.reference][1:3] == ["Uzum Bank app", "Installments"]
    waiting = month["waiting"]
    assert by_reference[waiting.reference][:7] == [
        "2026-03-20 12:00",
        "Card payment",
        "",
        "",
        "100000.00",
        "",
        "Waiting for the bank",
    ]
    # The list's filters apply: the state narrows it.
    paid_only = csv_of(login(salon_a.admin).get("/payments/export.csv", {**MARCH, "state": "paid"}))
    assert [row[-1] for row in paid_only[1:]] == [
        month[name].reference
        for name in ("first_night", "visa_booking", "app", "installment", "last_evening")
    ]
    april = csv_of(
        login(salon_a.admin).get(
            "/payments/export.csv", {"date_from": "2026-04-01", "date_to": "2026-04-30"}
        )
    )
    assert [row[-1] for row in april[1:]] == [month["april"].reference]
    assert april[1][0] == "2026-04-01 00:11"


def test_a_cell_a_spreadsheet_would_run_is_written_as_text(salon_a, login, month):
    client = salon_a.clients[0]
    client.name = "=HYPERLINK(1)"
    client.save()
    rows = csv_of(login(salon_a.owner).get("/payments/export.csv", MARCH))
    names = {row[8] for row in rows[1:]}
    assert "'=HYPERLINK(1)" in names and "=HYPERLINK(1)" not in names


BAD = [
    (
        {"period": "custom", "date_from": "2026-03-31", "date_to": "2026-03-01"},
        "The end date cannot be before the start date.",
    ),
    (
        {"period": "custom", "date_from": "2025-03-01", "date_to": "2026-03-02"},
        "Choose a period of at most 366 days.",
    ),
    ({"period": "custom", "date_from": "2026-03-01"}, "Choose the first and the last day"),
    ({"date_to": "2026-03-01"}, "Choose the first and the last day"),
    ({"period": "fortnight"}, "Select a valid choice."),
    ({"date_from": "'; drop table", "date_to": "2026-03-01"}, "Enter a valid date."),
    ({"date_from": "9999-01-01", "date_to": "9999-12-31"}, "Enter a date between"),
]


@pytest.mark.parametrize(("query", "message"), BAD)
def test_bad_periods_are_a_clear_400(salon_a, login, month, query, message):
    client = login(salon_a.owner)
    page = client.get("/payments/", query)
    assert page.status_code == 400
    assert page.context["dashboard"] is None
    assert list(page.context["page"]) == []
    assert message in html.unescape(page.content.decode())
    assert 'id="dashboard"' not in page.content.decode()
    export = client.get("/payments/export.csv", query)
    assert export.status_code == 400
    assert export["Content-Type"] == "text/plain; charset=utf-8"
    assert message in export.content.decode()


def test_a_year_with_its_leap_day_is_allowed(salon_a, login):
    query = {"period": "custom", "date_from": "2028-01-01", "date_to": "2028-12-31"}
    response = login(salon_a.owner).get("/payments/", query)
    assert response.status_code == 200
    assert len(response.context["dashboard"].days) == 366


def test_the_named_periods_are_the_salons_days():
    tuesday = date(2026, 12, 1)
    assert period_days(Period.TODAY, tuesday) == (tuesday, tuesday)
    assert period_days(Period.WEEK, tuesday) == (date(2026, 11, 30), date(2026, 12, 6))
    assert period_days(Period.MONTH, tuesday) == (date(2026, 12, 1), date(2026, 12, 31))
    assert period_days(Period.MONTH, date(2028, 2, 29)) == (date(2028, 2, 1), date(2028, 2, 29))
    sunday = date(2026, 12, 6)
    assert period_days(Period.WEEK, sunday) == (date(2026, 11, 30), sunday)


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_the_page_shows_the_dashboard_to_owners_and_administrators(salon_a, login, month, role):
    response = login(getattr(salon_a, role)).get("/payments/", MARCH)
    assert response.status_code == 200
    body = html.unescape(response.content.decode())
    board = response.context["dashboard"]
    assert "Online payments from 1 Mar 2026 to 31 Mar 2026" in body
    for name, value in [
        ("dash-paid", board.totals.paid),
        ("dash-refunded", board.totals.refunded),
        ("dash-fees", board.totals.fees),
        ("dash-fees-returned", board.totals.fees_returned),
        ("dash-net", board.totals.net),
    ]:
        assert f'<dd id="{name}">{format_money(value)}</dd>' in body
    assert '<dd id="dash-paid">700 000 so\'m</dd>' in body
    assert '<dd class="muted" id="dash-settled">7 payments</dd>' in body
    # The dashboard above the list's own totals line, which says the same.
    assert body.index('id="dashboard"') < body.index('id="totals"')
    assert f'<strong id="total-paid">{format_money(board.totals.paid)}</strong>' in body
    assert body.count('<rect class="bar"') == 31
    assert 'aria-labelledby="income-chart-title income-chart-desc"' in body
    method = body[body.index('id="method-installment"') :]
    method = method[: method.index("</tr>")]
    assert "Installments" in method and format_money(HAIRCUT) in method
    channel = body[body.index('id="channel-qr"') :]
    channel = channel[: channel.index("</tr>")]
    assert "By QR at the checkout" in channel and format_money(2 * HAIRCUT) in channel
    assert 'id="card-uzum_visa"' in body
    assert (
        'href="/payments/export.csv?period=custom&amp;date_from=2026-03-01&amp;date_to=2026-03-31"'
    ) in response.content.decode()
    assert '<link rel="stylesheet" href="/static/payments/dashboard.css">' in body
    raw = response.content.decode()
    # The chart's own SVG (the page also draws the checkout points' codes as SVG).
    start = raw.index('<svg xmlns="http://www.w3.org/2000/svg" id="income-chart"')
    chart = parsed(raw[start : raw.index("</svg>", start) + len("</svg>")])
    assert len(chart.findall(f".//{SVG}rect[@class='bar']")) == 31
    assert "style=" not in body[body.index('id="dashboard"') : body.index('id="totals"')]


def test_without_a_period_the_page_shows_this_month(salon_a, login):
    response = login(salon_a.owner).get("/payments/")
    assert response.status_code == 200
    today = local_today(salon_a.business.timezone)
    board = response.context["dashboard"]
    assert (board.date_from, board.date_to) == period_days(Period.MONTH, today)
    assert 'id="period-month" class="active" aria-current="page"' in response.content.decode()
    # A named period shows its days in the day inputs: "Show" keeps them.
    response = login(salon_a.owner).get("/payments/", {"period": "today", "state": "paid"})
    body = response.content.decode()
    assert f'name="date_from" value="{today.isoformat()}"' in body
    assert f'name="date_to" value="{today.isoformat()}"' in body
    assert 'href="?period=week&amp;state=paid"' in body
    assert len(response.context["dashboard"].days) == 1


def test_another_business_sees_none_of_it(salon_a, salon_b, login, month):
    board = board_of(salon_b)
    assert (board.totals.count, board.totals.paid, board.by_method) == (0, 0, [])
    rows = csv_of(login(salon_b.owner).get("/payments/export.csv", MARCH))
    assert rows == [HEADER]


def test_a_specialist_is_refused(salon_a, login, client):
    specialist = login(salon_a.specialist_user)
    assert specialist.get("/payments/", MARCH).status_code == 403
    assert specialist.get("/payments/export.csv", MARCH).status_code == 403
    assert client.logout() is None
    assert client.get("/payments/export.csv", MARCH).status_code == 302
    assert login(salon_a.owner).post("/payments/export.csv").status_code == 405
