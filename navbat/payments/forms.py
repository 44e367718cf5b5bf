"""Forms of the online payments pages."""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from navbat.kit.forms import DateRangeForm, MoneyField

from .models import Method, RefundRoute, State
from .refunds import REASON_MAX


class Period(models.TextChoices):
    TODAY = "today", _("Today")
    WEEK = "week", _("This week")
    MONTH = "month", _("This month")
    CUSTOM = "custom", _("Custom")


# The longest custom period: a leap year, first and last day included.
LONGEST_PERIOD_DAYS = 366


def period_days(period: str, today: date) -> tuple[date, date]:
    """First and last day of a named period around ``today``: the week from Monday to
    Sunday, the month from its first day to its last (days to come add nothing)."""
    if period == Period.TODAY:
        return today, today
    if period == Period.WEEK:
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    first = today.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


class PaymentFilterForm(DateRangeForm):
    """The online payments page's period (its dashboard, list, totals and CSV export) and
    state. Without a period, typed days mean a custom one and no days this month; the
    named periods are the business's local days around its today."""

    period = forms.ChoiceField(label=_("Period"), required=False, choices=Period.choices)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *State.choices]
    )

    def __init__(self, data=None, *, today: date, **kwargs):
        super().__init__(data, **kwargs)
        self.today = today

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        period = data.get("period")
        if not period:
            typed = data.get("date_from") or data.get("date_to")
            period = Period.CUSTOM if typed else Period.MONTH
        data["period"] = period
        if period != Period.CUSTOM:
            data["date_from"], data["date_to"] = period_days(period, self.today)
            # The day inputs show the period's days: "Show" after a state change keeps them.
            self.data = self.data.copy()
            self.data["date_from"] = data["date_from"].isoformat()
            self.data["date_to"] = data["date_to"].isoformat()
            return data
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if not date_from or not date_to:
            raise ValidationError(_("Choose the first and the last day of the period."))
        if (date_to - date_from).days + 1 > LONGEST_PERIOD_DAYS:
            raise ValidationError(
                _("Choose a period of at most %(days)d days.") % {"days": LONGEST_PERIOD_DAYS}
            )
        return data

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
