"""The online payments of a period as CSV: the list's columns, for a spreadsheet.

UTF-8 with a byte order mark (Excel reads the Cyrillic and Uzbek letters right only then),
amounts in so'm with two decimals and a point, as the header row says, times in the
business's local time. Rows are written as they are read: a year of payments streams.
"""

import csv
from collections.abc import Iterator

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from navbat.kit.money import TIYIN_PER_SOM
from navbat.kit.timeutil import to_local

from .models import PaymentOrder

BOM = "\ufeff"
# A cell a spreadsheet would run as a formula ("=HYPERLINK(…)" in a client's name) is
# written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Line:
    """csv.writer's file: hands back the line it was given."""

    def write(self, text: str) -> str:
        return text


def som(tiyin: int) -> str:
    """``1234567`` → ``12345.67``: what a spreadsheet reads as a number in any locale."""
    sign = "-" if tiyin < 0 else ""
    whole, part = divmod(abs(tiyin), TIYIN_PER_SOM)
    return f"{sign}{whole}.{part:02d}"


def text(value: str) -> str:
    value = value or ""
    return "'" + value if value.startswith(FORMULA_START) else value


def header() -> list[str]:
    return [
        _("Time"),
        _("Method"),
        _("Card"),
        _("Card number"),
        _("Amount, so'm"),
        _("Fee, so'm"),
        _("State"),
        _("For"),
        _("Client"),
        _("Refunded, so'm"),
        _("Fee returned, so'm"),
        _("Reference"),
    ]


def row(order: PaymentOrder, *, tz_name: str) -> list[str]:
    """One payment as the list shows it: when it was paid (else started), what the bank
    took (else what was asked), the fee once known."""
    moment = to_local(order.paid_at or order.created_at, tz_name)
    return [
        moment.strftime("%Y-%m-%d %H:%M"),
        order.method_label,
        order.get_card_kind_display() if order.card_kind else "",
        order.masked_pan,
        som(order.paid_amount or order.amount),
        som(order.fee_amount) if order.fee_rate_bp is not None else "",
        str(order.get_state_display()),
        text(order.document.title),
        text(order.client.name) if order.client else "",
        som(order.refunded_amount),
        som(order.fee_returned_amount),
        order.reference,
    ]


def lines(rows: QuerySet[PaymentOrder], *, tz_name: str) -> Iterator[str]:
    writer = csv.writer(_Line())
    yield BOM + writer.writerow(header())
    for order in rows.iterator(chunk_size=500):
        yield writer.writerow(row(order, tz_name=tz_name))
