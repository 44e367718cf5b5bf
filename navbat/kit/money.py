"""Money is an integer number of tiyin (1 so'm = 100 tiyin); never a float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

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


def som_to_tiyin(value: str | int | Decimal) -> int:
    """Parse an amount typed in so'm ("150 000", "150000.50") into tiyin."""
    text = str(value).replace(" ", "").replace("\u00a0", "").replace(",", ".")
    if not text:
        raise MoneyError(_("Enter an amount."))
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise MoneyError(_("Enter an amount in so'm, for example 150000.")) from exc
    if not amount.is_finite():
        raise MoneyError(_("Enter an amount in so'm, for example 150000."))
    if amount < 0:
        raise MoneyError(_("The amount cannot be negative."))
    if amount * TIYIN_PER_SOM > MAX_AMOUNT_TIYIN:
        raise MoneyError(_("The amount is too large."))
    if amount != amount.quantize(Decimal("0.01")):
        raise MoneyError(_("An amount has at most two decimal places."))
    tiyin = int((amount * TIYIN_PER_SOM).quantize(Decimal("1"), rounding=ROUND_HALF_UP))
    if tiyin > MAX_AMOUNT_TIYIN:
        raise MoneyError(_("The amount is too large."))
    return tiyin


def tiyin_to_som_text(tiyin: int) -> str:
    """The value an input field shows for an amount: ``15000050`` → ``150000.50``."""
    whole, part = divmod(int(tiyin), TIYIN_PER_SOM)
    return f"{whole}.{part:02d}" if part else str(whole)


def percent_of(tiyin: int, percent: Decimal | int | str) -> int:
    """A percentage of an amount, rounded half up to a whole tiyin."""
    share = Decimal(tiyin) * Decimal(str(percent)) / Decimal(100)
    return int(share.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
