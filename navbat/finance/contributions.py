"""What finance shows on the pages of the rooms below it (navbat.kit.slots): a client's
transactions on salons' client page."""

from .selectors import transactions


def client_transactions(context) -> dict:
    client, size = context["client"], context["history_size"]
    rows = transactions(business=context["request"].business, client_id=client.pk)
    return {"payments": rows[:size], "payment_count": rows.count()}
