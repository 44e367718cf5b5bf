"""Phone numbers are stored in E.164; Uzbekistan is the default region."""

import phonenumbers
from django.utils.translation import gettext as _

DEFAULT_REGION = "UZ"


class PhoneError(ValueError):
    pass


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    text = (raw or "").strip()
    if not text:
        raise PhoneError(_("Enter a phone number."))
    if len(text) > 32:
        raise PhoneError(_("This phone number is too long."))
    if any(ch.isalpha() for ch in text):
        # phonenumbers reads letters as keypad digits ("90 ABC…"): a typo, never a number here.
        raise PhoneError(_("Enter a valid phone number, for example +998 90 123 45 67."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise PhoneError(_("Enter a valid phone number, for example +998 90 123 45 67.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise PhoneError(_("Enter a valid phone number, for example +998 90 123 45 67."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
