"""Forms of the finance pages: cash registers and the transaction filters."""

from django import forms
from django.utils.translation import gettext_lazy as _

from navbat.kit.forms import DateRangeForm
from navbat.salons.selectors import clients, locations

from .models import Direction, RegisterKind, TransactionKind
from .selectors import registers


class RegisterForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=RegisterKind.choices)
    location = forms.ModelChoiceField(
        label=_("Location"), queryset=None, required=False, empty_label=_("Any location")
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = locations(business=business)

    @staticmethod
    def initial_for(register) -> dict:
        return {
            "name": register.name,
            "kind": register.kind,
            "location": register.location_id,
            "is_active": register.is_active,
        }


class TransactionFilterForm(DateRangeForm):
    """Filters of the transaction list; every choice is limited to the business's own rows."""

    field_order = ["register", "direction", "kind", "date_from", "date_to", "client"]

    register = forms.ModelChoiceField(
        label=_("Register"), queryset=None, required=False, empty_label=_("All registers")
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        required=False,
        choices=[("", _("Income and expense")), *Direction.choices],
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *TransactionKind.choices]
    )
    client = forms.ModelChoiceField(
        label=_("Client"), queryset=None, required=False, widget=forms.HiddenInput
    )

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["register"].queryset = registers(business=business)
        self.fields["client"].queryset = clients(business=business)

    def filters(self) -> dict:
        """Keyword arguments for ``selectors.transactions``."""
        data = self.cleaned_data
        return {
            "register_id": data["register"].pk if data.get("register") else None,
            "direction": data.get("direction") or "",
            "kind": data.get("kind") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "client_id": data["client"].pk if data.get("client") else None,
        }
