"""A desk payment's key belongs to the appointment it was first used for: the same key sent
for another appointment (a form copied between windows, a forged request) is refused and
records nothing, instead of answering with the first appointment's payment."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from navbat.booking.selectors import money_of
from navbat.booking.services import take_desk_payment
from navbat.finance import services as finance
from navbat.finance.models import Transaction, TransactionKind

pytestmark = pytest.mark.django_db

KEY = "7f0c7a3e-3a51-4d7e-9d2b-1b2c3d4e5f60"
REFUSED = "This form was already used for another payment. Reload the page."


def rows(salon):
    return list(
        Transaction.objects.filter(business=salon.business)
        .order_by("pk")
        .values_list("pk", "document_id", "amount", "idempotency_key")
    )


def test_a_key_reused_on_another_appointment_is_refused(salon_a):
    first, second = salon_a.appointments[0], salon_a.appointments[1]
    paid = take_desk_payment(
        appointment=first, register_id=salon_a.cash.pk, amount=4_000_000, idempotency_key=KEY
    )
    before = rows(salon_a)

    with pytest.raises(ValidationError) as refused:
        take_desk_payment(
            appointment=second, register_id=salon_a.cash.pk, amount=4_000_000, idempotency_key=KEY
        )

    assert refused.value.messages == [REFUSED]
    assert rows(salon_a) == before
    assert (money_of(first).paid, money_of(second).paid) == (4_000_000, 0)
    # The same appointment with the same key is still the first payment, once.
    again = take_desk_payment(
        appointment=first, register_id=salon_a.cash.pk, amount=4_000_000, idempotency_key=KEY
    )
    assert again.pk == paid.pk and rows(salon_a) == before


def test_the_books_refuse_a_key_for_another_document_or_none(salon_a):
    """The rule lives in the books: any caller with a key is held to the same document."""
    first, second = salon_a.appointments[0], salon_a.appointments[1]
    finance.record_sale_payment(
        document=first.document, register=salon_a.cash, amount=1_000_000, idempotency_key=KEY
    )
    before = rows(salon_a)
    for document in (second.document, None):
        with pytest.raises(ValidationError) as refused:
            finance.record_transaction(
                business=salon_a.business,
                register=salon_a.cash,
                kind=TransactionKind.SALE_PAYMENT,
                amount=1_000_000,
                document=document,
                idempotency_key=KEY,
            )
        assert refused.value.messages == [REFUSED]
    assert rows(salon_a) == before


def test_the_payment_form_of_one_window_sent_to_another_records_nothing(salon_a, login):
    client = login(salon_a.owner)
    first, second = salon_a.appointments[0], salon_a.appointments[1]
    data = {"register": salon_a.cash.pk, "amount": "40 000", "idempotency_key": KEY}
    first_answer = client.post(
        reverse("booking:appointment_payment", args=[first.pk]), data, follow=True
    )
    assert "The payment is recorded." in first_answer.content.decode()
    before = rows(salon_a)

    response = client.post(
        reverse("booking:appointment_payment", args=[second.pk]), data, follow=True
    )

    assert REFUSED in response.content.decode().replace("&#x27;", "'")
    assert "The payment is recorded." not in response.content.decode()
    assert rows(salon_a) == before
    assert money_of(second).paid == 0
