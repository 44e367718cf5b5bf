"""The specialist links are copied from ``accounts.Membership.specialist`` to
``salons.Specialist.membership`` before accounts 0004 drops the old column; reversing
copies them back. Apart from the schema changes on purpose: on PostgreSQL a table with
pending foreign-key checks from these updates cannot be altered in the same transaction."""

from django.db import migrations


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
        ("salons", "0002_specialist_membership"),
    ]

    operations = [
        migrations.RunPython(copy_links_to_specialists, copy_links_to_memberships),
    ]
