"""Places on a room's page that the rooms above it fill in.

A room may not name a higher room's URL or import its code (docs/ARCHITECTURE.md). When
its page should still show something of theirs (finance's menu lists the online payments;
a client's page lists the visits), it leaves a slot, ``{% slot "finance.nav" %}``, and each
room above contributes a template to it from its ``AppConfig.ready()``, with a function
that adds what that template needs to the page's context. The lower room never learns who
filled the slot.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.template import Context


@dataclass(frozen=True)
class Contribution:
    template: str
    order: int = 0
    # Reads the page's context (the request, the page's objects) and returns what the
    # template adds to it; None when the page's context is enough.
    context: Callable[[Context], dict] | None = None


_SLOTS: dict[str, tuple[Contribution, ...]] = {}


def contribute(
    slot: str,
    *,
    template: str,
    order: int = 0,
    context: Callable[[Context], dict] | None = None,
) -> None:
    """Show ``template`` in ``slot``, lowest ``order`` first. Contributing the same
    template again replaces it (``ready()`` may run more than once in tests)."""
    others = [c for c in _SLOTS.get(slot, ()) if c.template != template]
    others.append(Contribution(template=template, order=order, context=context))
    _SLOTS[slot] = tuple(sorted(others, key=lambda c: (c.order, c.template)))


def contributions(slot: str) -> tuple[Contribution, ...]:
    return _SLOTS.get(slot, ())
