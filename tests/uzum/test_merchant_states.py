"""A Merchant API transaction's states (uzum.merchant.states), on transactions in memory:
CREATED → CONFIRMED → REVERSED, CREATED → REVERSED, CREATED → FAILED; nothing else."""

import itertools

import pytest

from navbat.kit.errors import Refused
from navbat.kit.states import NOT_ALLOWED
from navbat.uzum.merchant.states import MACHINE
from navbat.uzum.models import MerchantTransaction, TransactionState

T = TransactionState
EXPECTED_LEGAL = {
    (T.CREATED, T.CONFIRMED),
    (T.CREATED, T.REVERSED),
    (T.CREATED, T.FAILED),
    (T.CONFIRMED, T.REVERSED),
}
PAIRS = [(a, b) for a, b in itertools.product(T.values, T.values) if a != b]


def memory_transaction(state: str) -> MerchantTransaction:
    return MerchantTransaction(business_id=1, connection_id=1, order_id=1, amount=1, state=state)


def fields(tx: MerchantTransaction) -> dict:
    return {f.attname: getattr(tx, f.attname) for f in MerchantTransaction._meta.concrete_fields}


def test_the_table_is_exactly_the_protocol_s_machine():
    assert MACHINE.pairs() == EXPECTED_LEGAL
    assert (MACHINE.states, len(PAIRS)) == (set(T.values), 12)


@pytest.mark.parametrize("start,to", PAIRS)
def test_every_pair_of_states(start, to):
    tx = memory_transaction(start)
    before = fields(tx)
    if (start, to) in EXPECTED_LEGAL:
        assert MACHINE.move(tx, to, phone="998901234567") is True
        assert fields(tx) == {**before, "state": to, "phone": "998901234567"}
    else:
        with pytest.raises(Refused) as refused:
            MACHINE.move(tx, to, phone="998901234567")
        assert (refused.value.reason, refused.value.current, refused.value.to) == (
            NOT_ALLOWED,
            start,
            to,
        )
        assert fields(tx) == before


@pytest.mark.parametrize("state", T.values)
def test_a_repeat_is_a_no_op(state):
    tx = memory_transaction(state)
    before = fields(tx)
    assert MACHINE.move(tx, state, phone="998901234567") is False
    assert fields(tx) == before
