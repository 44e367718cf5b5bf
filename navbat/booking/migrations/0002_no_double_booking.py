"""On PostgreSQL, the database itself refuses two live appointments of one specialist
that overlap in time, so no race between requests can double-book. SQLite has no
exclusion constraints; there the booking service's IMMEDIATE transactions serialise
writers instead."""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE booking_appointment ADD CONSTRAINT appointment_no_overlap
    EXCLUDE USING gist (
        specialist_id WITH =,
        tstzrange(starts_at, ends_at, '[)') WITH &&
    ) WHERE (occupies_time);
"""
DROP = "ALTER TABLE booking_appointment DROP CONSTRAINT IF EXISTS appointment_no_overlap;"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("booking", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
