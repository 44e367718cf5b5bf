"""The connect form of Integrations → Uzum Bank (F1)."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from navbat.kit.forms import add_service_errors

from . import services, validation
from .models import Connection, Environment

MAX_SERVICE_ID = 9_999_999_999
MAX_KEY_LENGTH = 256
MAX_PASSWORD_LENGTH = 128


def environment_choices() -> list[tuple[str, str]]:
    """The built-in sandbox is offered only where it is mounted."""
    return [
        (value, label)
        for value, label in Environment.choices
        if value != Environment.SANDBOX or settings.NAVBAT_SANDBOX
    ]


def secret_input(**attrs) -> forms.PasswordInput:
    # render_value=False: a typed key never travels back to the browser in a re-rendered form.
    return forms.PasswordInput(
        render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false", **attrs}
    )


class ConnectForm(forms.Form):
    """The integration keys as Uzum e-mails them, and what the salon offers with them.

    With ``create_sandbox`` the keys are not asked for: the built-in sandbox issues them."""

    environment = forms.ChoiceField(label=_("Environment"), choices=())
    checkout_base_url = forms.CharField(
        label=_("Checkout host"),
        max_length=Connection._meta.get_field("checkout_base_url").max_length,
        required=False,
        help_text=_("Filled in for the environment; change it only if Uzum tells you to."),
        widget=forms.URLInput(attrs={"spellcheck": "false"}),
    )
    terminal_id = forms.CharField(
        label=_("Terminal id"),
        max_length=64,
        required=False,
        help_text=_("From the bank's e-mail, like 3fa85f64-5717-4562-b3fc-2c963f66afa6."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    api_key = forms.CharField(
        label=_("API key"),
        max_length=MAX_KEY_LENGTH,
        required=False,
        strip=True,
        widget=secret_input(),
    )
    merchant_service_id = forms.IntegerField(
        label=_("Merchant API service id"),
        required=False,
        min_value=1,
        max_value=MAX_SERVICE_ID,
        help_text=_("Needed for payments in the Uzum Bank app."),
    )
    merchant_login = forms.CharField(
        label=_("Merchant API login"),
        max_length=Connection._meta.get_field("merchant_login").max_length,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    merchant_password = forms.CharField(
        label=_("Merchant API password"),
        max_length=MAX_PASSWORD_LENGTH,
        required=False,
        strip=False,
        widget=secret_input(),
    )
    payment_attribute = forms.CharField(
        label=_("Payment attribute name"),
        max_length=Connection._meta.get_field("payment_attribute").max_length,
        required=False,
        initial="order",
        help_text=_(
            "The name Uzum's manager gave the payment parameter of your service; usually “order”."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    card_payments = forms.BooleanField(label=_("Card payment"), required=False, initial=True)
    app_payments = forms.BooleanField(label=_("Uzum Bank app"), required=False)
    installments = forms.BooleanField(
        label=_("Installments in the app"),
        required=False,
        help_text=_("Only together with the Uzum Bank app."),
    )
    auto_fiscal = forms.BooleanField(
        label=_("The terminal issues fiscal receipts automatically"), required=False
    )
    tin = forms.CharField(
        label=_("TIN"), max_length=9, required=False, help_text=_("9 digits, or give the PINFL.")
    )
    pinfl = forms.CharField(
        label=_("PINFL"), max_length=14, required=False, help_text=_("14 digits, or give the TIN.")
    )

    SECRET_FIELDS = ("api_key", "merchant_password")

    def __init__(
        self, *args, create_sandbox: bool = False, current: Connection | None = None, **kwargs
    ):
        super().__init__(*args, **kwargs)
        self.create_sandbox = create_sandbox
        self.current = current
        # A change of keys may leave the Merchant API password empty: the current one stays
        # (it is never shown again), as long as it is the same service and login.
        self.keep_password = bool(current and current.merchant_password)
        self.fields["environment"].choices = environment_choices()
        if self.keep_password:
            self.fields["merchant_password"].help_text = _(
                "Leave empty to keep the current password."
            )

    @staticmethod
    def initial_for(connection: Connection | None) -> dict:
        """The current connection's settings, without its secrets (retyped on a change)."""
        if connection is None:
            default = Environment.SANDBOX if settings.NAVBAT_SANDBOX else Environment.TEST
            return {"environment": default}
        return {
            "environment": connection.environment,
            "checkout_base_url": connection.checkout_base_url,
            "terminal_id": str(connection.terminal_id),
            "merchant_service_id": connection.merchant_service_id,
            "merchant_login": connection.merchant_login,
            "payment_attribute": connection.payment_attribute,
            "card_payments": connection.card_payments,
            "app_payments": connection.app_payments,
            "installments": connection.installments,
            "auto_fiscal": connection.auto_fiscal,
            "tin": connection.tin,
            "pinfl": connection.pinfl,
        }

    def clean_checkout_base_url(self) -> str:
        return _on_field(validation.checkout_url, self.cleaned_data["checkout_base_url"])

    def clean_terminal_id(self) -> str:
        return _on_field(validation.terminal_id, self.cleaned_data["terminal_id"])

    def clean_payment_attribute(self) -> str:
        return _on_field(validation.payment_attribute, self.cleaned_data["payment_attribute"])

    def clean_tin(self) -> str:
        return self.cleaned_data["tin"].strip()  # checked with the other options in clean()

    def clean_pinfl(self) -> str:
        return self.cleaned_data["pinfl"].strip()

    def clean(self):
        data = super().clean()
        environment = data.get("environment")
        if self.create_sandbox:
            if environment and environment != Environment.SANDBOX:
                self.add_error(
                    "environment", _("A sandbox terminal is made only for the built-in sandbox.")
                )
        else:
            if not data.get("terminal_id") and "terminal_id" not in self.errors:
                self.add_error("terminal_id", _("Enter the terminal id."))
            if not data.get("api_key") and "api_key" not in self.errors:
                self.add_error("api_key", _("Enter the API key."))
        if environment and not self.create_sandbox and "checkout_base_url" not in self.errors:
            url = data.get("checkout_base_url") or services.default_checkout_url(environment)
            refused = services.checkout_host_error(environment=environment, base_url=url)
            if refused:
                self.add_error("checkout_base_url", refused)
        for error in validation.option_errors(
            card_payments=bool(data.get("card_payments")),
            app_payments=bool(data.get("app_payments")),
            auto_fiscal=bool(data.get("auto_fiscal")),
            tin=data.get("tin") or "",
            pinfl=data.get("pinfl") or "",
        ):
            add_service_errors(self, error)
        if data.get("installments") and not data.get("app_payments"):
            self.add_error(
                "installments", _("Installments are offered only with the Uzum Bank app.")
            )
        return data

    def connect_arguments(self) -> dict:
        """Keyword arguments for ``services.connect``; an empty password keeps the current
        one where the service and login stay the same."""
        data = self.cleaned_data
        password = data["merchant_password"]
        login = data["merchant_login"].strip()
        current = self.current
        if (
            self.keep_password
            and not password
            and data["merchant_service_id"] == current.merchant_service_id
            and login == current.merchant_login
        ):
            password = current.merchant_password
        return {
            "environment": data["environment"],
            "checkout_base_url": data["checkout_base_url"],
            "terminal_id": data["terminal_id"],
            "api_key": data["api_key"],
            "merchant_service_id": data["merchant_service_id"],
            "merchant_login": login,
            "merchant_password": password,
            "payment_attribute": data["payment_attribute"],
            **self.options(),
        }

    def options(self) -> dict:
        """What the salon offers, for both ways of connecting."""
        data = self.cleaned_data
        fiscal = data["auto_fiscal"]
        return {
            "card_payments": data["card_payments"],
            "app_payments": data["app_payments"],
            "installments": data["app_payments"] and data["installments"],
            "auto_fiscal": fiscal,
            "tin": data["tin"] if fiscal else "",
            "pinfl": data["pinfl"] if fiscal else "",
        }


def _on_field(check, value):
    """A shared check run inside ``clean_<field>``: its error belongs to that field."""
    try:
        return check(value)
    except ValidationError as error:
        raise ValidationError(error.messages) from None


class FeeReturnForm(forms.Form):
    """Whether the bank gives its fee back with money returned (Uzum does not publish it)."""

    fee_returned_on_refund = forms.BooleanField(
        label=_("The bank returns its fee when a completed payment is refunded"), required=False
    )
    fee_returned_on_reversal = forms.BooleanField(
        label=_("The bank returns its fee when a payment is reversed"), required=False
    )
