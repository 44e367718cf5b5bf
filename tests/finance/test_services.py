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


def test_a_keyed_reversal_happens_once_and_books_into_a_closed_register(salon_a):
    """A bank taking a payment back: the reversal is keyed (a repeat returns the first) and
    lands even where the salon has closed the register, as the bank already moved the money."""
    from navbat.finance.models import Transaction

    income = services.record_transaction(
        business=salon_a.business,
        register=salon_a.cash,
        kind=TransactionKind.SALE_PAYMENT,
        amount=5_000_000,
    )
    CashRegister.objects.filter(pk=salon_a.cash.pk).update(is_active=False)
    income.register.refresh_from_db()

    with pytest.raises(ValidationError):
        services.reverse_transaction(original=income, note="no key, closed register")
    first = services.reverse_transaction(
        original=income, idempotency_key="reversal:abc", bank_settlement=True
    )
    again = services.reverse_transaction(
        original=income, idempotency_key="reversal:abc", bank_settlement=True
    )

    assert again.pk == first.pk
    assert (first.kind, first.amount, first.reverses_id) == (
        TransactionKind.REFUND,
        5_000_000,
        income.pk,
    )
    assert Transaction.objects.filter(business=salon_a.business).count() == 2
    with pytest.raises(ValidationError):
        services.reverse_transaction(original=income, idempotency_key="reversal:other")
    assert Transaction.objects.filter(business=salon_a.business).count() == 2
