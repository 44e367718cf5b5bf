"""A Merchant API transaction's states as the app and we agree on them (uzum-bank.md §2):
``CREATED → CONFIRMED → REVERSED``, ``CREATED → REVERSED``, and ``CREATED → FAILED`` when it
is not confirmed in time. The protocol's own answers to a repeat (10016 confirmed again,
10018 reversed again) are given by the services before a move is asked for."""

from navbat.kit.states import Machine

from ..models import TransactionState

ALLOWED: dict[str, frozenset[str]] = {
    TransactionState.CREATED: frozenset(
        {TransactionState.CONFIRMED, TransactionState.REVERSED, TransactionState.FAILED}
    ),
    TransactionState.CONFIRMED: frozenset({TransactionState.REVERSED}),
    TransactionState.REVERSED: frozenset(),
    TransactionState.FAILED: frozenset(),
}

MACHINE = Machine(name="app transaction", field="state", moves=ALLOWED)
