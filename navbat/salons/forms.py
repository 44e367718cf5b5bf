"""Forms of the administration pages for clients, staff and the catalog.

Forms only check and convert what was typed (so'm → tiyin, phone → E.164, times);
the services in ``services.py`` decide and write.
"""

from datetime import time

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext_lazy as _

from navbat.kit.forms import MoneyField, check_day, date_input, time_input
from navbat.kit.phones import PhoneError, normalise_phone

from . import selectors
from .models import (
    Client,
    Prepayment,
    PrepaymentAmount,
    ikpu_validator,
    package_code_validator,
)
from .photos import PHOTO_TYPES, photo_upload_limit, too_big_message

# --- Clients ---------------------------------------------------------------------------------


class ClientForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    phone = forms.CharField(
        label=_("Phone"),
        max_length=32,
        widget=forms.TextInput(attrs={"type": "tel", "placeholder": "+998 90 123 45 67"}),
    )
    email = forms.EmailField(label=_("E-mail"), required=False, max_length=254)
    preferred_language = forms.ChoiceField(
        label=_("Language"),
        choices=Client._meta.get_field("preferred_language").choices,
        initial="uz",
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter the client's name."))
        return name

    def clean_phone(self):
        raw = self.cleaned_data["phone"]
        # phonenumbers reads letters as a keypad ("90 ABC" → "90 222"); a desk never means that.
        if any(ch.isalpha() for ch in raw):
            raise ValidationError(_("Enter a valid phone number, for example +998 90 123 45 67."))
        try:
            return normalise_phone(raw)
        except PhoneError as exc:
            raise ValidationError(str(exc)) from exc

    @staticmethod
    def initial_for(client: Client) -> dict:
        return {
            "name": client.name,
            "phone": client.phone,
            "email": client.email,
            "preferred_language": client.preferred_language,
            "notes": client.notes,
        }


# --- Specialists -----------------------------------------------------------------------------

DEFAULT_SHIFT = (time(9, 0), time(18, 0))


class SpecialistForm(forms.Form):
    """A specialist, the services they perform and their regular week (Monday = 0)."""

    name = forms.CharField(label=_("Name"), max_length=150)
    position = forms.CharField(label=_("Position"), max_length=100, required=False)
    location = forms.ModelChoiceField(label=_("Location"), queryset=None, empty_label=None)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    services = forms.ModelMultipleChoiceField(
        label=_("Services they perform"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    bookable_online = forms.BooleanField(
        label=_("Clients may book them online"), required=False, initial=True
    )
    prepayment = forms.ChoiceField(
        label=_("Prepayment online"),
        choices=Prepayment.choices,
        required=False,
        initial=Prepayment.NONE,
        help_text=_(
            "Required: the whole price of the services booked with them. Where a service "
            "asks for a prepayment too, the stricter rule applies."
        ),
    )

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["location"].queryset = selectors.locations(business=business)
        self.fields["services"].queryset = selectors.services(business=business)
        for weekday in range(7):
            self.fields[f"day{weekday}_off"] = forms.BooleanField(
                label=_("Day off"), required=False
            )
            self.fields[f"day{weekday}_starts"] = forms.TimeField(
                label=_("Starts"), required=False, widget=time_input()
            )
            self.fields[f"day{weekday}_ends"] = forms.TimeField(
                label=_("Ends"), required=False, widget=time_input()
            )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter the specialist's name."))
        return name

    def clean_prepayment(self):
        # A form posted without it (an older page, a script) asks nothing in advance.
        return self.cleaned_data["prepayment"] or Prepayment.NONE

    def clean(self):
        data = super().clean()
        week: dict[int, tuple[time, time] | None] = {}
        for weekday in range(7):
            prefix = f"day{weekday}"
            if data.get(f"{prefix}_off"):
                week[weekday] = None
                continue
            if f"{prefix}_starts" in self.errors or f"{prefix}_ends" in self.errors:
                continue
            starts, ends = data.get(f"{prefix}_starts"), data.get(f"{prefix}_ends")
            if starts is None or ends is None:
                self.add_error(
                    f"{prefix}_starts", _("Give the start and end of the shift, or mark a day off.")
                )
            elif ends <= starts:
                self.add_error(f"{prefix}_ends", _("A shift must end after it starts."))
            else:
                week[weekday] = (starts, ends)
        data["week"] = week
        return data

    def week_rows(self) -> list[dict]:
        """One row per weekday for the template: its name and its three bound fields."""
        return [
            {
                "name": WEEKDAYS[weekday],
                "off": self[f"day{weekday}_off"],
                "starts": self[f"day{weekday}_starts"],
                "ends": self[f"day{weekday}_ends"],
            }
            for weekday in range(7)
        ]

    @staticmethod
    def week_initial(week: dict[int, tuple[time, time] | None]) -> dict:
        initial = {}
        for weekday in range(7):
            shift = week.get(weekday)
            initial[f"day{weekday}_off"] = shift is None
            starts, ends = shift or DEFAULT_SHIFT
            initial[f"day{weekday}_starts"] = starts
            initial[f"day{weekday}_ends"] = ends
        return initial

    @classmethod
    def initial_for(cls, specialist, week) -> dict:
        return {
            "name": specialist.name,
            "position": specialist.position,
            "location": specialist.location_id,
            "is_active": specialist.is_active,
            "services": [s.pk for s in specialist.services.all()],
            "bookable_online": specialist.bookable_online,
            "prepayment": specialist.prepayment,
            **cls.week_initial(week),
        }

    @classmethod
    def initial_new(cls) -> dict:
        week = {weekday: DEFAULT_SHIFT if weekday < 6 else None for weekday in range(7)}
        return {
            "is_active": True,
            "bookable_online": True,
            "prepayment": Prepayment.NONE,
            **cls.week_initial(week),
        }


class SpecialistPhotoForm(forms.Form):
    """A photo for the booking widget: any common picture, made a small square on saving."""

    photo = forms.FileField(
        label=_("Photo"),
        widget=forms.FileInput(attrs={"accept": ",".join(PHOTO_TYPES)}),
        help_text=_("A JPEG, PNG or WebP picture; it is cut to a square of 256 × 256."),
    )

    prefix = "photo"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = photo_upload_limit()
        self.fields["photo"].widget.attrs.update(
            {
                "data-max-bytes": str(limit),
                "data-too-big": too_big_message(limit),
            }
        )


class ScheduleExceptionForm(forms.Form):
    """A date that differs from the regular week: a day off, or other hours."""

    day = forms.DateField(label=_("Date"), widget=date_input())
    is_day_off = forms.BooleanField(label=_("Day off"), required=False, initial=True)
    starts = forms.TimeField(label=_("Starts"), required=False, widget=time_input())
    ends = forms.TimeField(label=_("Ends"), required=False, widget=time_input())
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    prefix = "exception"

    def clean_day(self):
        return check_day(self.cleaned_data["day"])

    def clean(self):
        data = super().clean()
        if not data.get("is_day_off") and "starts" not in self.errors and "ends" not in self.errors:
            starts, ends = data.get("starts"), data.get("ends")
            if starts is None or ends is None:
                raise ValidationError(_("Give the hours of that day, or mark it a day off."))
            if ends <= starts:
                raise ValidationError(_("The hours must end after they start."))
        return data


# --- Catalog ---------------------------------------------------------------------------------


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    position = forms.IntegerField(
        label=_("Order in the list"), min_value=0, max_value=10_000, initial=0
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter a name."))
        return name


class FiscalFieldsMixin(forms.Form):
    ikpu_code = forms.CharField(
        label=_("IKPU (MXIK) code"),
        required=False,
        max_length=17,
        validators=[ikpu_validator],
        help_text=_("17 digits, for fiscal receipts."),
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    package_code = forms.CharField(
        label=_("Package code"),
        required=False,
        max_length=20,
        validators=[package_code_validator],
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    vat_percent = forms.IntegerField(label=_("VAT, %"), min_value=0, max_value=100, initial=0)


class ServiceForm(FiscalFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False, empty_label=_("No category")
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    price = MoneyField(label=_("Price, so'm"))
    price_max = MoneyField(
        label=_("Price up to, so'm"),
        required=False,
        help_text=_("Fill in for a price range (“from … to …”); leave empty for a fixed price."),
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"), min_value=5, max_value=24 * 60, initial=60
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    bookable_online = forms.BooleanField(
        label=_("Clients may book it online"), required=False, initial=True
    )
    prepayment = forms.ChoiceField(
        label=_("Prepayment online"),
        choices=Prepayment.choices,
        required=False,
        initial=Prepayment.NONE,
    )
    prepayment_amount = forms.ChoiceField(
        label=_("How much"),
        choices=PrepaymentAmount.choices,
        required=False,
        initial=PrepaymentAmount.FULL,
        help_text=_("With a price range, of the starting price."),
    )
    prepayment_percent = forms.IntegerField(
        label=_("Percent of the price"),
        min_value=1,
        max_value=100,
        required=False,
        error_messages={
            "min_value": _("Give the percent, from 1 to 100."),
            "max_value": _("Give the percent, from 1 to 100."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        help_text=_("When “How much” is a percent: from 1 to 100."),
    )
    prepayment_fixed = MoneyField(
        label=_("Amount, so'm"),
        required=False,
        help_text=_("When “How much” is a fixed amount: at most the (starting) price."),
    )

    field_order = [
        "name",
        "category",
        "description",
        "price",
        "price_max",
        "duration_minutes",
        "ikpu_code",
        "package_code",
        "vat_percent",
        "is_active",
        "bookable_online",
        "prepayment",
        "prepayment_amount",
        "prepayment_percent",
        "prepayment_fixed",
    ]
    # Shown apart on the page, under "Online booking".
    ONLINE_FIELDS = (
        "bookable_online",
        "prepayment",
        "prepayment_amount",
        "prepayment_percent",
        "prepayment_fixed",
    )

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = selectors.categories(business=business)

    def catalog_fields(self):
        return [self[name] for name in self.fields if name not in self.ONLINE_FIELDS]

    def online_fields(self):
        return [self[name] for name in self.ONLINE_FIELDS]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter a name."))
        return name

    def clean(self):
        data = super().clean()
        price, price_max = data.get("price"), data.get("price_max")
        if price is not None and price_max is not None and price_max < price:
            self.add_error(
                "price_max", _("The upper price cannot be less than the starting price.")
            )
        self._clean_prepayment(data)
        return data

    def _clean_prepayment(self, data: dict) -> None:
        """``prepayment_value`` from the field of the chosen kind: a percent (1–100) or an
        amount in tiyin (more than nothing, at most the price). A value typed is always
        checked; one is needed only where a prepayment is asked."""
        mode = data.get("prepayment") or Prepayment.NONE
        kind = data.get("prepayment_amount") or PrepaymentAmount.FULL
        data["prepayment"], data["prepayment_amount"] = mode, kind
        asked = mode != Prepayment.NONE
        value = 0
        if kind == PrepaymentAmount.PERCENT and "prepayment_percent" not in self.errors:
            value = data.get("prepayment_percent")
            if value is None and asked:
                self.add_error("prepayment_percent", _("Give the percent, from 1 to 100."))
        elif kind == PrepaymentAmount.FIXED and "prepayment_fixed" not in self.errors:
            value = data.get("prepayment_fixed")
            price = data.get("price")
            if value is None:
                if asked:
                    self.add_error("prepayment_fixed", _("Give the amount."))
            elif value <= 0:
                self.add_error("prepayment_fixed", _("The amount must be more than zero."))
            elif price is not None and value > price:
                self.add_error(
                    "prepayment_fixed", _("The amount cannot be more than the (starting) price.")
                )
        data["prepayment_value"] = value or 0

    def service_fields(self) -> dict:
        """What ``services.save_service`` takes, from the cleaned form."""
        data = dict(self.cleaned_data)
        data.pop("prepayment_percent", None)
        data.pop("prepayment_fixed", None)
        return data

    @staticmethod
    def initial_for(service) -> dict:
        return {
            "name": service.name,
            "category": service.category_id,
            "description": service.description,
            "price": service.price,
            "price_max": service.price_max,
            "duration_minutes": service.duration_minutes,
            "ikpu_code": service.ikpu_code,
            "package_code": service.package_code,
            "vat_percent": service.vat_percent,
            "is_active": service.is_active,
            "bookable_online": service.bookable_online,
            "prepayment": service.prepayment,
            "prepayment_amount": service.prepayment_amount,
            "prepayment_percent": (
                service.prepayment_value
                if service.prepayment_amount == PrepaymentAmount.PERCENT
                else None
            ),
            "prepayment_fixed": (
                service.prepayment_value
                if service.prepayment_amount == PrepaymentAmount.FIXED
                else None
            ),
        }


class ProductForm(FiscalFieldsMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=150)
    price = MoneyField(label=_("Price, so'm"))
    unit = forms.CharField(label=_("Unit"), max_length=20, initial="pcs")
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    field_order = ["name", "price", "unit", "ikpu_code", "package_code", "vat_percent", "is_active"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError(_("Enter a name."))
        return name

    def clean_unit(self):
        unit = self.cleaned_data["unit"].strip()
        if not unit:
            raise ValidationError(_("Enter a unit, for example pcs or ml."))
        return unit

    @staticmethod
    def initial_for(product) -> dict:
        return {
            "name": product.name,
            "price": product.price,
            "unit": product.unit,
            "ikpu_code": product.ikpu_code,
            "package_code": product.package_code,
            "vat_percent": product.vat_percent,
            "is_active": product.is_active,
        }
