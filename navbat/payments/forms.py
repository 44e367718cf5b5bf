"""Forms of the online payments pages."""

from django import forms
from django.utils.translation import gettext_lazy as _

from navbat.kit.forms import DateRangeForm

from .models import State


class PaymentFilterForm(DateRangeForm):
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *State.choices]
    )

    def filters(self) -> dict:
        data = self.cleaned_data
        return {
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
            "state": data.get("state") or None,
        }
