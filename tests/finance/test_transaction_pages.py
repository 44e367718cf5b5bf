from datetime import UTC, datetime

import pytest
from django.urls import reverse

from navbat.finance.models import TransactionKind
from navbat.finance.services import record_sale_payment, record_transaction

from ..salons.pages import snapshot, text

pytestmark = pytest.mark.django_db

URL = "/finance/transactions/"


@pytest.fixture
def books(salon_a, salon_b):
    """A few transactions of A around a Tashkent midnight (UTC+5), and one of B."""
    visit = salon_a.appointments[0]  # Client A0

    def at(day, hour, minute=0):  # a UTC moment
        return datetime(2025, 1, day, hour, minute, tzinfo=UTC)

    rows = {
        # 10 January, 23:30 in Tashkent (18:30 UTC)
        "late": record_transaction(
            business=salon_a.business,
            register=salon_a.cash,
            kind=TransactionKind.SALE_PAYMENT,
            amount=10_000_000,
            document=visit.document,
            note="Late payment",
            occurred_at=at(10, 18, 30),
        ),
        # 11 January, 00:30 in Tashkent (10 January 19:30 UTC)
        "early": record_transaction(
            business=salon_a.business,
            register=salon_a.card,
            kind=TransactionKind.OTHER_INCOME,
            amount=2_000_000,
            note="Tip jar",
            occurred_at=at(10, 19, 30),
        ),
        # 12 January, 15:00 in Tashkent
        "fee": record_transaction(
            business=salon_a.business,
            register=salon_a.card,
            kind=TransactionKind.BANK_FEE,
            amount=150_050,
            note="Acquirer commission",
            occurred_at=at(12, 10),
        ),
        "other": record_transaction(
            business=salon_b.business,
            register=salon_b.cash,
            kind=TransactionKind.SALE_PAYMENT,
            amount=77_700_000,
            note="Business B",
            occurred_at=at(10, 12),
        ),
    }
    return rows


NOTES = ("Late payment", "Tip jar", "Acquirer commission", "Business B")
LATE, TIP, FEE = NOTES[:3]


def notes(body: str) -> list[str]:
    """Which of the transactions (known by their notes) the page lists."""
    return [note for note in NOTES if note in body]


def test_list_shows_rows_and_totals(salon_a, books, login):
    page = login(salon_a.owner).get(reverse("finance:transactions"))
    assert page.status_code == 200
    body = text(page)
    assert notes(body) == ["Late payment", "Tip jar", "Acquirer commission"]
    assert "Client A0" in body and "Payment for a sale" in body and "Bank fee" in body
    assert "−1 500.50 so'm" in body
    assert 'id="total-income">120 000 so\'m<' in body
    assert 'id="total-expense">1 500.50 so\'m<' in body
    assert 'id="total-net">118 499.50 so\'m<' in body
    # Shown in the business's zone: 23:30 on 10 January, 00:30 on 11 January.
    assert "10 Jan 2025, 23:30" in body and "11 Jan 2025, 00:30" in body
    assert 'class="subnav"' in body and reverse("finance:registers") in body


@pytest.mark.parametrize(
    "filters,shown,income,expense",
    [
        ({"register": "cash"}, ["Late payment"], "100 000 so'm", "0 so'm"),
        ({"register": "card"}, ["Tip jar", "Acquirer commission"], "20 000 so'm", "1 500.50 so'm"),
        ({"direction": "expense"}, ["Acquirer commission"], "0 so'm", "1 500.50 so'm"),
        ({"direction": "income"}, ["Late payment", "Tip jar"], "120 000 so'm", "0 so'm"),
        ({"kind": "other_income"}, ["Tip jar"], "20 000 so'm", "0 so'm"),
        # Local days: 10 January ends at 19:00 UTC.
        (
            {"date_from": "2025-01-10", "date_to": "2025-01-10"},
            ["Late payment"],
            "100 000 so'm",
            "0 so'm",
        ),
        (
            {"date_from": "2025-01-11"},
            ["Tip jar", "Acquirer commission"],
            "20 000 so'm",
            "1 500.50 so'm",
        ),
        ({"date_to": "2025-01-11"}, ["Late payment", "Tip jar"], "120 000 so'm", "0 so'm"),
        ({"date_from": "2025-02-01"}, [], "0 so'm", "0 so'm"),
        ({"client": "client0"}, ["Late payment"], "100 000 so'm", "0 so'm"),
        ({"register": "card", "direction": "income"}, ["Tip jar"], "20 000 so'm", "0 so'm"),
    ],
)
def test_filters_narrow_rows_and_totals(salon_a, books, login, filters, shown, income, expense):
    handles = {
        "cash": salon_a.cash.pk,
        "card": salon_a.card.pk,
        "client0": salon_a.clients[0].pk,
    }
    query = {key: handles.get(value, value) for key, value in filters.items()}
    page = login(salon_a.owner).get(reverse("finance:transactions"), query)
    assert page.status_code == 200
    body = text(page)
    assert notes(body) == shown
    assert f'id="total-income">{income}<' in body
    assert f'id="total-expense">{expense}<' in body
    if not shown:
        assert "No transactions." in body


