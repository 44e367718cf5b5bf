"""Forms of a location's online booking page (F6): the widget's rules and its public
address. They check and convert what was typed; ``settings_services`` decides and writes."""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .models import BookingSettings, RefundPolicy

SLOT_STEPS = (5, 10, 15, 20, 30, 45, 60, 90, 120)
MAX_NOTICE_MINUTES = 14 * 24 * 60
MAX_HOURS = 30 * 24
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN, SLUG_MAX = 3, 60


def _minutes_text(value: int) -> str:
    return gettext("%(count)s min") % {"count": value}


# Lazy: the choices are made once, at import, and shown in each page's language.
_minutes = lazy(_minutes_text, str)


class BookingSettingsForm(forms.Form):
    enabled = forms.BooleanField(
        label=_("Online booking is on"),
        required=False,
        help_text=_("When off, the widget and the public booking API answer “not found”."),
    )
    slot_step_minutes = forms.TypedChoiceField(
        label=_("Times offered every"),
        choices=[(step, _minutes(step)) for step in SLOT_STEPS],
        coerce=int,
        initial=15,
    )
    min_notice_minutes = forms.IntegerField(
        label=_("Minimum notice, minutes"),
        min_value=0,
        max_value=MAX_NOTICE_MINUTES,
        initial=60,
        help_text=_("A client cannot book a time sooner than this from now."),
    )
    horizon_days = forms.IntegerField(
        label=_("Booking horizon, days"),
        min_value=1,
        max_value=365,
        initial=60,
        help_text=_("How far ahead clients may book."),
    )
    buffer_minutes = forms.IntegerField(
        label=_("Break after each appointment, minutes"), min_value=0, max_value=240, initial=0
    )
    hold_minutes = forms.IntegerField(
        label=_("Time to pay a required prepayment, minutes"),
        min_value=5,
        max_value=24 * 60,
        initial=15,
        help_text=_("The time is held this long; unpaid, the booking cancels itself."),
    )
    change_cutoff_hours = forms.IntegerField(
        label=_("Clients may cancel or move a booking up to, hours before"),
        min_value=0,
        max_value=MAX_HOURS,
        initial=24,
    )
    phone_confirmation = forms.BooleanField(
        label=_("Confirm the client's phone with a code"),
        required=False,
        help_text=_(
            "Until navbat sends text messages, the codes waiting are shown on this page: "
            "the salon reads the code out to the client who calls."
        ),
    )
    terms = forms.CharField(
        label=_("The salon's terms"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Clients accept them to book. Leave empty for none."),
    )
    refund_policy = forms.ChoiceField(
        label=_("When a client cancels, the prepayment is refunded"),
        choices=[
            (RefundPolicy.NEVER, _("never")),
            (RefundPolicy.ALWAYS, _("always")),
            (RefundPolicy.BEFORE, _("up to a number of hours before the visit")),
        ],
        initial=RefundPolicy.BEFORE,
    )
    refund_before_hours = forms.IntegerField(
        label=_("Refunded up to, hours before the visit"),
        min_value=0,
        max_value=MAX_HOURS,
        required=False,
        initial=24,
    )

    def clean_terms(self):
        return self.cleaned_data["terms"].strip()

    def clean(self):
        data = super().clean()
        policy = data.get("refund_policy")
        if policy == RefundPolicy.BEFORE:
            if data.get("refund_before_hours") is None and "refund_before_hours" not in self.errors:
                self.add_error(
                    "refund_before_hours", _("Give the number of hours before the visit.")
                )
        elif "refund_before_hours" not in self.errors and data.get("refund_before_hours") is None:
            # Not used by this policy: the stored number stays a valid one.
            data["refund_before_hours"] = self.initial.get("refund_before_hours", 24)
        return data

    @staticmethod
    def initial_for(settings: BookingSettings) -> dict:
        return {name: getattr(settings, name) for name in FIELDS}


FIELDS = tuple(BookingSettingsForm.base_fields)


class PublicSlugForm(forms.Form):
    """The location's public name in the widget's address."""

    public_slug = forms.CharField(
        label=_("Public address"),
        min_length=SLUG_MIN,
        max_length=SLUG_MAX,
        help_text=_("Small Latin letters, digits and hyphens, for example my-salon."),
    )

    def clean_public_slug(self):
        slug = self.cleaned_data["public_slug"].strip().lower()
        if not SLUG_RE.fullmatch(slug):
            raise ValidationError(
                _("Use small Latin letters, digits and single hyphens between them.")
            )
        return slug
