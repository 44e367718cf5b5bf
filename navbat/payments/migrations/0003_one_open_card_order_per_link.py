from django.db import migrations, models
from django.db.models import Count

OPEN = ["created", "pending"]


def close_older_duplicates(apps, schema_editor):
    """Links that already have several open card orders (made before the rule) keep the
    newest open; the older ones are cancelled. A late payment on one is still recorded when
    the bank reports it (cancelled → paid is allowed)."""
    PaymentOrder = apps.get_model("payments", "PaymentOrder")
    open_cards = PaymentOrder.objects.filter(method="card", state__in=OPEN, link__isnull=False)
    crowded = open_cards.values("link_id").annotate(n=Count("id")).filter(n__gt=1).values("link_id")
    for row in crowded:
        orders = list(open_cards.filter(link_id=row["link_id"]).order_by("-created_at", "-id"))
        for older in orders[1:]:
            older.state = "cancelled"
            older.next_check_at = None
            older.failure_reason = "Replaced by a newer card payment of the same link."
            older.save(update_fields=["state", "next_check_at", "failure_reason"])


class Migration(migrations.Migration):
    dependencies = [("payments", "0002_paymentlink_code")]

    operations = [
        migrations.RunPython(close_older_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="paymentorder",
            constraint=models.UniqueConstraint(
                condition=models.Q(("method", "card"), ("state__in", ["created", "pending"])),
                fields=("link",),
                name="one_open_card_order_per_link",
            ),
        ),
    ]
