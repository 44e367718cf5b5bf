from django import template

from navbat.payments import providers

register = template.Library()


@register.simple_tag
def provider_settings_page():
    """``{% provider_settings_page as page %}``: where an administrator connects a bank
    (``page.url``, ``page.label``), or None when no provider is installed."""
    return providers.settings_page()
