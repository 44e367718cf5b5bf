"""The one place a payment order changes state.

Every move goes through :func:`transition`: an illegal move raises, a repeat (the state the
order is already in) is a no-op. The bank is the truth about money, so an order we gave up
on (declined, expired, cancelled) may still turn out paid when the bank says so.
"""

from datetime import timedelta

from django.utils import timezone

from .models import PaymentOrder, State

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

OPEN_STATES = frozenset({State.CREATED, State.PENDING})
SETTLED_STATES = frozenset({State.PAID, State.PARTLY_REFUNDED, State.REFUNDED})
# After a card session ends the bank may still finish a payment begun in it (the client in
# the middle of 3-D Secure): an open card order is given this much longer.
EXPIRY_MARGIN = timedelta(minutes=5)
# Ended without money: the bank refused, the session ran out, or it was called off.
FAILED_STATES = frozenset({State.DECLINED, State.EXPIRED, State.CANCELLED})


class IllegalTransition(Exception):
    def __init__(self, order: PaymentOrder, to: str):
        super().__init__(f"payment {order.reference}: {order.state} → {to} is not allowed")
        self.order = order
        self.to = to


def can_move(current: str, to: str) -> bool:
    return to in ALLOWED.get(current, frozenset())


def transition(*, order: PaymentOrder, to: str, **changes) -> bool:
    """Move ``order`` (locked by the caller) to ``to`` and save it with ``changes``.

    Returns True when the state changed, False for a repeat (nothing is written then)."""
    if to not in ALLOWED:
        raise ValueError(f"unknown payment state {to!r}")
    if order.state == to:
        return False
    if not can_move(order.state, to):
        raise IllegalTransition(order, to)
    order.state = to
    for name, value in changes.items():
        setattr(order, name, value)
    if to in (State.DECLINED, State.EXPIRED, State.CANCELLED) or to in SETTLED_STATES:
        order.next_check_at = None
    order.updated_at = timezone.now()
    order.save()
    return True
