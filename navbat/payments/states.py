"""The one place a payment order changes state.

Every move goes through :func:`transition`, on the table :data:`MACHINE`: an illegal move
raises ``Refused``, a repeat (the state the order is already in) is a no-op. The bank is the
truth about money, so an order we gave up on (declined, expired, cancelled) may still turn
out paid when the bank says so.
"""

from datetime import timedelta

from django.utils import timezone

from navbat.kit.states import Machine

from . import payables
from .models import PaymentOrder, Refund, RefundState, State

ALLOWED: dict[str, frozenset[str]] = {
    State.CREATED: frozenset(
        {State.PENDING, State.PAID, State.DECLINED, State.EXPIRED, State.CANCELLED}
    ),
    State.PENDING: frozenset({State.PAID, State.DECLINED, State.EXPIRED, State.CANCELLED}),
    State.DECLINED: frozenset({State.PENDING, State.PAID, State.EXPIRED}),
    State.EXPIRED: frozenset({State.PAID}),
    State.CANCELLED: frozenset({State.PAID}),
    State.PAID: frozenset({State.PARTLY_REFUNDED, State.REFUNDED}),
    State.PARTLY_REFUNDED: frozenset({State.REFUNDED}),
    State.REFUNDED: frozenset(),
}

MACHINE = Machine(name="payment", field="state", moves=ALLOWED)

OPEN_STATES = frozenset({State.CREATED, State.PENDING})
SETTLED_STATES = frozenset({State.PAID, State.PARTLY_REFUNDED, State.REFUNDED})
# After a card session ends the bank may still finish a payment begun in it (the client in
# the middle of 3-D Secure): an open card order is given this much longer.
EXPIRY_MARGIN = timedelta(minutes=5)
# Ended without money: the bank refused, the session ran out, or it was called off.
FAILED_STATES = frozenset({State.DECLINED, State.EXPIRED, State.CANCELLED})

# What the payable hears when an order enters these states (payments.payables). A paid
# order's hook (on_paid) is called by the recording of the money, after the books.
HOOKS = {
    State.EXPIRED: "on_expired",
    State.PARTLY_REFUNDED: "on_refunded",
    State.REFUNDED: "on_refunded",
}


def can_move(current: str, to: str) -> bool:
    return MACHINE.allows(current, to)


def transition(*, order: PaymentOrder, to: str, **changes) -> bool:
    """Move ``order`` (locked by the caller) to ``to`` and save it with ``changes``; then
    the payable's hook for the new state, in the same transaction.

    Returns True when the state changed, False for a repeat (nothing is written then).
    Raises ``navbat.kit.errors.Refused`` for an illegal move or an unknown state."""
    if not MACHINE.move(order, to, **changes):
        return False
    if to in FAILED_STATES or to in SETTLED_STATES:
        order.next_check_at = None
    order.updated_at = timezone.now()
    order.save()
    hook = HOOKS.get(to)
    if hook is not None:
        getattr(payables.get(order.payable_kind), hook)(
            business=order.business, payable_id=order.payable_id, order=order
        )
    return True


def refunded_state(order: PaymentOrder) -> str:
    """What a paid order reads once ``order.refunded_amount`` of it is given back."""
    if order.refunded_amount <= 0:
        return State.PAID
    if order.refunded_amount >= order.paid_amount:
        return State.REFUNDED
    return State.PARTLY_REFUNDED


def book_refund(*, order: PaymentOrder, amount: int, fee_returned: int, **changes) -> None:
    """A refund of ``amount`` (with ``fee_returned`` of the bank's fee) is done: the order
    (locked by the caller) counts it and moves on — paid → partly refunded → refunded. A
    second partial refund keeps the state; the payable hears of every refund all the same."""
    order.refunded_amount += amount
    order.fee_returned_amount += fee_returned
    to = refunded_state(order)
    if to == order.state:
        MACHINE.check(order.state, to)  # only a settled order's refunds are counted
        for name, value in changes.items():
            setattr(order, name, value)
        order.updated_at = timezone.now()
        order.save()
        payables.get(order.payable_kind).on_refunded(
            business=order.business, payable_id=order.payable_id, order=order
        )
        return
    transition(order=order, to=to, **changes)


# A refund: requested (stored with its operation key) → at the bank → done or failed. A
# refund from a register is done at once; one the bank refused outright fails from
# requested. Done and failed are final: a failed refund moved nothing, and is asked again
# as a new refund with a new key.
REFUND_MOVES: dict[str, frozenset[str]] = {
    RefundState.REQUESTED: frozenset({RefundState.AT_BANK, RefundState.DONE, RefundState.FAILED}),
    RefundState.AT_BANK: frozenset({RefundState.DONE, RefundState.FAILED}),
    RefundState.DONE: frozenset(),
    RefundState.FAILED: frozenset(),
}

REFUND_MACHINE = Machine(name="refund", field="state", moves=REFUND_MOVES)
REFUND_IN_FLIGHT = frozenset({RefundState.REQUESTED, RefundState.AT_BANK})


def refund_transition(*, refund: Refund, to: str, **changes) -> bool:
    """Move ``refund`` (its order locked by the caller) to ``to`` and save it; False for a
    repeat. Raises ``Refused`` for an illegal move."""
    if not REFUND_MACHINE.move(refund, to, **changes):
        return False
    if to not in REFUND_IN_FLIGHT:
        refund.next_check_at = None
    refund.updated_at = timezone.now()
    refund.save()
    return True
