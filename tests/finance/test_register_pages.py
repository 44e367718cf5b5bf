import re

import pytest
from django.urls import reverse

from navbat.finance.models import CashRegister, TransactionKind
from navbat.finance.services import record_transaction

from ..salons.pages import snapshot, text

pytestmark = pytest.mark.django_db


def register_data(salon, **overrides):
    data = {
        "name": "Uzum Bank",
        "kind": "online",
        "location": salon.location.pk,
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def row_of(body: str, register) -> str:
    match = re.search(rf'<tr id="register-{register.pk}">(.*?)</tr>', body, re.S)
    assert match, f"no row for {register}"
    return match.group(1)


def book(salon, register, kind, amount):
    return record_transaction(business=salon.business, register=register, kind=kind, amount=amount)


def test_registers_list_shows_totals_per_register(salon_a, salon_b, login):
    book(salon_a, salon_a.cash, TransactionKind.SALE_PAYMENT, 10_000_000)
    book(salon_a, salon_a.cash, TransactionKind.OTHER_INCOME, 2_500_000)
    book(salon_a, salon_a.cash, TransactionKind.OTHER_EXPENSE, 3_000_050)
    book(salon_a, salon_a.card, TransactionKind.SALE_PAYMENT, 5_000_000)
    book(salon_a, salon_a.card, TransactionKind.REFUND, 5_000_000)
    book(salon_b, salon_b.cash, TransactionKind.SALE_PAYMENT, 77_700_000)
    page = login(salon_a.owner).get(reverse("finance:registers"))
    assert page.status_code == 200
    body = text(page)
    cash = row_of(body, salon_a.cash)
    assert "Cash" in cash and "Location A" in cash and "Yes" in cash
    assert "125 000 so'm" in cash  # income
    assert "30 000.50 so'm" in cash  # expense
    assert "94 999.50 so'm" in cash  # net
    card = row_of(body, salon_a.card)
    assert "Card terminal" in card
    assert card.count("50 000 so'm") == 2 and ">0 so'm<" in card
    assert "777 000 so'm" not in body
    assert f'id="register-{salon_b.cash.pk}"' not in body
    # The finance sub-navigation.
    assert 'class="subnav"' in body and reverse("finance:transactions") in body


def test_owner_creates_a_register(salon_a, login):
    response = login(salon_a.owner).post(reverse("finance:register_new"), register_data(salon_a))
    assert response.status_code == 302
    assert response["Location"] == reverse("finance:registers")
    register = CashRegister.objects.get(business=salon_a.business, name="Uzum Bank")
    assert (register.kind, register.location, register.is_active) == (
        "online",
        salon_a.location,
        True,
    )


def test_a_register_may_be_created_closed_and_without_a_location(salon_a, login):
    data = register_data(salon_a, name="Old drawer", kind="cash", location="", is_active=None)
    assert login(salon_a.owner).post(reverse("finance:register_new"), data).status_code == 302
    register = CashRegister.objects.get(business=salon_a.business, name="Old drawer")
    assert (register.kind, register.location, register.is_active) == ("cash", None, False)


def test_owner_edits_a_register(salon_a, login):
    book(salon_a, salon_a.card, TransactionKind.SALE_PAYMENT, 1_000_000)
    url = reverse("finance:register_edit", kwargs={"register_id": salon_a.card.pk})
    http = login(salon_a.owner)
    assert 'value="Card terminal"' in text(http.get(url))
    data = register_data(salon_a, name="Humo terminal", kind="card_terminal", is_active=None)
    assert http.post(url, data).status_code == 302
    salon_a.card.refresh_from_db()
    assert (salon_a.card.name, salon_a.card.kind, salon_a.card.is_active) == (
        "Humo terminal",
        "card_terminal",
        False,
    )
    assert salon_a.card.transactions.count() == 1


def test_keeping_the_own_name_is_not_a_duplicate(salon_a, login):
    url = reverse("finance:register_edit", kwargs={"register_id": salon_a.cash.pk})
    data = register_data(salon_a, name="Cash", kind="cash")
    assert login(salon_a.owner).post(url, data).status_code == 302


def test_the_same_name_in_another_business_is_fine(salon_a, salon_b, login):
    data = register_data(salon_a, name="Uzum Bank")
    login(salon_b.owner).post(reverse("finance:register_new"), register_data(salon_b))
    assert login(salon_a.owner).post(reverse("finance:register_new"), data).status_code == 302
    assert CashRegister.objects.filter(name="Uzum Bank").count() == 2


BAD_REGISTERS = [
    ({"name": ""}, "This field is required."),
    ({"name": "  "}, "This field is required."),
    ({"name": "r" * 101}, "at most 100 characters"),
    ({"name": "Card terminal"}, "A register with this name already exists."),
    ({"kind": ""}, "This field is required."),
    ({"kind": "bank"}, "Select a valid choice."),
    ({"location": "abc"}, "Select a valid choice."),
    ({"location": "999999"}, "Select a valid choice."),
]


@pytest.mark.parametrize("overrides,message", BAD_REGISTERS)
def test_bad_register_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    http = login(salon_a.owner)
    before = snapshot()
    for url in (
        reverse("finance:register_new"),
        reverse("finance:register_edit", kwargs={"register_id": salon_a.cash.pk}),
    ):
        response = http.post(url, register_data(salon_a, **overrides))
        assert response.status_code == 400
        assert message in text(response)
    assert snapshot() == before


def test_another_business_location_is_refused(salon_a, salon_b, login):
    http = login(salon_a.owner)
    before = snapshot()
    response = http.post(
        reverse("finance:register_new"), register_data(salon_a, location=salon_b.location.pk)
    )
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    assert snapshot() == before


def test_specialist_user_is_refused(salon_a, login):
    http = login(salon_a.specialist_user)
    edit = reverse("finance:register_edit", kwargs={"register_id": salon_a.cash.pk})
    before = snapshot()
    assert http.get(reverse("finance:registers")).status_code == 403
    assert http.get(reverse("finance:register_new")).status_code == 403
    assert http.post(reverse("finance:register_new"), register_data(salon_a)).status_code == 403
    assert http.get(edit).status_code == 403
    assert http.post(edit, register_data(salon_a)).status_code == 403
    assert snapshot() == before


def test_another_business_register_is_not_found(salon_a, salon_b, login):
    http = login(salon_a.owner)
    url = reverse("finance:register_edit", kwargs={"register_id": salon_b.cash.pk})
    before = snapshot()
    assert http.get(url).status_code == 404
    assert http.post(url, register_data(salon_a, name="Taken over")).status_code == 404
    assert snapshot() == before
