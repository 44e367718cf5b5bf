"""An index of RUNNING jobs by start, on django_tasks_db's table: workers look for the jobs
of dead workers every few seconds and /healthz for the oldest running job; without it each
look scans every finished job kept.

On PostgreSQL it is built CONCURRENTLY (so outside a transaction: the migration is not
atomic), which does not block the workers' and web requests' writes to the job table while
a deploy builds it. A build that failed half-way leaves an invalid index; running the
migration again drops it and builds anew. Databases that had it from the first version of
0001 keep theirs.
"""

from django.db import migrations

NAME = "navbat_tasks_running_idx"
TABLE = "django_tasks_database_dbtaskresult"
COLUMNS = "(started_at) WHERE status = 'RUNNING'"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {NAME} ON {TABLE} {COLUMNS}")
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
            [NAME],
        )
        found = cursor.fetchone()
    if found and not found[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY {NAME}")
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {NAME} ON {TABLE} {COLUMNS}")


def drop(apps, schema_editor):
    concurrently = "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f"DROP INDEX {concurrently}IF EXISTS {NAME}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("kit", "0001_worker_heartbeat"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
