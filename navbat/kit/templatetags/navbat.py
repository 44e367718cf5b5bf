from django import template
from django.utils.html import format_html_join

from navbat.kit import slots
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


@register.simple_tag(takes_context=True)
def slot(context, name):
    """``{% slot "finance.nav" %}``: what the rooms above contributed (navbat.kit.slots)."""
    parts = []
    for contribution in slots.contributions(name):
        extra = contribution.context(context) if contribution.context else {}
        with context.push(extra):
            page = context.template.engine.get_template(contribution.template)
            parts.append((page.render(context),))
    # Each part is a rendered template (already safe); format_html_join keeps it so.
    return format_html_join("", "{}", parts)
