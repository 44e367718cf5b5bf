"""Which login a specialist is moves from ``accounts.Membership.specialist`` to
``salons.Specialist.membership`` (salons sit above accounts): the new column. Salons 0003
copies the links, accounts 0004 then drops the old column."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_password_reset_limits_locked_counters"),
        ("salons", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="specialist",
            name="membership",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="specialist",
                to="accounts.membership",
            ),
        ),
    ]
