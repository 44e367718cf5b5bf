"""Helpers for the page tests of salons and finance."""

import html

from navbat.finance.models import CashRegister, Transaction
from navbat.salons.models import (
    Client,
    Product,
    ScheduleException,
    Service,
    ServiceCategory,
    Specialist,
    WorkingHours,
)

WATCHED = [
    Client,
    Specialist,
    Specialist.services.through,
    WorkingHours,
    ScheduleException,
    Service,
    ServiceCategory,
    Product,
    CashRegister,
    Transaction,
]


def text(response) -> str:
    """The page as a reader sees it (entities such as ``so&#x27;m`` decoded)."""
    return html.unescape(response.content.decode())


def snapshot() -> dict[str, list[dict]]:
    """Every row a page of salons or finance could write, to prove nothing changed."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in WATCHED}
