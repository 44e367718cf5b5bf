"""Phones: stored in E.164, Uzbekistan by default, shown grouped."""

import pytest

from navbat.kit.phones import PhoneError, display_phone, normalise_phone

INVALID = "Enter a valid phone number, for example +998 90 123 45 67."


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("90 123 45 67", "+998901234567"),
        ("901234567", "+998901234567"),
        ("(90) 123-45-67", "+998901234567"),
        ("+998901234567", "+998901234567"),
        ("+998 90 123 45 67", "+998901234567"),
        ("998901234567", "+998901234567"),
        ("  +998 (93) 555-12-34  ", "+998935551234"),
        ("+998 33 123 45 67", "+998331234567"),
        ("+998 88 123 45 67", "+998881234567"),
        ("+998 71 200 00 00", "+998712000000"),  # Tashkent landline
        ("+7 912 345 67 89", "+79123456789"),  # a visitor's foreign mobile
    ],
)
def test_normalise_phone(typed, e164):
    assert normalise_phone(typed) == e164


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a phone number."),
        ("   ", "Enter a phone number."),
        (None, "Enter a phone number."),
        ("abc", INVALID),
        ("hello world", INVALID),
        ("+", INVALID),
        ("+998 90 123 45 6", INVALID),  # one digit short
        ("+998 90 123 45 678", INVALID),  # one digit too many
        ("+998 00 123 45 67", INVALID),  # no such operator
        ("12", INVALID),
        ("9" * 33, "This phone number is too long."),
        ("+998 90 123 45 67 " + "x" * 20, "This phone number is too long."),
    ],
)
def test_normalise_phone_refuses(typed, message):
    with pytest.raises(PhoneError) as caught:
        normalise_phone(typed)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)


def test_normalise_phone_in_another_region():
    assert normalise_phone("8 912 345 67 89", region="RU") == "+79123456789"


def test_normalised_phones_are_stable():
    once = normalise_phone("90 123 45 67")
    assert normalise_phone(once) == once


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+998901234567", "+998 90 123 45 67"),
        ("+998712000000", "+998 71 200 00 00"),
        ("+79123456789", "+7 912 345-67-89"),
        ("garbage", "garbage"),
        ("", ""),
    ],
)
def test_display_phone(e164, shown):
    assert display_phone(e164) == shown
