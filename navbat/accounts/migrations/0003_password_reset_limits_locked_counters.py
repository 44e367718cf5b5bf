# The reset limits become locked counters (one row per e-mail digest and per client
# address). The old rows only throttled the last hour: nothing worth carrying over.

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_login_failures_replaced_by_axes_and_reset_requests"),
    ]

    operations = [
        migrations.DeleteModel(name="PasswordResetRequest"),
        migrations.CreateModel(
            name="PasswordResetRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=80, unique=True)),
                ("count", models.PositiveIntegerField(default=0)),
                (
                    "window_start",
                    models.DateTimeField(db_index=True, default=django.utils.timezone.now),
                ),
            ],
        ),
    ]
