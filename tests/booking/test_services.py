from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from navbat.booking.models import Appointment, AppointmentLine, Status
from navbat.booking.selectors import money_of
from navbat.booking.services import (
    LineInput,
    cancel_appointment,
    change_status,
    create_appointment,
    take_desk_payment,
    update_appointment,
)
from navbat.finance.models import PaymentState, SaleDocument, Transaction
from navbat.kit.errors import Conflict

pytestmark = pytest.mark.django_db


def counts():
    return (
        Appointment.objects.count(),
        AppointmentLine.objects.count(),
        SaleDocument.objects.count(),
        Transaction.objects.count(),
    )


def test_booking_prices_lines_and_opens_a_document(salon_a):
    appointment = salon_a.book(
        hour=14,
        lines=[
            LineInput(kind="service", item_id=salon_a.services[0].pk, discount_percent=10),
            LineInput(kind="service", item_id=salon_a.services[1].pk, unit_price=30_000_000),
            LineInput(kind="product", item_id=salon_a.products[0].pk, quantity=2),
        ],
    )
    # 100 000 − 10 % + 300 000 + 2 × 50 000
    assert appointment.total == 9_000_000 + 30_000_000 + 10_000_000
    assert appointment.document.amount_due == appointment.total
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=90)
    assert [line.amount for line in appointment.lines.all()] == [9_000_000, 30_000_000, 10_000_000]
    assert money_of(appointment).state == PaymentState.UNPAID


def test_overlap_is_refused_and_nothing_is_stored(salon_a):
    before = counts()
    with pytest.raises(Conflict):
        salon_a.book(hour=10, minute=30)
    assert counts() == before


def test_touching_appointments_are_fine(salon_a):
    appointment = salon_a.book(hour=11)  # the 10:00 visit lasts an hour
    assert appointment.starts_at == salon_a.appointments[0].ends_at


def test_cancelled_appointment_frees_its_time_and_restoring_needs_it_free(salon_a):
    first = salon_a.appointments[0]
    cancel_appointment(appointment=first)
    taken = salon_a.book(hour=10)
    with pytest.raises(Conflict):
        change_status(appointment=first, status=Status.BOOKED)
    first.refresh_from_db()
    assert first.status == Status.CANCELLED and not first.occupies_time
    cancel_appointment(appointment=taken)
    restored = change_status(appointment=first, status=Status.BOOKED)
    assert restored.status == Status.BOOKED and restored.occupies_time


@pytest.mark.parametrize("hour,minute", [(7, 0), (19, 30), (20, 0)])
def test_outside_working_hours_is_refused(salon_a, hour, minute):
    before = counts()
    with pytest.raises(ValidationError) as caught:
        salon_a.book(hour=hour, minute=minute)
    assert "working hours" in str(caught.value)
    assert counts() == before


def test_day_off_exception_is_refused(salon_a):
    with pytest.raises(ValidationError):
        salon_a.book(specialist=salon_a.specialists[1], hour=10, days=30)


def test_other_business_items_are_refused(salon_a, salon_b):
    before = counts()
    with pytest.raises(ValidationError):
        salon_a.book(hour=15, lines=[LineInput(kind="service", item_id=salon_b.services[0].pk)])
    with pytest.raises(ValidationError):
        create_appointment(
            business=salon_a.business,
            location=salon_a.location,
            specialist=salon_b.specialists[0],
            client=salon_a.clients[0],
            starts_at=salon_a.at(15),
            lines=[LineInput(kind="service", item_id=salon_a.services[0].pk)],
        )
    with pytest.raises(ValidationError):
        salon_a.book(hour=15, client=salon_b.clients[0])
    assert counts() == before


@pytest.mark.parametrize(
    "line",
    [
        LineInput(kind="service", item_id=0),
        LineInput(kind="gift", item_id=1),
        LineInput(kind="service", item_id=1, quantity=0),
        LineInput(kind="service", item_id=1, quantity=1000),
        LineInput(kind="service", item_id=1, discount_percent=101),
        LineInput(kind="service", item_id=1, discount_percent=-1),
    ],
)
def test_bad_lines_are_refused(salon_a, line):
    if line.item_id == 1:
        line = LineInput(
            kind=line.kind,
            item_id=salon_a.services[0].pk,
            quantity=line.quantity,
            discount_percent=line.discount_percent,
        )
    before = counts()
    with pytest.raises(ValidationError):
        salon_a.book(hour=15, lines=[line])
    assert counts() == before


def test_price_outside_a_range_is_refused(salon_a):
    colouring = salon_a.services[1]  # 200 000 … 500 000 so'm
    for price in (19_999_999, 50_000_001):
        with pytest.raises(ValidationError):
            salon_a.book(
                hour=15, lines=[LineInput(kind="service", item_id=colouring.pk, unit_price=price)]
            )
    ok = salon_a.book(
        hour=15, lines=[LineInput(kind="service", item_id=colouring.pk, unit_price=50_000_000)]
    )
    assert ok.total == 50_000_000


def test_huge_totals_are_refused(salon_a):
    with pytest.raises(ValidationError):
        salon_a.book(
            hour=15,
            lines=[
                LineInput(
                    kind="service",
                    item_id=salon_a.services[0].pk,
                    unit_price=999_999_999_999,
                    quantity=2,
                ),
            ],
        )


