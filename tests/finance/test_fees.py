"""The fee schedule: dated rates per card kind, the published defaults, rounding."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from navbat.finance import fees
from navbat.finance.models import CardKind, FeeRate
from navbat.uzum import brand

pytestmark = pytest.mark.django_db

LAST_SPECIAL_DAY = date(2025, 12, 31)
FIRST_STANDARD_DAY = date(2026, 1, 1)


def default_schedule(business):
    """The schedule a new connection starts with: the provider's published terms."""
    return fees.create_default_schedule(
        business=business, name=brand.DISPLAY_NAME, terms=brand.default_fee_terms()
    )


@pytest.fixture
def schedule(salon_a):
    return default_schedule(salon_a.business)


@pytest.mark.parametrize(
    "kind,special,standard",
    [
        (CardKind.UZUM_VISA, 0, 100),
        (CardKind.UZCARD, 40, 100),
        (CardKind.HUMO, 40, 100),
        (CardKind.INSTALLMENT, 300, 500),
        (CardKind.VISA, 100, 100),
        (CardKind.MASTERCARD, 100, 100),
        (CardKind.OTHER, 100, 100),
    ],
)
def test_the_special_terms_end_on_2025_12_31(schedule, kind, special, standard):
    amount = 15_000_000  # 150 000 so'm
    on_last = fees.fee_for(schedule=schedule, card_kind=kind, amount=amount, day=LAST_SPECIAL_DAY)
    on_first = fees.fee_for(
        schedule=schedule, card_kind=kind, amount=amount, day=FIRST_STANDARD_DAY
    )
    assert (on_last.rate_bp, on_last.amount) == (special, amount * special // 10_000)
    assert (on_first.rate_bp, on_first.amount) == (standard, amount * standard // 10_000)


def test_the_defaults_are_fourteen_dated_rows(schedule):
    rows = FeeRate.objects.filter(schedule=schedule)
    assert rows.count() == 14
    assert rows.filter(valid_until=LAST_SPECIAL_DAY, valid_from=None).count() == 7
    assert rows.filter(valid_from=FIRST_STANDARD_DAY, valid_until=None).count() == 7


@pytest.mark.parametrize(
    "amount,rate,fee",
    [
        (1, 40, 0),  # 0.004 tiyin
        (125, 40, 1),  # 0.5 tiyin rounds half up
        (124, 40, 0),
        (999_999_999_999, 500, 49_999_999_999 + 1),  # 49 999 999 999.95
        (0, 100, 0),
    ],
)
def test_rounding_is_half_up_to_a_tiyin(salon_a, amount, rate, fee):
    schedule = default_schedule(salon_a.business)
    FeeRate.objects.filter(schedule=schedule).delete()
    fees.add_rate(schedule=schedule, card_kind=CardKind.UZCARD, rate_bp=rate)
    result = fees.fee_for(
        schedule=schedule, card_kind=CardKind.UZCARD, amount=amount, day=FIRST_STANDARD_DAY
    )
    assert (result.rate_bp, result.amount) == (rate, fee)


def test_a_kind_without_a_row_pays_the_other_card_rate(schedule):
    FeeRate.objects.filter(schedule=schedule, card_kind=CardKind.HUMO).delete()
    fee = fees.fee_for(
        schedule=schedule, card_kind=CardKind.HUMO, amount=10_000, day=FIRST_STANDARD_DAY
    )
    assert fee.rate_bp == 100


def test_a_newer_row_wins_from_its_first_day_and_earlier_days_keep_theirs(schedule):
    fees.add_rate(
        schedule=schedule, card_kind=CardKind.UZCARD, rate_bp=80, valid_from=date(2026, 6, 1)
    )
    assert fees.rate_on(schedule=schedule, card_kind=CardKind.UZCARD, day=date(2026, 5, 31)) == 100
    assert fees.rate_on(schedule=schedule, card_kind=CardKind.UZCARD, day=date(2026, 6, 1)) == 80
    assert fees.rate_on(schedule=schedule, card_kind=CardKind.UZCARD, day=LAST_SPECIAL_DAY) == 40


def test_schedules_of_two_businesses_are_apart(schedule, salon_b):
    other = default_schedule(salon_b.business)
    fees.add_rate(
        schedule=other, card_kind=CardKind.UZCARD, rate_bp=900, valid_from=date(2026, 1, 1)
    )
    assert fees.rate_on(schedule=schedule, card_kind=CardKind.UZCARD, day=date(2026, 2, 1)) == 100


@pytest.mark.parametrize(
    "fields",
    [
        {"card_kind": "amex", "rate_bp": 10},
        {"card_kind": CardKind.UZCARD, "rate_bp": 10_001},
        {"card_kind": CardKind.UZCARD, "rate_bp": -1},
        {
            "card_kind": CardKind.UZCARD,
            "rate_bp": 10,
            "valid_from": date(2026, 2, 1),
            "valid_until": date(2026, 1, 1),
        },
    ],
)
def test_bad_rates_are_refused_and_nothing_is_added(schedule, fields):
    before = FeeRate.objects.count()
    with pytest.raises(ValidationError):
        fees.add_rate(schedule=schedule, **fields)
    assert FeeRate.objects.count() == before


@pytest.mark.parametrize("bp,text", [(0, "0"), (40, "0.4"), (100, "1"), (125, "1.25"), (500, "5")])
def test_rates_read_as_percents(bp, text):
    assert fees.format_rate(bp) == text
