"""Forms of the online payments pages."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from navbat.kit.forms import DateRangeForm, MoneyField

from .models import Method, RefundRoute, State
from .refunds import REASON_MAX


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


class RefundForm(forms.Form):
    """How much of one payment goes back, why, and by which way (the service decides
    whether it may)."""

    amount = MoneyField(label=_("Amount, so'm"))
    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)
    route = forms.ChoiceField(label=_("Give it back"), widget=forms.RadioSelect)
    register = forms.ModelChoiceField(
        label=_("Register"), queryset=None, required=False, empty_label=None
    )
    # One key per rendered form: pressing the button twice gives the money back once.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, order, registers, **kwargs):
        super().__init__(*args, **kwargs)
        if order.method == Method.CARD:
            self.fields["route"].choices = [
                (RefundRoute.BANK, _("Back to the card")),
                (RefundRoute.REGISTER, _("From a register")),
            ]
            self.fields["route"].initial = RefundRoute.BANK
        else:
            self.fields["route"].choices = [(RefundRoute.REGISTER, _("From a register"))]
            self.fields["route"].initial = RefundRoute.REGISTER
        self.fields["register"].queryset = registers

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise ValidationError(_("The amount must be more than zero."))
        return amount

    def clean(self):
        data = super().clean()
        if data.get("route") == RefundRoute.REGISTER and not data.get("register"):
            self.add_error("register", _("Choose the register the money is given from."))
        return data


class ReversalRequestForm(forms.Form):
    """The salon asked the bank to reverse a payment of its app: why (kept with the request)."""

    reason = forms.CharField(label=_("Reason"), max_length=REASON_MAX)
