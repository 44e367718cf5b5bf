"""Real threads, real connections, real locks: the same slot booked 20 times at once."""

import threading

import pytest
from django.db import IntegrityError, connection, connections, transaction

from navbat.booking.models import Appointment
from navbat.booking.services import LineInput, create_appointment
from navbat.kit.errors import Conflict

ATTEMPTS = 20

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]


def _race(salon, *, minute: int) -> list[str]:
    barrier = threading.Barrier(ATTEMPTS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            create_appointment(
                business=salon.business,
                location=salon.location,
                specialist=salon.specialists[0],
                client=salon.clients[index % 2],
                starts_at=salon.at(16, minute),
                lines=[LineInput(kind="service", item_id=salon.services[0].pk)],
            )
            result = "booked"
        except Conflict as exc:
            result = "refused: " + " ".join(exc.messages)
        except Exception as exc:  # anything else is a failure the test must show
            result = f"error: {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def test_twenty_concurrent_bookings_of_one_slot_create_exactly_one(salon_a):
    outcomes = _race(salon_a, minute=0)
    assert outcomes.count("booked") == 1, outcomes
    refusals = [o for o in outcomes if o.startswith("refused")]
    assert len(refusals) == ATTEMPTS - 1, outcomes
    assert all("already has an appointment at this time" in o for o in refusals)
    assert (
        Appointment.objects.filter(
            specialist=salon_a.specialists[0], starts_at=salon_a.at(16)
        ).count()
        == 1
    )


def test_overlapping_not_identical_slots_also_yield_one(salon_a):
    outcomes = _race(salon_a, minute=15)
    assert outcomes.count("booked") == 1, outcomes


def test_database_constraint_refuses_overlap_even_without_the_service(salon_a):
    """The exclusion constraint is the backstop when code skips the service's lock."""
    existing = salon_a.appointments[0]
    clone = Appointment(
        business=existing.business,
        location=existing.location,
        specialist=existing.specialist,
        client=existing.client,
        starts_at=existing.starts_at,
        ends_at=existing.ends_at,
        document=existing.document.__class__.objects.create(
            business=existing.business, kind="visit", title="x"
        ),
    )
    with pytest.raises(IntegrityError, match="appointment_no_overlap"), transaction.atomic():
        clone.save()


def test_ten_concurrent_submissions_of_one_desk_payment_record_one(salon_a):
    """A double-clicked form sent by two browsers' worth of threads: one transaction."""
    from navbat.booking.services import take_desk_payment
    from navbat.finance.models import Transaction

    appointment = salon_a.appointments[0]
    barrier = threading.Barrier(10)
    ids: list[int] = []
    lock = threading.Lock()

    def submit() -> None:
        try:
            barrier.wait(timeout=30)
            with transaction.atomic():
                payment = take_desk_payment(
                    appointment=appointment,
                    register_id=salon_a.cash.pk,
                    amount=10_000_000,
                    idempotency_key="b1f3c1de-0000-4000-8000-000000000001",
                )
            with lock:
                ids.append(payment.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(ids) == 10 and len(set(ids)) == 1
    assert Transaction.objects.filter(document=appointment.document).count() == 1
