"""Reads of the Uzum Bank connection: the business's connection, its history, its fee
schedule, and the addresses the salon hands to Uzum's manager."""

import uuid
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from navbat.finance.fees import format_rate
from navbat.finance.models import CardKind, FeeRate
from navbat.kit.tenancy import scoped
from navbat.kit.urls import public_url

from .models import Connection


@dataclass(frozen=True)
class BankAddresses:
    """Where Uzum Bank calls us for one connection: the three Checkout callbacks (set on
    the terminal by Uzum's manager) and the Merchant API base of the Uzum Bank app."""

    payment: str
    event: str
    receipt: str
    merchant_api: str


def bank_addresses(*, public_id: uuid.UUID | str) -> BankAddresses:
    # The public root, not the request's host: the bank must reach the address from outside,
    # whatever host the administrator happened to open the page on.
    connection = str(public_id)
    # The Merchant API's base is what the app appends an endpoint to: one endpoint's
    # address without the endpoint.
    merchant = public_url("uzum-merchant", connection=connection, endpoint="check")
    return BankAddresses(
        payment=public_url("uzum-checkout-callback", connection=connection),
        event=public_url("uzum-checkout-event", connection=connection),
        receipt=public_url("uzum-checkout-receipt", connection=connection),
        merchant_api=merchant.removesuffix("check"),
    )


def active_connection(*, business) -> Connection | None:
    return scoped(Connection, business).filter(is_active=True).first()


def earlier_connections(*, business) -> QuerySet[Connection]:
    """Disconnected connections, newest first: their payments and callbacks stay."""
    return scoped(Connection, business).filter(is_active=False)


@dataclass(frozen=True)
class RateRow:
    card_kind: str
    percent: str
    valid_from: date | None
    valid_until: date | None


def fee_rates(*, connection: Connection) -> list[RateRow]:
    """The connection's fee schedule, per card kind in the order the bank lists them, each
    kind's rows by date."""
    order = {kind: index for index, kind in enumerate(CardKind.values)}
    rows = scoped(FeeRate, connection.business).filter(schedule_id=connection.fee_schedule_id)
    labels = dict(CardKind.choices)
    return [
        RateRow(
            card_kind=str(labels.get(row.card_kind, row.card_kind)),
            percent=format_rate(row.rate_bp),
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        for row in sorted(
            rows,
            key=lambda r: (order.get(r.card_kind, 99), r.valid_from or date.min, r.pk),
        )
    ]