def test_empty_lines_are_refused(salon_a):
    before = counts()
    with pytest.raises(ValidationError):
        create_appointment(
            business=salon_a.business,
            location=salon_a.location,
            specialist=salon_a.specialists[0],
            client=salon_a.clients[0],
            starts_at=salon_a.at(15),
            lines=[],
        )
    assert counts() == before


def test_move_to_another_day_keeps_duration_and_reprices_document(salon_a):
    appointment = salon_a.appointments[0]
    moved = update_appointment(appointment=appointment, starts_at=salon_a.at(16, days=2))
    assert moved.starts_at == salon_a.at(16, days=2)
    assert moved.ends_at == salon_a.at(17, days=2)
    updated = update_appointment(
        appointment=moved, lines=[LineInput(kind="product", item_id=salon_a.products[0].pk)]
    )
    assert updated.total == 5_000_000
    updated.document.refresh_from_db()
    assert updated.document.amount_due == 5_000_000


def test_move_onto_a_taken_slot_changes_nothing(salon_a):
    other = salon_a.book(hour=15)
    with pytest.raises(Conflict):
        update_appointment(appointment=other, starts_at=salon_a.at(10, 30))
    other.refresh_from_db()
    assert other.starts_at == salon_a.at(15)


def test_status_machine(salon_a):
    appointment = salon_a.appointments[0]
    for status in (Status.CONFIRMED, Status.ARRIVED, Status.COMPLETED):
        appointment = change_status(appointment=appointment, status=status)
    assert appointment.status == Status.COMPLETED
    with pytest.raises(ValidationError):
        change_status(appointment=appointment, status=Status.NO_SHOW)
    assert (
        change_status(appointment=appointment, status=Status.COMPLETED).status == Status.COMPLETED
    )


def test_desk_payments_drive_payment_state(salon_a):
    appointment = salon_a.appointments[0]  # 100 000 so'm
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000)
    assert money_of(appointment).state == PaymentState.PARTLY_PAID
    assert money_of(appointment).due == 6_000_000
    take_desk_payment(appointment=appointment, register_id=salon_a.card.pk, amount=6_000_000)
    money = money_of(appointment)
    assert (money.paid, money.due, money.state) == (10_000_000, 0, PaymentState.PAID)
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=100)
    assert money_of(appointment).state == PaymentState.OVERPAID
    rows = Transaction.objects.filter(document=appointment.document).order_by("id")
    assert [(t.register_id, t.amount, t.kind, t.client_id) for t in rows] == [
        (salon_a.cash.pk, 4_000_000, "sale_payment", salon_a.clients[0].pk),
        (salon_a.card.pk, 6_000_000, "sale_payment", salon_a.clients[0].pk),
        (salon_a.cash.pk, 100, "sale_payment", salon_a.clients[0].pk),
    ]


@pytest.mark.parametrize("amount", [0, -5, 10**13, 1.5, True])
def test_bad_desk_payment_amounts_change_nothing(salon_a, amount):
    before = counts()
    with pytest.raises(ValidationError):
        take_desk_payment(
            appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=amount
        )
    assert counts() == before


def test_desk_payment_into_another_business_register_is_refused(salon_a, salon_b):
    before = counts()
    with pytest.raises(ValidationError):
        take_desk_payment(
            appointment=salon_a.appointments[0], register_id=salon_b.cash.pk, amount=100
        )
    assert counts() == before


def test_inactive_specialist_and_unperformed_services_are_refused(salon_a):
    before = counts()
    salon_a.specialists[0].services.remove(salon_a.services[1])
    with pytest.raises(ValidationError) as caught:
        salon_a.book(hour=15, lines=[LineInput(kind="service", item_id=salon_a.services[1].pk)])
    assert "does not perform: Colouring A" in str(caught.value)
    moved_away = salon_a.appointments[1]  # specialist 1 still performs colouring
    moved_away.lines.update(service=salon_a.services[1], title="Colouring A")
    with pytest.raises(ValidationError):
        update_appointment(appointment=moved_away, specialist=salon_a.specialists[0])
    salon_a.specialists[1].is_active = False
    salon_a.specialists[1].save()
    with pytest.raises(ValidationError) as caught:
        salon_a.book(specialist=salon_a.specialists[1], hour=15)
    assert "no longer takes appointments" in str(caught.value)
    assert counts() == before


def test_a_repeated_desk_payment_with_one_key_records_once(salon_a):
    appointment = salon_a.appointments[0]
    key = "7f0c7a3e-3a51-4d7e-9d2b-1b2c3d4e5f60"
    first = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000, idempotency_key=key
    )
    again = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000, idempotency_key=key
    )
    assert again.pk == first.pk
    assert Transaction.objects.filter(document=appointment.document).count() == 1
    assert money_of(appointment).paid == 4_000_000
    before = counts()
    with pytest.raises(ValidationError):
        take_desk_payment(
            appointment=appointment,
            register_id=salon_a.cash.pk,
            amount=5_000_000,
            idempotency_key=key,
        )
    assert counts() == before
    other = take_desk_payment(
        appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000
    )
    assert other.pk != first.pk  # without a key every call is a payment of its own
