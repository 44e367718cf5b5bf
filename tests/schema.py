"""For the tests that migrate part of the way back: the schema put back as they found it."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate_to_latest() -> None:
    """Forward to every app's latest migration. A test that migrates back registers this as
    its finalizer (``request.addfinalizer``): it runs before the database is cleaned, and
    the tests after it, in whatever order pytest-xdist gives them, meet today's schema."""
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
