from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from navbat.finance.models import RegisterKind
from navbat.finance.selectors import registers
from navbat.kit.forms import MoneyField, check_day
from navbat.kit.money import tiyin_to_som_text
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.salons.selectors import products, services, specialists

from .services import LineInput


class AppointmentForm(forms.Form):
    client_phone = forms.CharField(label=_("Client's phone"), max_length=32)
    client_name = forms.CharField(
        label=_("Client's name"),
        max_length=150,
        required=False,
        help_text=_("Needed only for a new client."),
    )
    specialist = forms.ModelChoiceField(label=_("Specialist"), queryset=None)
    day = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(label=_("Starts"), widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(
        label=_("Ends"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}),
        help_text=_("Leave empty to take the services' duration."),
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, business, location, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialist"].queryset = specialists(
            business=business, location=location, active_only=True
        )

    def clean_day(self):
        return check_day(self.cleaned_data["day"])

    def clean_client_phone(self):
        try:
            return normalise_phone(self.cleaned_data["client_phone"])
        except PhoneError as exc:
            raise ValidationError(str(exc)) from exc


def item_choices(business) -> list[tuple[str, list[tuple[str, str]]]]:
    return [
        ("", [("", "—")]),
        (
            str(_("Services")),
            [(f"service:{s.pk}", s.name) for s in services(business=business, active_only=True)],
        ),
        (
            str(_("Products")),
            [(f"product:{p.pk}", p.name) for p in products(business=business, active_only=True)],
        ),
    ]


class LineForm(forms.Form):
    item = forms.ChoiceField(label=_("Service or product"), required=False)
    price = MoneyField(label=_("Price, so'm"), required=False)
    quantity = forms.IntegerField(label=_("Qty"), min_value=1, max_value=999, initial=1)
    discount_percent = forms.IntegerField(
        label=_("Discount, %"), min_value=0, max_value=100, initial=0, required=False
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["item"].choices = choices

    def to_input(self) -> LineInput | None:
        data = self.cleaned_data
        if not data or not data.get("item") or data.get("DELETE"):
            return None
        kind, _sep, item_id = data["item"].partition(":")
        return LineInput(
            kind=kind,
            item_id=int(item_id),
            quantity=data.get("quantity") or 1,
            discount_percent=data.get("discount_percent") or 0,
            unit_price=data.get("price"),
        )


class BaseLineFormSet(forms.BaseFormSet):
    def lines(self) -> list[LineInput]:
        return [line for form in self.forms if (line := form.to_input()) is not None]


LineFormSet = forms.formset_factory(
    LineForm,
    formset=BaseLineFormSet,
    extra=0,
    can_delete=True,
    max_num=50,
    validate_max=True,
    absolute_max=60,
)


def line_initial(appointment) -> list[dict]:
    return [
        {
            "item": f"{line.kind}:{line.service_id or line.product_id}",
            "price": tiyin_to_som_text(line.unit_price),
            "quantity": line.quantity,
            "discount_percent": line.discount_percent,
        }
        for line in appointment.lines.all()
    ]


class DeskPaymentForm(forms.Form):
    register = forms.ModelChoiceField(label=_("Paid by"), queryset=None)
    amount = MoneyField(label=_("Amount, so'm"))
    # One key per rendered form: pressing the button twice records the payment once.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, business, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["register"].queryset = registers(business=business, active_only=True).filter(
            kind__in=[RegisterKind.CASH, RegisterKind.CARD_TERMINAL]
        )

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise ValidationError(_("The amount must be more than zero."))
        return amount


class DeskRefundForm(forms.Form):
    """Money given back of a payment taken at the desk, from the register it went into."""

    amount = MoneyField(label=_("Amount, so'm"))
    reason = forms.CharField(label=_("Reason"), max_length=300)
    # One key per rendered form: pressing the button twice gives the money back once.
    idempotency_key = forms.UUIDField(widget=forms.HiddenInput, required=False)

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount <= 0:
            raise ValidationError(_("The amount must be more than zero."))
        return amount


class SalonCancelForm(forms.Form):
    """The salon cancels an online booking that holds the client's money: the window asks
    whether the money goes back (no choice is assumed)."""

    REFUND = "refund"
    KEEP = "keep"

    refund = forms.TypedChoiceField(
        label=_("The client's prepayment"),
        choices=[(REFUND, _("Give it back to the client")), (KEEP, _("Keep it"))],
        coerce=lambda value: value == "refund",
        widget=forms.RadioSelect,
        error_messages={"required": _("Say whether the prepayment goes back to the client.")},
    )
