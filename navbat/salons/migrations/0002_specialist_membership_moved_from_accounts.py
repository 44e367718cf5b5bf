"""Which login a specialist is moves from ``accounts.Membership.specialist`` to
``salons.Specialist.membership`` (salons sit above accounts). The links are copied here,
before accounts 0004 drops the old column; reversing copies them back."""

import django.db.models.deletion
from django.db import migrations, models


def copy_links_to_specialists(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    Specialist = apps.get_model("salons", "Specialist")
    links = Membership.objects.filter(specialist__isnull=False).order_by("id")
    for membership in links.values("id", "business_id", "specialist_id"):
        # One login per specialist: the oldest membership naming it keeps it; a link to
        # another business's specialist was never honoured by the pages and is not copied.
        Specialist.objects.filter(
            pk=membership["specialist_id"],
            business_id=membership["business_id"],
            membership__isnull=True,
        ).update(membership_id=membership["id"])


def copy_links_to_memberships(apps, schema_editor):
    Membership = apps.get_model("accounts", "Membership")
    Specialist = apps.get_model("salons", "Specialist")
    for specialist in Specialist.objects.filter(membership__isnull=False).values(
        "id", "membership_id"
    ):
        Membership.objects.filter(pk=specialist["membership_id"]).update(
            specialist_id=specialist["id"]
        )


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
        migrations.RunPython(copy_links_to_specialists, copy_links_to_memberships),
    ]
