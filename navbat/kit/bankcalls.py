"""No call to a bank while this thread's database transaction is open.

A bank may take seconds (or its whole timeout) to answer. Inside ``transaction.atomic()``
every row lock taken so far, and on SQLite (IMMEDIATE transactions) the whole database's
write lock, would be held that long. So every function that talks to a bank over the
network starts with :func:`ensure_outside_transaction` (or carries :func:`bank_call`), and
refuses, in every mode, before anything is sent: a forgotten rule fails on the first test
or the first try, not under load.

Views: Django wraps each view in a transaction (``ATOMIC_REQUESTS``). A view that reaches
a bank call carries :func:`bank_calling_view`, which takes it out of the request
transaction (its services commit their own short transactions around the call) and marks
it; ``tests/kit/test_bankcalls.py`` walks every URL and fails on a view that reaches a
bank call without it.

Tests: a non-transactional test runs inside the atomic blocks of Django's ``TestCase``,
which Django marks ``_from_testcase`` (as it does for ``durable=True``); those do not count.
Scaffolding that opens its own outer atomic for many tests (data built once and rolled
back) marks it the same way with :func:`mark_test_scaffolding`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.db import connections, transaction

F = TypeVar("F", bound=Callable)

# Functions that call a bank (registered by ``bank_call``), for the URL walk of the tests.
BANK_CALLS: set[Callable] = set()
# Views marked by ``bank_calling_view``.
BANK_CALLING_VIEWS: set[Callable] = set()


class BankCallInTransaction(RuntimeError):
    """A bank call was about to run inside an open database transaction; nothing was sent."""

    def __init__(self, what: str, alias: str):
        super().__init__(
            f"{what}: refused, a database transaction is open on {alias!r}. A bank call "
            "must not run while row locks are held: commit first (call it outside "
            "transaction.atomic()), and mark a view that reaches it @bank_calling_view."
        )
        self.what = what
        self.alias = alias


def open_transaction() -> str | None:
    """The alias of a connection of this thread with a transaction of ours open, or None.
    Only connections already opened are looked at (no connection is made for this)."""
    if not settings.configured:  # the Checkout client used outside Django: no database
        return None
    for conn in connections.all(initialized_only=True):
        if any(not block._from_testcase for block in conn.atomic_blocks):
            return conn.alias
        if conn.connection is not None and not conn.in_atomic_block and not conn.autocommit:
            return conn.alias  # a transaction begun by hand (set_autocommit(False))
    return None


def ensure_outside_transaction(what: str) -> None:
    """Raise :class:`BankCallInTransaction` when a transaction of ours is open."""
    alias = open_transaction()
    if alias is not None:
        raise BankCallInTransaction(what, alias)


def bank_call(function: F) -> F:
    """Mark ``function`` as calling a bank: it refuses inside a transaction."""
    what = f"{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def guarded(*args, **kwargs):
        ensure_outside_transaction(what)
        return function(*args, **kwargs)

    guarded.is_bank_call = True
    BANK_CALLS.add(function)
    BANK_CALLS.add(guarded)
    return guarded  # type: ignore[return-value]


def bank_calling_view(view: F) -> F:
    """A view that reaches a bank call: outside the request transaction (the services it
    calls commit their own), marked so that the URL walk of the tests knows it."""
    view = transaction.non_atomic_requests(view)
    view.calls_bank = True
    BANK_CALLING_VIEWS.add(view)
    return view


def mark_test_scaffolding(atomic: transaction.Atomic) -> transaction.Atomic:
    """Mark an outer atomic block that test scaffolding holds open around tests (as Django's
    ``TestCase`` marks its own), so that bank calls inside the tests are judged by the
    transactions the code under test opens."""
    atomic._from_testcase = True
    return atomic
