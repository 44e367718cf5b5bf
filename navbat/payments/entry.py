"""Reads at the entry from outside, before any business is known: unscoped on purpose, as
``services.find_link`` and ``uzum.services.connection_at`` are. Kept apart from
``selectors`` (whose reads are all scoped by business, and checked to be)."""

from django.db.models import Q

from .models import PaymentOrder


def names_order_elsewhere(
    *, provider: str, account_id: int, bank_order_id: str = "", reference: str = ""
) -> bool:
    """Does a provider's message name an order of another account (or business)? Read
    unscoped on purpose: it is how a message sent to the wrong address is recognised."""
    named = Q(pk__in=[])
    if bank_order_id:
        named |= Q(bank_order_id=bank_order_id)
    if reference:
        named |= Q(reference=reference)
    others = PaymentOrder.objects.filter(named).exclude(provider=provider, account_id=account_id)
    return others.exists()
