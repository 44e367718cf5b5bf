from django import template

from navbat.kit.money import format_money, tiyin_to_som_text
from navbat.kit.phones import display_phone

register = template.Library()


@register.filter
def money(tiyin):
    """``{{ 15000000|money }}`` → ``150 000 so'm``."""
    return format_money(tiyin)


@register.filter
def som(tiyin):
    """The plain number an input shows: ``15000050`` → ``150000.50``."""
    return "" if tiyin is None else tiyin_to_som_text(tiyin)


@register.filter
def phone(e164):
    return display_phone(e164) if e164 else ""
