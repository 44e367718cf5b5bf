import secrets

from django.db import migrations, models

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def give_codes(apps, schema_editor):
    PaymentLink = apps.get_model("payments", "PaymentLink")
    for link in PaymentLink.objects.filter(code__isnull=True).only("pk"):
        link.code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        link.save(update_fields=["code"])


class Migration(migrations.Migration):
    dependencies = [("payments", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="paymentlink",
            name="code",
            field=models.CharField(max_length=16, null=True),
        ),
        migrations.RunPython(give_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="paymentlink",
            name="code",
            field=models.CharField(max_length=16, unique=True),
        ),
    ]
