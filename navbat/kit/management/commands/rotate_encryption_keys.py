"""Re-encrypt every secret at rest with the first key of NAVBAT_ENCRYPTION_KEYS.

Rotation: put a new key first in NAVBAT_ENCRYPTION_KEYS (keep the old ones after it),
run this command, then the old keys can be dropped.
"""

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from navbat.kit.crypto import EncryptedTextField, rotate


class Command(BaseCommand):
    help = __doc__

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            pk = connection.ops.quote_name(model._meta.pk.column)
            for field in fields:
                column = connection.ops.quote_name(field.column)
                with transaction.atomic(), connection.cursor() as cursor:
                    # Raw SQL: the stored (encrypted) text is what gets rotated, not the clear one.
                    cursor.execute(f"SELECT {pk}, {column} FROM {table} WHERE {column} <> ''")  # noqa: S608
                    for row_id, stored in cursor.fetchall():
                        if stored:
                            try:
                                rotated = rotate(stored)
                            except ValueError as exc:
                                # This field's rows stay as they were (the transaction is
                                # rolled back); the message names the row, never its value.
                                raise CommandError(
                                    f"{model._meta.label}.{field.name} id={row_id}: {exc}"
                                ) from exc
                            cursor.execute(
                                f"UPDATE {table} SET {column} = %s WHERE {pk} = %s",  # noqa: S608
                                [rotated, row_id],
                            )
                            total += 1
        self.stdout.write(f"re-encrypted {total} value(s)")
