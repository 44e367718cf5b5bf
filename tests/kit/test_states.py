"""The state-machine helper (kit.states) on a toy machine: moves, repeats, refusals."""

import pickle
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from navbat.kit.errors import Refused
from navbat.kit.states import NOT_ALLOWED, UNKNOWN_STATE, Machine

LAMP = Machine(
    name="lamp",
    field="light",
    moves={"off": frozenset({"on"}), "on": frozenset({"off", "broken"}), "broken": frozenset()},
)


def test_a_move_sets_the_state_and_the_changes():
    lamp = SimpleNamespace(light="off", watts=0)
    assert LAMP.move(lamp, "on", watts=60) is True
    assert vars(lamp) == {"light": "on", "watts": 60}


def test_a_repeat_sets_nothing():
    lamp = SimpleNamespace(light="on", watts=60)
    assert LAMP.move(lamp, "on", watts=100) is False
    assert vars(lamp) == {"light": "on", "watts": 60}


def test_an_illegal_move_is_refused_with_its_reason_and_sets_nothing():
    lamp = SimpleNamespace(light="broken", watts=0)
    with pytest.raises(Refused) as refused:
        LAMP.move(lamp, "on", watts=60)
    error = refused.value
    assert (error.reason, error.current, error.to) == (NOT_ALLOWED, "broken", "on")
    assert error.messages == ["broken → on is not allowed"]
    assert [e.code for e in error.error_list] == [NOT_ALLOWED]
    assert isinstance(error, ValidationError)
    assert vars(lamp) == {"light": "broken", "watts": 0}


@pytest.mark.parametrize("current,to", [("off", "dimmed"), ("dimmed", "off")])
def test_a_state_the_table_does_not_know_is_refused(current, to):
    lamp = SimpleNamespace(light=current)
    with pytest.raises(Refused) as refused:
        LAMP.move(lamp, to)
    assert refused.value.reason == UNKNOWN_STATE
    assert lamp.light == current


def test_a_refusal_can_name_its_field_and_speak_to_people():
    desk = Machine(
        name="lamp",
        field="light",
        moves=LAMP.moves,
        explain=lambda current, to: f"The lamp cannot go from {current} to {to}.",
        error_field="light",
    )
    with pytest.raises(Refused) as refused:
        desk.check("broken", "off")
    assert refused.value.message_dict == {"light": ["The lamp cannot go from broken to off."]}
    assert refused.value.reason == NOT_ALLOWED


def test_a_refusal_survives_pickling():
    with pytest.raises(Refused) as refused:
        LAMP.check("broken", "on")
    copy = pickle.loads(pickle.dumps(refused.value))  # noqa: S301 - our own bytes
    assert (copy.reason, copy.current, copy.to, copy.messages) == (
        NOT_ALLOWED,
        "broken",
        "on",
        ["broken → on is not allowed"],
    )


def test_the_table_answers_without_an_object():
    assert LAMP.pairs() == {("off", "on"), ("on", "off"), ("on", "broken")}
    assert LAMP.states == {"off", "on", "broken"}
    assert (LAMP.allows("off", "on"), LAMP.allows("off", "broken")) == (True, False)
    assert (LAMP.check("off", "on"), LAMP.check("off", "off")) == (True, False)


def test_a_table_moving_to_an_undeclared_state_is_a_mistake_caught_at_once():
    with pytest.raises(ValueError, match="undeclared states \\['dimmed'\\]"):
        Machine(name="lamp", field="light", moves={"off": frozenset({"dimmed"})})
