"""A cheaper clean slate after each transactional test.

Django ends a ``transaction=True`` test with ``flush``: on PostgreSQL one TRUNCATE of every
table (about 70), which makes new files for each table and index — seconds per test on a
loaded machine, however few rows the test wrote; on SQLite a DELETE of every table and the
permissions written again. Deleting the rows of the tables that have any leaves the same
state (no rows anywhere; sequences are not reset by ``flush`` either) in a fraction of the
time. Content types and permissions are kept: ``flush`` empties them and its
post_migrate puts the same rows back. Anything unusual (a test on a subset of apps, serialized
rollback, a delete refused) falls back to Django's own ``flush``."""

from django.db import DatabaseError, connections, transaction
from django.test import TransactionTestCase

# Emptied by `flush` and filled again at once by post_migrate: the same rows either way.
KEPT = {"django_content_type", "auth_permission"}

_django_fixture_teardown = TransactionTestCase._fixture_teardown


def delete_all_rows(alias: str) -> bool:
    """Delete every row of every table of ``alias``; False (nothing changed) if PostgreSQL
    refused, so the caller can flush instead."""
    connection = connections[alias]
    if connection.vendor not in ("postgresql", "sqlite"):
        return False
    tables = [
        table
        for table in connection.introspection.django_table_names(
            only_existing=True, include_views=False
        )
        if table not in KEPT
    ]
    if not tables:
        return True
    quote = connection.ops.quote_name
    # Table names from Django's own introspection, quoted by the backend.
    probe = " UNION ALL ".join(
        f"(SELECT %s FROM {quote(table)} LIMIT 1)"  # noqa: S608
        for table in tables
    )
    try:
        with transaction.atomic(using=alias), connection.cursor() as cursor:
            cursor.execute(probe, tables)
            filled = [row[0] for row in cursor.fetchall()]
            # Django's foreign keys are DEFERRABLE (on both): checked once, at commit, in any
            # order.
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            for table in filled:
                cursor.execute(f"DELETE FROM {quote(table)}")  # noqa: S608
    except DatabaseError:
        return False
    return True


def _fixture_teardown(self) -> None:
    if self.available_apps is not None or self.serialized_rollback:
        _django_fixture_teardown(self)
        return
    aliases = self._databases_names(include_mirrors=False)
    if not all(delete_all_rows(alias) for alias in aliases):
        _django_fixture_teardown(self)


def install() -> None:
    TransactionTestCase._fixture_teardown = _fixture_teardown
