"""The services and selectors behind the finance pages."""

import pytest
from django.core.exceptions import ValidationError

from navbat.finance import selectors, services
from navbat.finance.models import CashRegister, TransactionKind

from ..salons.pages import snapshot

pytestmark = pytest.mark.django_db


def test_add_register_open_and_closed(salon_a):
    online = services.create_register(
        business=salon_a.business, name=" Uzum Bank ", kind="online", location=salon_a.location
    )
    assert (online.name, online.kind, online.location, online.is_active) == (
        "Uzum Bank",
        "online",
        salon_a.location,
        True,
    )
    closed = services.create_register(
        business=salon_a.business, name="Old", kind="cash", is_active=False
    )
    closed.refresh_from_db()
    assert closed.is_active is False


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "Cash"},
        {"kind": "bank"},
        {"location": "foreign"},
    ],
)
def test_add_register_refuses_bad_input(salon_a, salon_b, fields):
    data = {"name": "New", "kind": "cash", "location": None, **fields}
    if data["location"] == "foreign":
        data["location"] = salon_b.location
    before = snapshot()
    with pytest.raises(ValidationError):
        services.create_register(business=salon_a.business, **data)
    assert snapshot() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"name": ""},
        {"name": "x" * 101},
        {"name": "Card terminal"},
        {"kind": "bank"},
        {"location": "foreign"},
    ],
)
def test_update_register_refuses_bad_input(salon_a, salon_b, fields):
    data = {"name": "Cash", "kind": "cash", "location": None, **fields}
    if data["location"] == "foreign":
        data["location"] = salon_b.location
    before = snapshot()
    with pytest.raises(ValidationError):
        services.update_register(register=salon_a.cash, **data)
    assert snapshot() == before


def test_update_register(salon_a):
    services.update_register(
        register=salon_a.cash, name="Main drawer", kind="cash", location=None, is_active=False
    )
    register = CashRegister.objects.get(pk=salon_a.cash.pk)
    assert (register.name, register.location, register.is_active) == ("Main drawer", None, False)


def test_registers_with_totals(salon_a, salon_b):
    def book(salon, register, kind, amount):
        services.record_transaction(
            business=salon.business, register=register, kind=kind, amount=amount
        )

    book(salon_a, salon_a.cash, TransactionKind.SALE_PAYMENT, 1_000)
    book(salon_a, salon_a.cash, TransactionKind.SALE_PAYMENT, 2_000)
    book(salon_a, salon_a.cash, TransactionKind.REFUND, 500)
    book(salon_b, salon_b.cash, TransactionKind.SALE_PAYMENT, 99_999)
    rows = {
        r.name: (r.income, r.expense, r.net)
        for r in selectors.registers_with_totals(business=salon_a.business)
    }
    assert rows == {"Card terminal": (0, 0, 0), "Cash": (3_000, 500, 2_500)}
