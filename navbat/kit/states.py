"""State machines as tables: which state may follow which, for one field of one model.

A :class:`Machine` is data (``moves``: from-state → the states it may go to) plus one
function that applies a move to an object in memory. An illegal move raises
:class:`~navbat.kit.errors.Refused` and changes nothing; a repeat (the state the object is
already in) is a no-op. Saving is the caller's: each model saves in its own way (payments
stop their checks, booking re-checks the slot, the Merchant API saves its timestamps).
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .errors import Refused

# Refused.reason of a move the table does not allow, and of a state the table does not know.
NOT_ALLOWED = "not_allowed"
UNKNOWN_STATE = "unknown_state"


def _plain(current: str, to: str) -> str:
    return f"{current} → {to} is not allowed"


@dataclass(frozen=True)
class Machine:
    name: str  # for messages and logs: "payment", "appointment"
    field: str  # the attribute that holds the state
    moves: Mapping[str, frozenset[str]]
    # The refusal's message for a person, from (current, to); plain English by default.
    explain: Callable[[str, str], str] = field(default=_plain, compare=False)
    # Where a form or the API shows the refusal ("" for the whole request).
    error_field: str = ""

    def __post_init__(self):
        unknown = {to for targets in self.moves.values() for to in targets} - set(self.moves)
        if unknown:
            raise ValueError(f"{self.name}: moves to undeclared states {sorted(unknown)}")

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.moves)

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Every allowed (from, to), repeats not included."""
        return frozenset((a, b) for a, targets in self.moves.items() for b in targets)

    def allows(self, current: str, to: str) -> bool:
        return to in self.moves.get(current, frozenset())

    def check(self, current: str, to: str) -> bool:
        """True for a move, False for a repeat; raises Refused for anything else."""
        if to not in self.moves or current not in self.moves:
            raise self._refused(current, to, UNKNOWN_STATE)
        if current == to:
            return False
        if not self.allows(current, to):
            raise self._refused(current, to, NOT_ALLOWED)
        return True

    def move(self, obj, to: str, **changes) -> bool:
        """Set ``obj``'s state to ``to`` and the other ``changes``, in memory. Returns False
        for a repeat (nothing is set then, not even ``changes``)."""
        if not self.check(getattr(obj, self.field), to):
            return False
        setattr(obj, self.field, to)
        for name, value in changes.items():
            setattr(obj, name, value)
        return True

    def _refused(self, current: str, to: str, reason: str) -> Refused:
        return Refused(
            self.explain(current, to),
            reason=reason,
            field=self.error_field,
            current=current,
            to=to,
        )
