"""The specialist link now lives on ``salons.Specialist.membership``; salons 0003 copied it
before this drops the column (and copies it back when reversed)."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_password_reset_limits_locked_counters"),
        ("salons", "0003_specialist_membership_links_copied"),
    ]

    operations = [
        migrations.RemoveField(model_name="membership", name="specialist"),
    ]
