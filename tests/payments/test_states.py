"""The one transition function: legal moves happen, illegal ones raise, repeats do nothing."""

import itertools
import uuid

import pytest

from navbat.payments.models import Method, PaymentOrder, State
from navbat.payments.states import ALLOWED, IllegalTransition, transition

pytestmark = pytest.mark.django_db


def make_order(salon, state=State.CREATED) -> PaymentOrder:
    appointment = salon.appointments[0]
    return PaymentOrder.objects.create(
        business=salon.business,
        payable_kind="appointment",
        payable_id=appointment.pk,
        document=appointment.document,
        provider="test",
        account_id=1,
        method=Method.CARD,
        amount=10_000_000,
        reference=str(uuid.uuid4()),
        state=state,
    )


EXPECTED_LEGAL = {
    (State.CREATED, State.PENDING),
    (State.CREATED, State.PAID),
    (State.CREATED, State.DECLINED),
    (State.CREATED, State.EXPIRED),
    (State.CREATED, State.CANCELLED),
    (State.PENDING, State.PAID),
    (State.PENDING, State.DECLINED),
    (State.PENDING, State.EXPIRED),
    (State.PENDING, State.CANCELLED),
    (State.DECLINED, State.PENDING),
    (State.DECLINED, State.PAID),
    (State.DECLINED, State.EXPIRED),
    (State.EXPIRED, State.PAID),
    (State.CANCELLED, State.PAID),
    (State.PAID, State.PARTLY_REFUNDED),
    (State.PAID, State.REFUNDED),
    (State.PARTLY_REFUNDED, State.REFUNDED),
}


def test_the_table_is_exactly_the_documented_machine():
    legal = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert legal == EXPECTED_LEGAL


@pytest.mark.parametrize(
    "start,to",
    [(a, b) for a, b in itertools.product(State.values, State.values) if a != b],
)
def test_every_pair_of_states(salon_a, start, to):
    order = make_order(salon_a, start)
    before = PaymentOrder.objects.filter(pk=order.pk).values().get()
    if (start, to) in EXPECTED_LEGAL:
        assert transition(order=order, to=to) is True
        assert PaymentOrder.objects.get(pk=order.pk).state == to
    else:
        with pytest.raises(IllegalTransition):
            transition(order=order, to=to)
        assert PaymentOrder.objects.filter(pk=order.pk).values().get() == before


@pytest.mark.parametrize("state", State.values)
def test_a_repeat_is_a_no_op(salon_a, state):
    order = make_order(salon_a, state)
    before = PaymentOrder.objects.filter(pk=order.pk).values().get()
    assert transition(order=order, to=state, failure_reason="ignored") is False
    assert PaymentOrder.objects.filter(pk=order.pk).values().get() == before


def test_an_unknown_state_is_refused(salon_a):
    order = make_order(salon_a)
    with pytest.raises(ValueError):
        transition(order=order, to="teleported")
    assert PaymentOrder.objects.get(pk=order.pk).state == State.CREATED


def test_leaving_the_open_states_stops_the_checks(salon_a):
    from django.utils import timezone

    order = make_order(salon_a, State.PENDING)
    order.next_check_at = timezone.now()
    order.save()
    transition(order=order, to=State.DECLINED, failure_reason="Declined")
    stored = PaymentOrder.objects.get(pk=order.pk)
    assert (stored.state, stored.next_check_at, stored.failure_reason) == (
        State.DECLINED,
        None,
        "Declined",
    )
