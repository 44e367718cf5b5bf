"""The form kit every app shares (navbat/kit/forms.py)."""

from datetime import date

import pytest
from django import forms
from django.core.exceptions import ValidationError

from navbat.kit.forms import DateRangeForm, MoneyField, add_service_errors, check_day


class PriceForm(forms.Form):
    name = forms.CharField(required=False)
    price = MoneyField(required=False)


@pytest.mark.parametrize(
    "typed, tiyin",
    [("150 000", 15_000_000), ("150000.50", 15_000_050), ("", None), ("0", 0)],
)
def test_money_field_cleans_so_m_to_tiyin(typed, tiyin):
    form = PriceForm({"price": typed})
    assert form.is_valid()
    assert form.cleaned_data["price"] == tiyin


@pytest.mark.parametrize(
    "typed, message",
    [
        ("-5", "The amount cannot be negative."),
        ("abc", "Enter an amount in so'm, for example 150000."),
        ("9" * 25, "Enter an amount in so'm, for example 150000."),
    ],
)
def test_money_field_refuses_what_is_no_amount(typed, message):
    form = PriceForm({"price": typed})
    assert not form.is_valid()
    assert form.errors == {"price": [message]}


def test_money_field_shows_tiyin_as_so_m():
    assert PriceForm(initial={"price": 15_000_050})["price"].value() == "150000.50"


def test_service_errors_land_on_their_field_or_the_form():
    form = PriceForm({"name": "x", "price": "1"})
    assert form.is_valid()
    add_service_errors(form, ValidationError({"name": "Taken.", "elsewhere": "Odd."}))
    add_service_errors(form, ValidationError("Refused."))
    assert form.errors == {"name": ["Taken."], "__all__": ["Odd.", "Refused."]}


def test_days_stay_in_range():
    assert check_day(date(2026, 1, 1)) == date(2026, 1, 1)
    with pytest.raises(ValidationError):
        check_day(date(1999, 12, 31))
    form = DateRangeForm({"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert not form.is_valid()
    assert form.errors == {"__all__": ["The end date cannot be before the start date."]}
