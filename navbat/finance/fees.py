"""The bank's fee on a payment: dated rates per card kind (a provider's
published rates).

A payment's fee is fixed when it is paid: the rate in force on that day (in the business's
time zone) for the payment's card kind, applied to the amount and rounded half up.
"""

from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from navbat.kit.tenancy import scoped

from .models import CardKind, FeeRate, FeeSchedule


@dataclass(frozen=True)
class Fee:
    rate_bp: int
    amount: int


def set_fee_return(*, schedule: FeeSchedule, on_refund: bool, on_reversal: bool) -> FeeSchedule:
    """Whether the bank gives its fee back on a refund of a completed payment and on a
    reversal; it applies to refunds booked from now on (earlier ones stay as booked)."""
    schedule.fee_returned_on_refund = bool(on_refund)
    schedule.fee_returned_on_reversal = bool(on_reversal)
    schedule.save(update_fields=["fee_returned_on_refund", "fee_returned_on_reversal"])
    return schedule


@transaction.atomic
def create_default_schedule(*, business, name: str, terms) -> FeeSchedule:
    """A schedule named ``name`` with a provider's published ``terms``
    (``payments.providers.FeeTerm``: card kind, rate, the days it is valid)."""
    schedule = FeeSchedule.objects.create(business=business, name=name)
    FeeRate.objects.bulk_create(
        FeeRate(
            business=business,
            schedule=schedule,
            card_kind=term.card_kind,
            rate_bp=term.rate_bp,
            valid_from=term.valid_from,
            valid_until=term.valid_until,
        )
        for term in terms
    )
    return schedule


def rate_on(*, schedule: FeeSchedule, card_kind: str, day: date) -> int:
    """The rate in force on ``day``; a kind with no row falls back to "other card"; with no
    row at all the fee is zero (the schedule was emptied on purpose)."""
    rates = (
        scoped(FeeRate, schedule.business)
        .filter(schedule=schedule)
        .filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=day),
            Q(valid_until__isnull=True) | Q(valid_until__gte=day),
        )
    )
    for kind in (card_kind, CardKind.OTHER):
        # The most recently started row wins where rows overlap.
        row = rates.filter(card_kind=kind).order_by("-valid_from", "-id").first()
        if row is not None:
            return row.rate_bp
    return 0


def fee_for(*, schedule: FeeSchedule, card_kind: str, amount: int, day: date) -> Fee:
    if amount < 0:
        raise ValidationError(_("The amount must be more than zero."))
    rate = rate_on(schedule=schedule, card_kind=card_kind, day=day)
    return Fee(rate_bp=rate, amount=(amount * rate + 5_000) // 10_000)


def add_rate(
    *,
    schedule: FeeSchedule,
    card_kind: str,
    rate_bp: int,
    valid_from: date | None = None,
    valid_until: date | None = None,
) -> FeeRate:
    """A new dated row; earlier payments keep the fee they were recorded with."""
    if card_kind not in CardKind.values:
        raise ValidationError({"card_kind": _("Choose a card kind.")})
    if not 0 <= rate_bp <= 10_000:
        raise ValidationError({"rate_bp": _("A rate is between 0 and 100 %.")})
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationError({"valid_until": _("The end date is before the start date.")})
    return FeeRate.objects.create(
        business=schedule.business,
        schedule=schedule,
        card_kind=card_kind,
        rate_bp=rate_bp,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def format_rate(rate_bp: int) -> str:
    """40 → "0.4", 100 → "1", 125 → "1.25"."""
    whole, part = divmod(rate_bp, 100)
    return f"{whole}.{part:02d}".rstrip("0") if part else str(whole)
