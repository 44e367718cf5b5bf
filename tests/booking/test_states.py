"""The appointment's status table (booking.states), on appointments in memory: every
allowed move, every forbidden one refused with nothing changed, repeats do nothing."""

import itertools

import pytest
from django.core.exceptions import ValidationError

from navbat.booking.models import Appointment, Status
from navbat.booking.selectors import next_statuses
from navbat.booking.states import ALLOWED, MACHINE
from navbat.kit.errors import Refused
from navbat.kit.states import NOT_ALLOWED, UNKNOWN_STATE

EXPECTED_LEGAL = {
    (Status.AWAITING_PAYMENT, Status.BOOKED),
    (Status.AWAITING_PAYMENT, Status.CONFIRMED),
    (Status.AWAITING_PAYMENT, Status.CANCELLED),
    (Status.BOOKED, Status.CONFIRMED),
    (Status.BOOKED, Status.ARRIVED),
    (Status.BOOKED, Status.COMPLETED),
    (Status.BOOKED, Status.NO_SHOW),
    (Status.BOOKED, Status.CANCELLED),
    (Status.CONFIRMED, Status.BOOKED),
    (Status.CONFIRMED, Status.ARRIVED),
    (Status.CONFIRMED, Status.COMPLETED),
    (Status.CONFIRMED, Status.NO_SHOW),
    (Status.CONFIRMED, Status.CANCELLED),
    (Status.ARRIVED, Status.COMPLETED),
    (Status.ARRIVED, Status.CONFIRMED),
    (Status.ARRIVED, Status.CANCELLED),
    (Status.COMPLETED, Status.ARRIVED),
    (Status.NO_SHOW, Status.BOOKED),
    (Status.CANCELLED, Status.BOOKED),
}
PAIRS = [(a, b) for a, b in itertools.product(Status.values, Status.values) if a != b]


def memory_appointment(status: str) -> Appointment:
    return Appointment(business_id=1, status=status, total=10_000_000, occupies_time=True)


def fields(appointment: Appointment) -> dict:
    return {f.attname: getattr(appointment, f.attname) for f in Appointment._meta.concrete_fields}


def test_the_table_is_exactly_the_documented_machine():
    assert MACHINE.pairs() == EXPECTED_LEGAL
    # What the window offers is the same table, in the order of Status, with its labels.
    for status in Status.values:
        offered = next_statuses(memory_appointment(status))
        assert {value for value, _label in offered} == ALLOWED[status]
        assert offered == [(v, label) for v, label in Status.choices if v in ALLOWED[status]]
    assert (MACHINE.field, MACHINE.states, len(PAIRS)) == ("status", set(Status.values), 42)


@pytest.mark.parametrize("start,to", PAIRS)
def test_every_pair_of_statuses(start, to):
    appointment = memory_appointment(start)
    before = fields(appointment)
    if (start, to) in EXPECTED_LEGAL:
        assert MACHINE.move(appointment, to) is True
        assert fields(appointment) == {**before, "status": to}
    else:
        with pytest.raises(Refused) as refused:
            MACHINE.move(appointment, to, occupies_time=False)
        assert refused.value.reason == NOT_ALLOWED
        old, new = Status(start).label, Status(to).label
        assert refused.value.message_dict == {
            "status": [f"An appointment cannot go from “{old}” to “{new}”."]
        }
        assert isinstance(refused.value, ValidationError)  # forms and the API answer 422
        assert fields(appointment) == before


@pytest.mark.parametrize("status", Status.values)
def test_a_repeat_is_a_no_op(status):
    appointment = memory_appointment(status)
    before = fields(appointment)
    assert MACHINE.move(appointment, status, occupies_time=False) is False
    assert fields(appointment) == before


def test_an_unknown_status_is_refused_by_its_name():
    appointment = memory_appointment(Status.BOOKED)
    with pytest.raises(Refused) as refused:
        MACHINE.move(appointment, "teleported")
    assert refused.value.reason == UNKNOWN_STATE
    assert refused.value.message_dict == {
        "status": ["An appointment cannot go from “Booked” to “teleported”."]
    }
    assert appointment.status == Status.BOOKED


def test_the_window_offers_the_moves_of_the_table():
    assert next_statuses(memory_appointment(Status.CANCELLED)) == [
        (Status.BOOKED, Status.BOOKED.label)
    ]
    assert next_statuses(memory_appointment(Status.COMPLETED)) == [
        (Status.ARRIVED, Status.ARRIVED.label)
    ]