def test_client_filter_names_the_client(salon_a, books, login):
    client = salon_a.clients[0]
    body = text(login(salon_a.owner).get(reverse("finance:transactions"), {"client": client.pk}))
    assert 'id="filter-client">Client A0<' in body
    assert f'name="client" value="{client.pk}"' in body


def test_list_is_paginated_with_the_filters_kept(salon_a, login):
    document = salon_a.appointments[1].document
    for index in range(55):
        record_sale_payment(document=document, register=salon_a.cash, amount=100 + index)
    http = login(salon_a.owner)
    first = text(http.get(URL, {"register": salon_a.cash.pk}))
    assert first.count("<td>Payment for a sale</td>") == 50
    assert "Page 1 of 2" in first
    assert f"?register={salon_a.cash.pk}&page=2" in first
    second = text(http.get(URL, {"register": salon_a.cash.pk, "page": 2}))
    assert second.count("<td>Payment for a sale</td>") == 5
    # Totals are of all the filtered rows, not of the page.
    assert sum(100 + index for index in range(55)) == 6985
    assert 'id="total-income">69.85 so\'m<' in first
    assert 'id="total-income">69.85 so\'m<' in second
    assert "Page 2 of 2" in second
    assert http.get(URL, {"page": "last"}).status_code == 200


BAD_FILTERS = [
    ({"register": "abc"}, "Select a valid choice."),
    ({"register": "999999"}, "Select a valid choice."),
    ({"direction": "sideways"}, "Select a valid choice."),
    ({"kind": "theft"}, "Select a valid choice."),
    ({"date_from": "2025-13-01"}, "Enter a valid date."),
    ({"date_to": "yesterday"}, "Enter a valid date."),
    ({"date_to": "9999-12-31"}, "Enter a date between 2000-01-01 and 2100-12-31."),
    ({"date_from": "0001-01-01"}, "Enter a date between 2000-01-01 and 2100-12-31."),
    (
        {"date_from": "2025-01-12", "date_to": "2025-01-10"},
        "The end date cannot be before the start date.",
    ),
    ({"client": "x"}, "Select a valid choice."),
]


@pytest.mark.parametrize("filters,message", BAD_FILTERS)
def test_bad_filters_are_explained_and_show_nothing(salon_a, books, login, filters, message):
    before = snapshot()
    page = login(salon_a.owner).get(reverse("finance:transactions"), filters)
    assert page.status_code == 400
    body = text(page)
    assert message in body
    assert notes(body) == []
    assert snapshot() == before


def test_another_business_register_or_client_shows_nothing(salon_a, salon_b, books, login):
    http = login(salon_a.owner)
    for filters in ({"register": salon_b.cash.pk}, {"client": salon_b.clients[0].pk}):
        page = http.get(reverse("finance:transactions"), filters)
        assert page.status_code == 400
        body = text(page)
        assert "Select a valid choice." in body
        assert notes(body) == [] and "777 000" not in body and "Client B0" not in body


def test_specialist_user_is_refused(salon_a, books, login):
    assert login(salon_a.specialist_user).get(reverse("finance:transactions")).status_code == 403


def test_the_list_is_read_only(salon_a, books, login):
    before = snapshot()
    assert login(salon_a.owner).post(reverse("finance:transactions"), {}).status_code == 405
    assert snapshot() == before
