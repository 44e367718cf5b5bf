"""Money: integer tiyin in, ``150 000 so'm`` out; typed amounts parsed strictly."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from hypothesis import given
from hypothesis import strategies as st

from navbat.kit.money import (
    MAX_AMOUNT_TIYIN,
    MoneyError,
    format_money,
    percent_of,
    som_to_tiyin,
    tiyin_to_som_text,
)


@pytest.mark.parametrize(
    ("tiyin", "expected"),
    [
        (15_000_000, "150 000 so'm"),
        (0, "0 so'm"),
        (1, "0.01 so'm"),
        (50, "0.50 so'm"),
        (99, "0.99 so'm"),
        (100, "1 so'm"),
        (15_000_050, "150 000.50 so'm"),
        (15_000_005, "150 000.05 so'm"),
        (123_456_789_00, "123 456 789 so'm"),
        (MAX_AMOUNT_TIYIN, "9 999 999 999.99 so'm"),
        (-15_000_000, "-150 000 so'm"),
        (-50, "-0.50 so'm"),
        (-1_000_01, "-1 000.01 so'm"),
    ],
)
def test_format_money(tiyin, expected):
    assert format_money(tiyin) == expected


def test_format_money_of_nothing_is_empty():
    assert format_money(None) == ""


def test_format_money_uses_plain_spaces_only():
    text = format_money(1_234_567_890_12)
    assert text == "1 234 567 890.12 so'm"
    assert "\u00a0" not in text and "\u202f" not in text and "," not in text


@pytest.mark.parametrize(
    ("typed", "tiyin"),
    [
        ("150 000", 15_000_000),
        ("150000", 15_000_000),
        ("150000.50", 15_000_050),
        ("150000.5", 15_000_050),
        ("150 000,50", 15_000_050),
        ("1,5", 150),
        ("1.05", 105),
        ("0.01", 1),
        ("0", 0),
        ("-0", 0),
        ("00012", 1200),
        (".5", 50),
        ("150.", 15_000),
        ("  42  ", 4200),
        ("150\u00a0000", 15_000_000),  # no-break space, as browsers format numbers
        ("150\u202f000", 15_000_000),  # narrow no-break space
        ("9999999999.99", MAX_AMOUNT_TIYIN),
        (150_000, 15_000_000),
        (Decimal("150000.50"), 15_000_050),
        (Decimal("1E+3"), 100_000),
        (Decimal("12.500"), 1250),
    ],
)
def test_som_to_tiyin_accepts(typed, tiyin):
    assert som_to_tiyin(typed) == tiyin


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount."),
        ("   ", "Enter an amount."),
        ("abc", "Enter an amount in so'm, for example 150000."),
        ("NaN", "Enter an amount in so'm, for example 150000."),
        ("nan", "Enter an amount in so'm, for example 150000."),
        ("Infinity", "Enter an amount in so'm, for example 150000."),
        ("-Infinity", "Enter an amount in so'm, for example 150000."),
        ("inf", "Enter an amount in so'm, for example 150000."),
        ("1e3", "Enter an amount in so'm, for example 150000."),
        ("1e999999999", "The amount is too large."),
        ("1e30", "The amount is too large."),
        ("-1e3", "The amount cannot be negative."),
        ("+5", "Enter an amount in so'm, for example 150000."),
        ("0x10", "Enter an amount in so'm, for example 150000."),
        (".", "Enter an amount in so'm, for example 150000."),
        ("1.5.0", "Enter an amount in so'm, for example 150000."),
        ("150,000.50", "Enter an amount in so'm, for example 150000."),
        ("12 so'm", "Enter an amount in so'm, for example 150000."),
        ("-5", "The amount cannot be negative."),
        ("-0.01", "The amount cannot be negative."),
        ("- 150 000", "The amount cannot be negative."),
        (-5, "The amount cannot be negative."),
        ("1.234", "An amount has at most two decimal places."),
        ("1.230", "An amount has at most two decimal places."),
        # "150,000" would otherwise silently be 150 so'm instead of 150 000 so'm.
        ("150,000", "An amount has at most two decimal places."),
        ("10000000000", "The amount is too large."),
        ("10000000000.00", "The amount is too large."),
        ("9" * 30, "The amount is too large."),
        ("9" * 5000, "The amount is too large."),
        (Decimal("NaN"), "Enter an amount in so'm, for example 150000."),
        (Decimal("Infinity"), "Enter an amount in so'm, for example 150000."),
        (Decimal("1.001"), "An amount has at most two decimal places."),
        (Decimal("1E-999999"), "An amount has at most two decimal places."),
        (Decimal("1E+999999999"), "The amount is too large."),
        (Decimal("10000000000"), "The amount is too large."),
        (Decimal("-1"), "The amount cannot be negative."),
        (True, "Enter an amount in so'm, for example 150000."),
    ],
)
def test_som_to_tiyin_refuses_with_a_clear_message(typed, message):
    with pytest.raises(MoneyError) as caught:
        som_to_tiyin(typed)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)  # forms and the API catch ValueError


@pytest.mark.parametrize(
    ("tiyin", "text"),
    [
        (15_000_050, "150000.50"),
        (15_000_000, "150000"),
        (5, "0.05"),
        (0, "0"),
        (-50, "-0.50"),
        (-15_000_005, "-150000.05"),
        (-100, "-1"),
    ],
)
def test_tiyin_to_som_text(tiyin, text):
    assert tiyin_to_som_text(tiyin) == text


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_TIYIN))
def test_round_trip_through_the_input_text(tiyin):
    assert som_to_tiyin(tiyin_to_som_text(tiyin)) == tiyin


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_TIYIN))
def test_round_trip_through_the_displayed_amount(tiyin):
    shown = format_money(tiyin).removesuffix(" so'm")
    assert som_to_tiyin(shown) == tiyin


@given(st.integers(min_value=MAX_AMOUNT_TIYIN + 1, max_value=10**40))
def test_anything_above_the_ceiling_is_refused(tiyin):
    with pytest.raises(MoneyError, match="too large"):
        som_to_tiyin(tiyin_to_som_text(tiyin))


@given(st.text(max_size=40))
def test_any_text_gives_tiyin_or_a_money_error(text):
    try:
        tiyin = som_to_tiyin(text)
    except MoneyError:
        return
    assert isinstance(tiyin, int)
    assert 0 <= tiyin <= MAX_AMOUNT_TIYIN


@pytest.mark.parametrize(
    ("tiyin", "percent", "share"),
    [
        (10_000, 10, 1_000),
        (10_000, "12.5", 1_250),
        (10_000, Decimal("33.33"), 3_333),
        (1, 50, 1),  # 0.5 tiyin rounds half up
        (1, 49, 0),
        (3, 50, 2),  # 1.5 → 2
        (5, 50, 3),  # 2.5 → 3 (half up, not banker's rounding)
        (7, 50, 4),  # 3.5 → 4
        (999, 0, 0),
        (999, 100, 999),
        (0, 33, 0),
        (MAX_AMOUNT_TIYIN, 100, MAX_AMOUNT_TIYIN),
        (MAX_AMOUNT_TIYIN, 1, 10_000_000_000),  # 9 999 999 999.99 → half up
    ],
)
def test_percent_of(tiyin, percent, share):
    assert percent_of(tiyin, percent) == share
    assert isinstance(percent_of(tiyin, percent), int)


@given(
    st.integers(min_value=0, max_value=MAX_AMOUNT_TIYIN), st.integers(min_value=0, max_value=100)
)
def test_percent_of_stays_within_the_amount(tiyin, percent):
    share = percent_of(tiyin, percent)
    assert 0 <= share <= tiyin
    assert abs(share * 100 - tiyin * percent) <= 50  # never more than half a tiyin off


def test_template_filters():
    template = Template(
        "{% load navbat %}[{{ a|money }}][{{ b|money }}][{{ a|som }}][{{ n|som }}]"
        "[{{ n|money }}][{{ p|phone }}][{{ n|phone }}]"
    )
    context = {"a": 15_000_050, "b": -100, "n": None, "p": "+998901234567"}
    assert template.render(Context(context)) == (
        "[150 000.50 so&#x27;m][-1 so&#x27;m][150000.50][][][+998 90 123 45 67][]"
    )
    assert template.render(Context(context, autoescape=False)) == (
        "[150 000.50 so'm][-1 so'm][150000.50][][][+998 90 123 45 67][]"
    )
