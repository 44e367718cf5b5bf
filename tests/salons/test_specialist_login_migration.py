"""Which login a specialist is moved from accounts.Membership.specialist to
salons.Specialist.membership (salons sit above accounts): the links survive the move both
ways, and the schema ends as the models say."""

import pytest
from django.db import connection as db_connection
from django.db.migrations.executor import MigrationExecutor

from tests.schema import migrate_to_latest

BEFORE = [("accounts", "0003_password_reset_limits_locked_counters"), ("salons", "0001_initial")]
AFTER = [
    ("accounts", "0004_membership_specialist_moved_to_salons"),
    ("salons", "0003_specialist_membership_links_copied"),
]


def migrate(targets):
    executor = MigrationExecutor(db_connection)  # a fresh graph, as a new process has
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def old_rows(old):
    """Two businesses as they were before the move: specialist memberships naming their
    specialist, one naming nobody, and a stray link to another business's specialist."""
    Business = old.get_model("salons", "Business")
    Location = old.get_model("salons", "Location")
    Specialist = old.get_model("salons", "Specialist")
    User = old.get_model("accounts", "User")
    Membership = old.get_model("accounts", "Membership")
    made = {}
    for tag in ("a", "b"):
        business = Business.objects.create(name=tag, slug=f"move-{tag}")
        location = Location.objects.create(business=business, name=tag)
        made[tag] = [
            Specialist.objects.create(business=business, location=location, name=f"{tag}{i}")
            for i in range(3)
        ]
        for i, specialist in enumerate(made[tag][:2]):
            user = User.objects.create(email=f"{tag}{i}@move.test")
            made[f"{tag}{i}"] = Membership.objects.create(
                business=business, user=user, role="specialist", specialist_id=specialist.pk
            )
        made[f"{tag}-none"] = Membership.objects.create(
            business=business,
            user=User.objects.create(email=f"{tag}-none@move.test"),
            role="specialist",
        )
    made["stray"] = Membership.objects.create(
        business=made["a"][0].business,
        user=User.objects.create(email="stray@move.test"),
        role="specialist",
        specialist_id=made["b"][2].pk,
    )
    return made


@pytest.mark.django_db(transaction=True)
def test_the_links_move_to_salons_and_back():
    old = migrate(BEFORE)
    made = old_rows(old)
    links_before = dict(
        old.get_model("accounts", "Membership")
        .objects.filter(specialist__isnull=False)
        .values_list("pk", "specialist_id")
    )
    assert len(links_before) == 5

    new = migrate(AFTER)
    moved = dict(
        new.get_model("salons", "Specialist")
        .objects.filter(membership__isnull=False)
        .values_list("membership_id", "pk")
    )
    expected = {made[key].pk: links_before[made[key].pk] for key in ("a0", "a1", "b0", "b1")}
    assert moved == expected  # the stray cross-business link is not carried over
    fields = {f.name for f in new.get_model("accounts", "Membership")._meta.get_fields()}
    assert "specialist_id" not in {
        getattr(f, "attname", "") for f in new.get_model("accounts", "Membership")._meta.fields
    }
    assert "specialist" in fields  # now the reverse side of Specialist.membership

    back = migrate(BEFORE)
    restored = dict(
        back.get_model("accounts", "Membership")
        .objects.filter(specialist__isnull=False)
        .values_list("pk", "specialist_id")
    )
    assert restored == expected
    # Back to today's schema: going back to BEFORE also took back later migrations that
    # depend on these (a refund's table, say), which AFTER alone would not bring again.
    migrate_to_latest()
