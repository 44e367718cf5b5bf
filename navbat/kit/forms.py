"""The form kit every app's administration pages share: amounts in so'm, days in range,
date and time inputs, a date range, and a service's errors shown on a form.

Forms only check and convert what was typed; services decide and write.
"""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from navbat.kit.money import MoneyError, som_to_tiyin, tiyin_to_som_text

# Dates typed into the administration pages stay within this range (no overflow on day + 1).
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2100, 12, 31)


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError on the form: by field where the form has it."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def check_day(value: date | None) -> date | None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise ValidationError(
            _("Enter a date between %(first)s and %(last)s.")
            % {"first": FIRST_DAY.isoformat(), "last": LAST_DAY.isoformat()}
        )
    return value


class MoneyField(forms.CharField):
    """An amount typed in so'm ("150 000", "150000.50"); cleans to integer tiyin."""

    max_text = 24

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("maxlength", str(self.max_text))

    def prepare_value(self, value):
        return tiyin_to_som_text(value) if isinstance(value, int) else value

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return None
        if len(text) > self.max_text:
            raise ValidationError(_("Enter an amount in so'm, for example 150000."), code="long")
        try:
            return som_to_tiyin(text)
        except MoneyError as exc:
            raise ValidationError(str(exc), code="invalid_money") from exc


def date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def time_input() -> forms.TimeInput:
    return forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class DateRangeForm(forms.Form):
    """A list's "from … to" days: both optional, both in range, the end not before the start."""

    date_from = forms.DateField(label=_("From"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("To"), required=False, widget=date_input())

    def clean_date_from(self):
        return check_day(self.cleaned_data.get("date_from"))

    def clean_date_to(self):
        return check_day(self.cleaned_data.get("date_to"))

    def clean(self):
        data = super().clean()
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            raise ValidationError(_("The end date cannot be before the start date."))
        return data
