"""Forms of the checkout points on Finance → Online payments (the service checks the name
and the location again and decides)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from navbat.kit.tenancy import scoped
from navbat.salons.models import Location


class CheckoutPointForm(forms.Form):
    location = forms.ModelChoiceField(label=_("Location"), queryset=None, empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=100)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = scoped(Location, business).order_by("name", "id")


class RenameCheckoutPointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
