"""Salons A and B built once per test session (per xdist worker) instead of once per test.

Building a salon costs about 60 queries and a thousand tests ask for one. The seed is built
inside an outer transaction that stays open: each ordinary test runs in a savepoint inside it
(pytest-django's TestCase atomics nest), so whatever a test changes is rolled back and the
next test finds the seed as built — Django's own ``setUpTestData`` works the same way. Each
test gets deep copies of the Salon objects, so in-memory changes do not leak either.

Transactional tests (``transaction=True``, ``transactional_db``, ``live_server``) commit and
flush every table; they must start from the database migrations left, so the seed is rolled
back before one runs — nothing of it was ever committed — and they build their own salons as
before. pytest-django runs them after the ordinary tests, so this happens once per worker; an
ordinary test that comes later (another order, ``-p no:randomly`` aside) gets a fresh seed.

Under pytest-xdist (``make test``) every worker has its own test database (pytest-django adds
``_gw0``, ``_gw1``… to PostgreSQL's name; SQLite's is in memory, one per process) and its own
seed. Each worker sorts the collection as pytest-django does and ``--dist load`` hands every
worker its tests in that order (in slices, never backwards), so on each worker the ordinary
tests still run before the transactional ones and the seed is built once and dropped once.

A test about an empty database (the first run loads the demo only when there is no business)
is marked ``seedless``: the seed is rolled back before it, as for a transactional test.

The seed's appointments are "tomorrow" in Tashkent: a run that crosses local midnight rebuilds
it before the next test that uses it.
"""

from __future__ import annotations

import copy

TZ = "Asia/Tashkent"
SALON_FIXTURES = ("salon_a", "salon_b")


def is_transactional(item) -> bool:
    """pytest-django's own rule (plugin.py's ordering and fixtures.py's helper)."""
    from pytest_django.fixtures import validate_django_db

    marker = item.get_closest_marker("django_db")
    if marker is not None:
        transaction, reset_sequences, *_ = validate_django_db(marker)
        if transaction or reset_sequences:
            return True
    names = getattr(item, "fixturenames", ())
    return any(
        name in names for name in ("transactional_db", "live_server", "django_db_reset_sequences")
    )


def uses_salons(item) -> bool:
    names = getattr(item, "fixturenames", ())
    return any(name in names for name in SALON_FIXTURES)


def without_seed(item) -> bool:
    """Tests that must not see the seed: they commit, or they are about an empty database."""
    return is_transactional(item) or item.get_closest_marker("seedless") is not None


class Seed:
    def __init__(self, blocker, build):
        self.blocker = blocker
        self.build = build
        self.atomic = None
        self.salons: dict = {}
        self.day = None
        self.builds = 0

    # ------------------------------------------------------------------ state

    def present(self) -> bool:
        """True when the outer transaction holding the seed is still the connection's first
        atomic block, untouched (a closed connection or a broken transaction lose it)."""
        from django.db import connection

        if self.atomic is None:
            return False
        return (
            connection.in_atomic_block
            and connection.atomic_blocks[:1] == [self.atomic]
            and not connection.needs_rollback
            and not connection.closed_in_transaction
        )

    def fresh(self) -> bool:
        from navbat.kit.timeutil import local_today

        return self.present() and self.day == local_today(TZ)

    # ------------------------------------------------------------ transitions

    def open(self) -> None:
        """Build A and B in a new outer transaction (nothing else may be open)."""
        from django.conf import settings
        from django.db import connection, transaction
        from django.test.utils import override_settings
        from django.utils import translation

        from navbat.kit.timeutil import local_today

        with self.blocker.unblock():
            if connection.in_atomic_block:
                raise RuntimeError("the salon seed must be built outside any transaction")
            atomic = transaction.atomic()
            atomic.__enter__()
            # Django's test atomics carry this flag; code that refuses to run inside a
            # transaction (durable blocks, the bank-call guard) looks past them the same way.
            atomic._from_testcase = True
            self.atomic = atomic
            hashers = [
                "tests.hashers.QuickArgon2PasswordHasher",
                *[path for path in settings.PASSWORD_HASHERS if "Argon2" not in path],
            ]
            # The same settings the autouse fixtures give a test that builds its own salon.
            english = override_settings(LANGUAGE_CODE="en", PASSWORD_HASHERS=hashers)
            with english, translation.override("en"):
                self.day = local_today(TZ)
                self.salons = {"A": self.build("A"), "B": self.build("B")}
            self.builds += 1

    def close(self) -> None:
        """Roll the seed back: the database is again as the migrations left it."""
        from django.db import connection, transaction

        if self.atomic is None:
            return
        atomic, self.atomic, self.salons = self.atomic, None, {}
        with self.blocker.unblock():
            if connection.atomic_blocks[:1] == [atomic]:
                transaction.set_rollback(True)
                atomic.__exit__(None, None, None)

    def ready_for(self, item) -> None:
        """Before a test's fixtures: transactional tests start without the seed; ordinary
        tests that use a salon find it present and built today."""
        if self.atomic is not None and not self.present():
            # A test closed the connection (a request_started signal sent by hand closes a
            # connection found inside a transaction): leave the outer block so the next
            # query connects afresh, as it would have without the seed.
            self.close()
        if without_seed(item):
            self.close()
        elif uses_salons(item) and not self.fresh():
            self.close()
            self.open()

    # ------------------------------------------------------------------ use

    def salon(self, tag: str, request):
        if without_seed(request.node) or not self.present():
            # Built in the test, as before: committed rows that live_server threads and other
            # connections see in a transactional test; in a seedless one, the only salon.
            # Missing otherwise only when asked for through getfixturevalue (not seen by
            # ready_for).
            return self.build(tag)
        return copy.deepcopy(self.salons[tag])


_current: list[Seed] = []


def current() -> Seed | None:
    return _current[0] if _current else None


def start(blocker, build, first_item) -> Seed:
    seed = Seed(blocker, build)
    _current[:] = [seed]
    if first_item is not None and not without_seed(first_item):
        seed.open()
    return seed


def stop() -> None:
    seed = current()
    if seed is not None:
        seed.close()
    _current.clear()


def only(model, *salons):
    """``model``'s rows as if the database held only what the test built plus ``salons``: the
    seed's salons the test did not ask for are left out, so a test that counts every row of a
    table keeps its exact number whatever else the session seeded."""
    from django.contrib.auth import get_user_model

    rows = model._default_manager.all()
    current_seed = current()
    if current_seed is None or not current_seed.present():
        return rows
    kept = {salon.business.pk for salon in salons}
    hidden = [salon for salon in current_seed.salons.values() if salon.business.pk not in kept]
    if not hidden:
        return rows
    if model is get_user_model():
        people = [pk for salon in hidden for pk in (salon.owner.pk, salon.admin.pk)]
        people += [salon.specialist_user.pk for salon in hidden]
        return rows.exclude(pk__in=people)
    businesses = [salon.business.pk for salon in hidden]
    if model is type(hidden[0].business):
        return rows.exclude(pk__in=businesses)
    return rows.exclude(business_id__in=businesses)
