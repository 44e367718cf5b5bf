"""Money is an integer number of tiyin (1 so'm = 100 tiyin); never a float."""

import re
from decimal import ROUND_HALF_UP, Decimal

from django.utils.translation import gettext as _

TIYIN_PER_SOM = 100
# The bank's ceiling for one amount (uzum-bank.md §1); nothing we record may exceed it.
MAX_AMOUNT_TIYIN = 999_999_999_999


class MoneyError(ValueError):
    pass


def format_money(tiyin: int | None) -> str:
    """``15000000`` → ``150 000 so'm`` (thin spaces would break copy-paste; use plain spaces)."""
    if tiyin is None:
        return ""
    sign = "-" if tiyin < 0 else ""
    whole, part = divmod(abs(int(tiyin)), TIYIN_PER_SOM)
    grouped = f"{whole:,}".replace(",", " ")
    amount = f"{grouped}.{part:02d}" if part else grouped
    return _("%(amount)s so'm") % {"amount": f"{sign}{amount}"}


# What people type: digits, an optional decimal point or comma, at most two decimals.
# Spaces (plain, no-break, thin) group thousands. No exponents, no signs, no "NaN".
_AMOUNT_RE = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<part>[0-9]*))?")
_GROUPING = str.maketrans("", "", " \u00a0\u202f\u2009\t")


def som_to_tiyin(value: str | int | Decimal) -> int:
    """Parse an amount typed in so'm ("150 000", "150000.50", "1,5") into tiyin.

    Anything else (three decimals, "150,000", "1e3", "NaN", a sign) is refused with a
    :class:`MoneyError` whose message can be shown to the person who typed it.
    """
    if isinstance(value, bool):
        raise MoneyError(_("Enter an amount in so'm, for example 150000."))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise MoneyError(_("Enter an amount in so'm, for example 150000."))
        if value < 0:
            raise MoneyError(_("The amount cannot be negative."))
        if value.adjusted() >= 15:  # checked first: 1E+999999999 must not be written out
            raise MoneyError(_("The amount is too large."))
        cents = value.quantize(Decimal("0.01"))  # at most 17 digits here: always exact
        if cents != value:
            raise MoneyError(_("An amount has at most two decimal places."))
        value = format(cents, "f")
    text = str(value).strip().translate(_GROUPING).replace(",", ".")
    if not text:
        raise MoneyError(_("Enter an amount."))
    negative = text.startswith("-")
    match = _AMOUNT_RE.fullmatch(text[1:] if negative else text)
    if match is None or not (match["whole"] or match["part"]):
        _refuse_other_notation(text)
    if negative and (match["whole"] + (match["part"] or "")).strip("0"):
        raise MoneyError(_("The amount cannot be negative."))
    part = match["part"] or ""
    if len(part) > 2:
        raise MoneyError(_("An amount has at most two decimal places."))
    whole = match["whole"].lstrip("0")
    if len(whole) > len(str(MAX_AMOUNT_TIYIN)):  # refuse before building a huge number
        raise MoneyError(_("The amount is too large."))
    tiyin = int(whole or "0") * TIYIN_PER_SOM + int(part.ljust(2, "0"))
    if tiyin > MAX_AMOUNT_TIYIN:
        raise MoneyError(_("The amount is too large."))
    return tiyin


def _refuse_other_notation(text: str):
    """Say what is wrong with "1e30" or "-1e3" as precisely as with plain digits."""
    try:
        amount = Decimal(text)
    except ArithmeticError:  # InvalidOperation: not a number at all
        amount = None
    if amount is not None and amount.is_finite():
        if amount < 0:
            raise MoneyError(_("The amount cannot be negative."))
        if amount > MAX_AMOUNT_TIYIN // TIYIN_PER_SOM:
            raise MoneyError(_("The amount is too large."))
    raise MoneyError(_("Enter an amount in so'm, for example 150000."))


def tiyin_to_som_text(tiyin: int) -> str:
    """The value an input field shows for an amount: ``15000050`` → ``150000.50``."""
    sign = "-" if tiyin < 0 else ""
    whole, part = divmod(abs(int(tiyin)), TIYIN_PER_SOM)
    return f"{sign}{whole}.{part:02d}" if part else f"{sign}{whole}"


def percent_of(tiyin: int, percent: Decimal | int | str) -> int:
    """A percentage of an amount, rounded half up to a whole tiyin."""
    share = Decimal(tiyin) * Decimal(str(percent)) / Decimal(100)
    return int(share.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
