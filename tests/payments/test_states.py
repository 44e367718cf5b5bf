"""The one transition function: legal moves happen, illegal ones raise, repeats do nothing.

The table is checked on orders in memory (no database, no salon); what needs rows (that a
move is saved, a refusal writes nothing, the payable hears of expiry and refunds) is
checked after, on a few orders of one salon."""

import itertools
import uuid

import pytest
from django.utils import timezone

from navbat.kit.errors import Refused
from navbat.kit.states import NOT_ALLOWED, UNKNOWN_STATE
from navbat.payments import payables
from navbat.payments.models import Method, PaymentOrder, State
from navbat.payments.states import ALLOWED, MACHINE, can_move, transition

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
PAIRS = [(a, b) for a, b in itertools.product(State.values, State.values) if a != b]
ILLEGAL = [pair for pair in PAIRS if pair not in EXPECTED_LEGAL]


def memory_order(state=State.CREATED) -> PaymentOrder:
    """An order that is never saved: what the table does to it shows in its fields."""
    return PaymentOrder(
        business_id=1,
        payable_kind="appointment",
        payable_id=1,
        document_id=1,
        provider="test",
        account_id=1,
        method=Method.CARD,
        amount=10_000_000,
        reference=str(uuid.uuid4()),
        state=state,
    )


def fields(order: PaymentOrder) -> dict:
    return {f.attname: getattr(order, f.attname) for f in PaymentOrder._meta.concrete_fields}


# ------------------------------------------------------------------ the table, in memory


def test_the_table_is_exactly_the_documented_machine():
    legal = {(a, b) for a, targets in ALLOWED.items() for b in targets}
    assert legal == EXPECTED_LEGAL
    assert MACHINE.pairs() == EXPECTED_LEGAL
    assert MACHINE.states == frozenset(State.values)
    assert (MACHINE.field, len(PAIRS), len(ILLEGAL)) == ("state", 56, 39)


@pytest.mark.parametrize("start,to", PAIRS)
def test_every_pair_of_states(start, to):
    order = memory_order(start)
    before = fields(order)
    if (start, to) in EXPECTED_LEGAL:
        assert can_move(start, to) is True
        assert MACHINE.move(order, to) is True
        assert fields(order) == {**before, "state": to}
    else:
        assert can_move(start, to) is False
        with pytest.raises(Refused) as refused:
            MACHINE.move(order, to, failure_reason="ignored")
        assert (refused.value.reason, refused.value.current, refused.value.to) == (
            NOT_ALLOWED,
            start,
            to,
        )
        assert refused.value.messages == [f"{start} → {to} is not allowed"]
        assert fields(order) == before


@pytest.mark.parametrize("state", State.values)
def test_a_repeat_is_a_no_op(state):
    order = memory_order(state)
    before = fields(order)
    assert MACHINE.move(order, state, failure_reason="ignored") is False
    assert fields(order) == before


def test_an_unknown_state_is_refused():
    order = memory_order()
    with pytest.raises(Refused) as refused:
        MACHINE.move(order, "teleported")
    assert refused.value.reason == UNKNOWN_STATE
    assert order.state == State.CREATED


# ------------------------------------------------------------------ saved, on real rows


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


@pytest.mark.django_db
def test_every_legal_move_is_saved_and_every_illegal_one_writes_nothing(salon_a):
    for start, to in sorted(EXPECTED_LEGAL):
        order = make_order(salon_a, start)
        assert transition(order=order, to=to) is True
        assert PaymentOrder.objects.get(pk=order.pk).state == to
    for start, to in ILLEGAL:
        order = make_order(salon_a, start)
        before = PaymentOrder.objects.filter(pk=order.pk).values().get()
        with pytest.raises(Refused):
            transition(order=order, to=to)
        assert PaymentOrder.objects.filter(pk=order.pk).values().get() == before
    assert PaymentOrder.objects.count() == 56


@pytest.mark.django_db
def test_a_repeat_writes_nothing(salon_a):
    for state in State.values:
        order = make_order(salon_a, state)
        before = PaymentOrder.objects.filter(pk=order.pk).values().get()
        assert transition(order=order, to=state, failure_reason="ignored") is False
        assert PaymentOrder.objects.filter(pk=order.pk).values().get() == before


@pytest.mark.django_db
def test_an_unknown_state_is_refused_and_nothing_is_saved(salon_a):
    order = make_order(salon_a)
    with pytest.raises(Refused) as refused:
        transition(order=order, to="teleported")
    assert refused.value.reason == UNKNOWN_STATE
    assert PaymentOrder.objects.get(pk=order.pk).state == State.CREATED


@pytest.mark.django_db
def test_leaving_the_open_states_stops_the_checks(salon_a):
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


class Listening:
    """The appointment payable, with every hook call written down."""

    def __init__(self, real):
        self.real = real
        self.kind = real.kind
        self.heard: list[tuple[str, int, str, str]] = []

    def __getattr__(self, name):
        return getattr(self.real, name)

    def _hear(self, hook, business, payable_id, order):
        stored = PaymentOrder.objects.get(pk=order.pk)  # the move is saved before the hook
        self.heard.append((hook, payable_id, stored.state, business.slug))

    def on_paid(self, *, business, payable_id, order):
        self._hear("on_paid", business, payable_id, order)

    def on_refunded(self, *, business, payable_id, order):
        self._hear("on_refunded", business, payable_id, order)

    def on_expired(self, *, business, payable_id, order):
        self._hear("on_expired", business, payable_id, order)


@pytest.fixture
def listening():
    real = payables.get("appointment")
    spy = Listening(real)
    payables.register(spy)
    yield spy
    payables.register(real)


@pytest.mark.django_db
def test_the_payable_hears_of_expiry_and_refunds_once_each(salon_a, listening):
    appointment_id = salon_a.appointments[0].pk
    expiring = make_order(salon_a, State.PENDING)
    refunded = make_order(salon_a, State.PAID)
    partly = make_order(salon_a, State.PAID)
    transition(order=expiring, to=State.EXPIRED)
    transition(order=expiring, to=State.EXPIRED)  # a repeat: not heard again
    transition(order=partly, to=State.PARTLY_REFUNDED)
    transition(order=partly, to=State.REFUNDED)
    transition(order=refunded, to=State.REFUNDED)
    for start, to in [(State.CREATED, State.PENDING), (State.PENDING, State.DECLINED)]:
        transition(order=make_order(salon_a, start), to=to)  # moves without a hook
    assert listening.heard == [
        ("on_expired", appointment_id, State.EXPIRED, "salon-a"),
        ("on_refunded", appointment_id, State.PARTLY_REFUNDED, "salon-a"),
        ("on_refunded", appointment_id, State.REFUNDED, "salon-a"),
        ("on_refunded", appointment_id, State.REFUNDED, "salon-a"),
    ]
