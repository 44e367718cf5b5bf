"""What the connect form and the connect services both check, written once (F1).

The form calls these to show every mistake on its field before anything is sent to the bank;
``services.connect`` calls them again because it is also reached without the form (the
sandbox path, the demo, tests). Each check raises a ValidationError that names its field
where it has one.
"""

import re
import uuid

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

# The open-service link's parameter name: it goes into a URL query as it is.
ATTRIBUTE_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,31}")
# The open-service link's own parameters: an attribute of that name would overwrite one.
LINK_PARAMETERS = frozenset({"serviceid", "amount", "redirecturl"})
DEFAULT_ATTRIBUTE = "order"


def terminal_id(value: str) -> str:
    """The terminal id in its canonical form; "" stays "" (whether it is needed is the
    caller's question)."""
    value = str(value).strip()
    if not value:
        return ""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ValidationError(
            {"terminal_id": _("A terminal id looks like 8-4-4-4-12 hex digits.")}
        ) from None


def checkout_url(value: str) -> str:
    """A Checkout host typed as a web address, without the trailing slash."""
    value = value.strip()
    if value:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            raise ValidationError(
                {"checkout_base_url": _("Enter the host as a web address, like https://host.")}
            ) from None
    return value.rstrip("/")


def payment_attribute(value: str) -> str:
    """The name of the payment parameter of the salon's Merchant API service."""
    value = (value or "").strip() or DEFAULT_ATTRIBUTE
    if value.lower() in LINK_PARAMETERS:
        raise ValidationError(
            {"payment_attribute": _("This name is taken by the link itself; ask Uzum for another.")}
        )
    if not ATTRIBUTE_RE.fullmatch(value):
        raise ValidationError(
            {"payment_attribute": _("Use Latin letters, digits and “_” only (up to 32).")}
        )
    return value


def option_errors(
    *, card_payments: bool, app_payments: bool, auto_fiscal: bool, tin: str, pinfl: str
) -> list[ValidationError]:
    """Every mistake in what the salon offers, in the order they are worth telling: the
    form shows them all, the services refuse with the first."""
    errors = []
    tin, pinfl = tin.strip(), pinfl.strip()
    if not card_payments and not app_payments:
        errors.append(ValidationError(_("Offer at least one payment method.")))
    if auto_fiscal and bool(tin) == bool(pinfl):
        errors.append(
            ValidationError(_("Fiscal receipts need exactly one of the TIN or the PINFL."))
        )
    if tin and not (tin.isascii() and tin.isdigit() and len(tin) == 9):
        errors.append(ValidationError({"tin": _("A TIN is 9 digits.")}))
    if pinfl and not (pinfl.isascii() and pinfl.isdigit() and len(pinfl) == 14):
        errors.append(ValidationError({"pinfl": _("A PINFL is 14 digits.")}))
    return errors


def check_options(**options) -> None:
    """``option_errors``, refusing with the first."""
    errors = option_errors(**options)
    if errors:
        raise errors[0]
