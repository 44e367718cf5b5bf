"""Writes of the Uzum Bank connection: connect (after the bank accepted the keys) and
disconnect. History stays: a disconnected connection keeps its payments and callbacks."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.finance import fees
from navbat.finance.models import CashRegister, RegisterKind
from navbat.kit.tenancy import scoped

from . import clients
from .checkout import AuthenticationFailed, BankTimeout, BankUnavailable, TransportError, UzumError
from .checkout import base_url_for as checkout_base_url_for
from .models import Connection, Environment

REGISTER_NAME = "Uzum Bank"


class KeysRefused(ValidationError):
    """The bank answered and refused the terminal id or API key."""


class BankUnreachable(ValidationError):
    """The bank did not answer; nothing is known about the keys."""


def default_checkout_url(environment: str) -> str:
    return checkout_base_url_for(environment, public_root=settings.NAVBAT_PUBLIC_URL)


def check_keys(*, base_url: str, terminal_id: str, api_key: str) -> None:
    """Ask the bank with the keys, moving no money (a status query of an order that cannot
    exist). A refusal and an unreachable bank are told apart."""
    try:
        with clients.checkout_client_for_keys(
            base_url=base_url, terminal_id=terminal_id, api_key=api_key, read_retries=0, timeout=15
        ) as client:
            client.verify_credentials()
    except AuthenticationFailed as error:
        raise KeysRefused(
            _(
                "Uzum Bank refused this terminal id and API key. "
                "Check them against the bank's e-mail."
            ),
            code="keys_refused",
        ) from error
    except (BankUnavailable, BankTimeout, TransportError) as error:
        raise BankUnreachable(
            _("Uzum Bank did not answer at %(url)s. Check the host, or try again later.")
            % {"url": base_url},
            code="bank_unreachable",
        ) from error
    except UzumError as error:
        raise BankUnreachable(
            _("Uzum Bank gave an unexpected answer: %(error)s") % {"error": error},
            code="bank_error",
        ) from error


def _uzum_register(business) -> CashRegister:
    register, _created = CashRegister.objects.get_or_create(
        business=business, name=REGISTER_NAME, defaults={"kind": RegisterKind.ONLINE}
    )
    if not register.is_active:
        register.is_active = True
        register.save(update_fields=["is_active"])
    return register


def connect(
    *,
    business,
    environment: str,
    terminal_id: str,
    api_key: str,
    checkout_base_url: str = "",
    merchant_service_id: int | None = None,
    merchant_login: str = "",
    merchant_password: str = "",
    payment_attribute: str = "order",
    card_payments: bool = True,
    app_payments: bool = False,
    installments: bool = False,
    auto_fiscal: bool = False,
    tin: str = "",
    pinfl: str = "",
    author=None,
    verify: bool = True,
) -> Connection:
    """Check the keys with the bank, then replace the business's active connection (the
    old one is kept, disconnected, with its history)."""
    if environment not in Environment.values:
        raise ValidationError({"environment": _("Choose an environment.")})
    try:
        terminal_uuid = uuid.UUID(str(terminal_id).strip())
    except ValueError:
        raise ValidationError(
            {"terminal_id": _("A terminal id looks like 8-4-4-4-12 hex digits.")}
        ) from None
    api_key = api_key.strip()
    if not api_key:
        raise ValidationError({"api_key": _("Enter the API key.")})
    if not card_payments and not app_payments:
        raise ValidationError(_("Offer at least one payment method."))
    if app_payments and not (merchant_service_id and merchant_login and merchant_password):
        raise ValidationError(
            _("Payments in the Uzum Bank app need the Merchant API service id, login and password.")
        )
    if auto_fiscal and bool(tin) == bool(pinfl):
        raise ValidationError(_("Fiscal receipts need exactly one of the TIN or the PINFL."))
    base_url = (checkout_base_url or default_checkout_url(environment)).rstrip("/")
    if verify:
        check_keys(base_url=base_url, terminal_id=str(terminal_uuid), api_key=api_key)
    with transaction.atomic():
        current = scoped(Connection, business).select_for_update().filter(is_active=True).first()
        schedule = current.fee_schedule if current else None
        if current is not None:
            current.is_active = False
            current.disconnected_at = timezone.now()
            current.save(update_fields=["is_active", "disconnected_at"])
        if schedule is None:
            previous = scoped(Connection, business).order_by("-connected_at").first()
            schedule = (
                previous.fee_schedule
                if previous
                else fees.create_default_schedule(business=business)
            )
        return Connection.objects.create(
            business=business,
            environment=environment,
            checkout_base_url=base_url,
            terminal_id=terminal_uuid,
            api_key=api_key,
            merchant_service_id=merchant_service_id,
            merchant_login=merchant_login.strip(),
            merchant_password=merchant_password,
            payment_attribute=payment_attribute or "order",
            card_payments=card_payments,
            app_payments=app_payments,
            installments=app_payments and installments,
            auto_fiscal=auto_fiscal,
            tin=tin.strip(),
            pinfl=pinfl.strip(),
            fee_schedule=schedule,
            register=_uzum_register(business),
            connected_by=author,
        )


@transaction.atomic
def disconnect(*, connection: Connection) -> Connection:
    """Stop taking payments through this connection; payments, callbacks and the books
    stay. Orders still open at the bank are still settled by reconciliation."""
    locked = Connection.objects.select_for_update().get(pk=connection.pk)
    if locked.is_active:
        locked.is_active = False
        locked.disconnected_at = timezone.now()
        locked.save(update_fields=["is_active", "disconnected_at"])
    return locked
