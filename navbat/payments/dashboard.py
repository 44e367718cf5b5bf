"""Reads of the online payments dashboard (Finance → Online payments): a period's totals,
split by method, by channel and by card kind, and its money day by day.

Every figure is a sum over the same orders as ``selectors.totals`` (the payments started
in the period, settled ones counted), so each split adds up to the totals and the totals
equal the books. A day is the business's local day of when the payment started, as the
list filters it.
"""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils.translation import gettext as _

from navbat.finance.models import CardKind
from navbat.kit.timeutil import zone

from . import providers, selectors
from .models import Channel, Method, PaymentOrder
from .selectors import PaymentTotals
from .states import SETTLED_STATES

INSTALLMENT = "installment"  # the method split's key for app payments in installments

SETTLED = Q(state__in=SETTLED_STATES)
SUMS = {
    "settled": Count("id", filter=SETTLED),
    "paid": Coalesce(Sum("paid_amount", filter=SETTLED), 0),
    "fees": Coalesce(Sum("fee_amount", filter=SETTLED), 0),
    "refunded": Coalesce(Sum("refunded_amount", filter=SETTLED), 0),
    "fees_returned": Coalesce(Sum("fee_returned_amount", filter=SETTLED), 0),
}


@dataclass(frozen=True)
class Share:
    """One part of a split: the settled payments of one method, channel or card kind."""

    key: str
    label: str
    count: int  # payments that went through
    paid: int
    fees: int
    refunded: int
    fees_returned: int

    @property
    def net(self) -> int:
        return self.paid - self.refunded - self.fees + self.fees_returned


@dataclass(frozen=True)
class Day:
    day: date
    paid: int  # income of the payments started that day (refunds not deducted)
    fees: int  # the bank's fees on them


@dataclass(frozen=True)
class Dashboard:
    date_from: date
    date_to: date
    totals: PaymentTotals
    settled: int  # of totals.count, the payments that went through
    by_method: list[Share]
    by_channel: list[Share]
    by_card_kind: list[Share]
    days: list[Day]


def _share(key: str, label: str, sums: dict) -> Share:
    return Share(
        key=key,
        label=label,
        count=sums["settled"],
        paid=sums["paid"],
        fees=sums["fees"],
        refunded=sums["refunded"],
        fees_returned=sums["fees_returned"],
    )


def _grouped(rows: QuerySet[PaymentOrder], *fields: str) -> list[dict]:
    """The settled orders' sums per value of ``fields``, one query."""
    return list(rows.filter(SETTLED).order_by().values(*fields).annotate(**SUMS).order_by(*fields))


def _merge(shares: dict[str, dict], key: str, sums: dict) -> None:
    into = shares.setdefault(key, dict.fromkeys(SUMS, 0))
    for name in SUMS:
        into[name] += sums[name]


def by_method(rows: QuerySet[PaymentOrder]) -> list[Share]:
    """Card payments, payments in the bank's app, and of those the installments, each
    named as its provider names it; the card first, then as the methods are listed."""
    found: dict[str, dict] = {}
    labels: dict[str, str] = {}
    for group in _grouped(rows, "provider", "method", "card_kind"):
        method = group["method"]
        if method == Method.APP and group["card_kind"] == CardKind.INSTALLMENT:
            key, label = INSTALLMENT, str(CardKind.INSTALLMENT.label)
        else:
            key = method
            label = providers.method_label(provider=group["provider"], method=method)
        labels.setdefault(key, label)
        _merge(found, key, group)
    order = [*Method.values, INSTALLMENT]
    return [_share(key, labels[key], found[key]) for key in order if key in found]


def by_channel(rows: QuerySet[PaymentOrder]) -> list[Share]:
    found = {group["channel"]: group for group in _grouped(rows, "channel")}
    return [
        _share(value, str(label), found[value])
        for value, label in Channel.choices
        if value in found
    ]


def by_card_kind(rows: QuerySet[PaymentOrder]) -> list[Share]:
    """Per card kind as the bank reported it (the fee depends on it); payments the bank
    named no kind for come last."""
    found = {group["card_kind"]: group for group in _grouped(rows, "card_kind")}
    shares = [
        _share(value, str(label), found[value])
        for value, label in CardKind.choices
        if value in found
    ]
    if "" in found:
        shares.append(_share("", _("Not reported"), found[""]))
    return shares


def by_day(rows: QuerySet[PaymentOrder], *, business, date_from: date, date_to: date) -> list[Day]:
    """Every day of the period, days without a payment at zero."""
    local = TruncDate("created_at", tzinfo=zone(business.timezone))
    sums = {
        row["day"]: row
        for row in rows.filter(SETTLED)
        .order_by()
        .annotate(day=local)
        .values("day")
        .annotate(
            paid=Coalesce(Sum("paid_amount"), Value(0)),
            fees=Coalesce(Sum("fee_amount"), Value(0)),
        )
    }
    days = []
    day = date_from
    while day <= date_to:
        found = sums.get(day)
        days.append(
            Day(day=day, paid=found["paid"] if found else 0, fees=found["fees"] if found else 0)
        )
        day += timedelta(days=1)
    return days


def dashboard(*, business, date_from: date, date_to: date, state: str | None = None) -> Dashboard:
    """The period's dashboard over the orders the list shows for the same filters."""
    rows = selectors.payments(business=business, date_from=date_from, date_to=date_to, state=state)
    channels = by_channel(rows)
    return Dashboard(
        date_from=date_from,
        date_to=date_to,
        totals=selectors.totals(rows),
        settled=sum(share.count for share in channels),
        by_method=by_method(rows),
        by_channel=channels,
        by_card_kind=by_card_kind(rows),
        days=by_day(rows, business=business, date_from=date_from, date_to=date_to),
    )
