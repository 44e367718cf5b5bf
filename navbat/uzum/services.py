"""Writes of the Uzum Bank connection: connect (after the bank accepted the keys) and
disconnect. History stays: a disconnected connection keeps its payments and callbacks."""

import logging
import uuid
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.accounts.sandbox import sandbox_owner
from navbat.finance import fees
from navbat.finance import services as finance
from navbat.kit.bankcalls import bank_call
from navbat.kit.sandbox_tokens import token_for
from navbat.kit.tenancy import scoped
from navbat.kit.urls import public_url_if_mounted

from . import brand, clients, validation
from .checkout import AuthenticationFailed, BankTimeout, BankUnavailable, TransportError, UzumError
from .checkout import base_url_for as checkout_base_url_for
from .checkout.client import HostNotAllowed, host_allowed
from .models import Connection, Environment
from .selectors import bank_addresses

log = logging.getLogger("navbat.uzum")


class KeysRefused(ValidationError):
    """The bank answered and refused the terminal id or API key."""


class BankUnreachable(ValidationError):
    """The bank did not answer; nothing is known about the keys."""


def default_checkout_url(environment: str) -> str:
    """The Checkout host a connection in ``environment`` uses unless told otherwise; for the
    built-in sandbox its address here ("" where it is off)."""
    if environment == Environment.SANDBOX:
        return public_url_if_mounted("sandbox-checkout-forbidden", rest="").rstrip("/")
    return checkout_base_url_for(environment)


def checkout_host_error(*, environment: str, base_url: str) -> str | None:
    """Why ``base_url`` may not be the Checkout host of a connection in ``environment``, or
    None. Uzum's test and production hosts must be https and on the operator's list (the
    API key is sent there); the built-in sandbox is navbat's own."""
    if environment == Environment.SANDBOX:
        return None
    if not base_url.lower().startswith("https://"):
        if environment == Environment.PRODUCTION:
            return _("The production host must use https.")
        return _("The test host must use https.")
    hosts = clients.checkout_hosts()
    if not host_allowed(base_url, hosts):
        return _(
            "%(url)s is not a Checkout host of Uzum Bank that this server allows (%(hosts)s)."
        ) % {"url": base_url, "hosts": ", ".join(hosts) or "—"}
    return None


@bank_call
def check_keys(
    *, base_url: str, terminal_id: str, api_key: str, environment: str | None = None
) -> None:
    """Ask the bank with the keys, moving no money (a status query of an order that cannot
    exist). A refusal and an unreachable bank are told apart. Without ``environment`` only
    the built-in sandbox's own address escapes the host list."""
    if environment is None:
        sandbox = base_url.rstrip("/") == default_checkout_url(Environment.SANDBOX)
        environment = Environment.SANDBOX if sandbox else Environment.TEST
    try:
        with clients.checkout_client_for_keys(
            environment=environment,
            base_url=base_url,
            terminal_id=terminal_id,
            api_key=api_key,
            read_retries=0,
            timeout=15,
        ) as client:
            client.verify_credentials()
    except HostNotAllowed:
        message = checkout_host_error(environment=environment, base_url=base_url)
        raise ValidationError(
            {"checkout_base_url": message or _("This host is not allowed.")}
        ) from None
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
    public_id: uuid.UUID | None = None,
) -> Connection:
    """Check the keys with the bank, then replace the business's active connection (the
    old one is kept, disconnected, with its history).

    ``public_id`` is given when the bank was told the callback URLs before connecting
    (a sandbox terminal made for the salon); otherwise a new one is drawn."""
    if environment not in Environment.values:
        raise ValidationError({"environment": _("Choose an environment.")})
    terminal_text = validation.terminal_id(terminal_id)
    if not terminal_text:
        raise ValidationError({"terminal_id": _("A terminal id looks like 8-4-4-4-12 hex digits.")})
    terminal_uuid = uuid.UUID(terminal_text)
    api_key = api_key.strip()
    if not api_key:
        raise ValidationError({"api_key": _("Enter the API key.")})
    validation.check_options(
        card_payments=card_payments,
        app_payments=app_payments,
        auto_fiscal=auto_fiscal,
        tin=tin,
        pinfl=pinfl,
    )
    if app_payments and not (merchant_service_id and merchant_login and merchant_password):
        raise ValidationError(
            _("Payments in the Uzum Bank app need the Merchant API service id, login and password.")
        )
    tin, pinfl = tin.strip(), pinfl.strip()
    base_url = (
        validation.checkout_url(checkout_base_url) or default_checkout_url(environment)
    ).rstrip("/")
    if len(base_url) > Connection._meta.get_field("checkout_base_url").max_length:
        raise ValidationError({"checkout_base_url": _("This address is too long.")})
    refused_host = checkout_host_error(environment=environment, base_url=base_url)
    if refused_host:
        raise ValidationError({"checkout_base_url": refused_host})
    payment_attribute = validation.payment_attribute(payment_attribute)
    if len(merchant_login.strip()) > Connection._meta.get_field("merchant_login").max_length:
        raise ValidationError({"merchant_login": _("This login is too long.")})
    if verify:
        check_keys(
            base_url=base_url,
            terminal_id=str(terminal_uuid),
            api_key=api_key,
            environment=environment,
        )
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
                else fees.create_default_schedule(
                    business=business,
                    name=brand.DISPLAY_NAME,
                    terms=brand.default_fee_terms(),
                )
            )
        return Connection.objects.create(
            business=business,
            public_id=public_id or uuid.uuid4(),
            environment=environment,
            checkout_base_url=base_url,
            terminal_id=terminal_uuid,
            api_key=api_key,
            merchant_service_id=merchant_service_id,
            merchant_login=merchant_login.strip(),
            merchant_password=merchant_password,
            payment_attribute=payment_attribute,
            card_payments=card_payments,
            app_payments=app_payments,
            installments=app_payments and installments,
            auto_fiscal=auto_fiscal,
            tin=tin,
            pinfl=pinfl,
            fee_schedule=schedule,
            register=finance.online_register(business=business, name=brand.DISPLAY_NAME),
            connected_by=author,
        )


def connection_at(public_id) -> Connection | None:
    """The connection whose address the bank called (``<root>/uzum/.../<public id>/``). The
    address is the entry: no business is known yet, so this is the one unscoped read; what
    the caller may then do is decided by the connection's own keys."""
    return (
        Connection.objects.filter(public_id=public_id)
        .select_related("business", "fee_schedule", "register")
        .first()
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


# ------------------------------------------------------------------ the built-in sandbox


@dataclass(frozen=True, repr=False)
class SandboxKeys:
    """What the sandbox bank issued: the same keys Uzum e-mails a salon."""

    terminal_id: str
    api_key: str
    merchant_service_id: int
    merchant_login: str
    merchant_password: str

    def __repr__(self) -> str:  # the key and the password stay out of tracebacks
        return f"SandboxKeys(terminal_id={self.terminal_id!r}, service={self.merchant_service_id})"


def sandbox_control_url() -> str:
    """The sandbox's control API root: where its terminals and services are made."""
    return public_url_if_mounted("sandbox-control-terminals").removesuffix("/terminals")


def _sandbox_down(url: str) -> BankUnreachable:
    return BankUnreachable(
        _("The built-in sandbox bank did not answer at %(url)s. Try again later.") % {"url": url},
        code="sandbox_unreachable",
    )


def _control_post(http: httpx.Client, path: str, body: dict, fields: tuple[str, ...]) -> dict:
    url = sandbox_control_url()
    try:
        response = http.post(path, json=body)
    except httpx.HTTPError as error:
        log.warning("sandbox control %s failed: %s", path, type(error).__name__)
        raise _sandbox_down(url) from error
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code != 201 or not isinstance(answer, dict):
        log.warning("sandbox control %s answered HTTP %s", path, response.status_code)
        raise _sandbox_down(url)
    if any(answer.get(name) in (None, "") for name in fields):
        log.warning("sandbox control %s answered without %s", path, fields)
        raise _sandbox_down(url)
    return answer


@bank_call
def create_sandbox_keys(
    *, business_id: int, public_id: uuid.UUID, merchant_name: str, auto_fiscal: bool = False
) -> SandboxKeys:
    """Ask the built-in sandbox bank, over HTTP as of any bank, for a Checkout terminal and
    a Merchant API service whose callbacks already point at the connection-to-be. They are
    the business's at the sandbox: the call carries its sandbox token."""
    addresses = bank_addresses(public_id=public_id)
    token = token_for(sandbox_owner(business_id))
    options: dict = {
        "base_url": sandbox_control_url() + "/",
        "timeout": 15,
        "headers": {"Authorization": f"Bearer {token}"},
    }
    if clients.transport_factory is not None:
        options["transport"] = clients.transport_factory()
    name = (merchant_name or "navbat")[:150]
    with httpx.Client(**options) as http:
        terminal = _control_post(
            http,
            "terminals",
            {
                "merchantName": name,
                "payTypes": ["ONE_STEP", "TWO_STEP"],
                "autoFiscal": auto_fiscal,
                "paymentCallbackUrl": addresses.payment,
                "eventCallbackUrl": addresses.event,
                "receiptCallbackUrl": addresses.receipt,
            },
            ("terminalId", "apiKey"),
        )
        service = _control_post(
            http,
            "services",
            {
                "merchantName": name,
                "merchantBaseUrl": addresses.merchant_api.rstrip("/"),
                "attributeName": "order",
            },
            ("serviceId", "login", "password"),
        )
    log.info(
        "sandbox terminal %s and service %s made for connection %s",
        terminal["terminalId"],
        service["serviceId"],
        public_id,
    )
    return SandboxKeys(
        terminal_id=str(terminal["terminalId"]),
        api_key=str(terminal["apiKey"]),
        merchant_service_id=int(service["serviceId"]),
        merchant_login=str(service["login"]),
        merchant_password=str(service["password"]),
    )


def connect_new_sandbox(
    *,
    business,
    card_payments: bool = True,
    app_payments: bool = False,
    installments: bool = False,
    auto_fiscal: bool = False,
    tin: str = "",
    pinfl: str = "",
    author=None,
) -> Connection:
    """ "Create a sandbox terminal for me": a newcomer without keys gets them from the
    built-in sandbox, then connects with them as with any keys (checked with the bank)."""
    if not settings.NAVBAT_SANDBOX:
        raise ValidationError({"environment": _("The built-in sandbox is off here.")})
    offered = {"card_payments": card_payments, "app_payments": app_payments}
    fiscal = {"auto_fiscal": auto_fiscal, "tin": tin, "pinfl": pinfl}
    # Refused before the sandbox is asked for keys; connect checks the same again.
    validation.check_options(**offered, **fiscal)
    public_id = uuid.uuid4()
    keys = create_sandbox_keys(
        business_id=business.pk,
        public_id=public_id,
        merchant_name=business.name,
        auto_fiscal=auto_fiscal,
    )
    return connect(
        business=business,
        environment=Environment.SANDBOX,
        terminal_id=keys.terminal_id,
        api_key=keys.api_key,
        checkout_base_url=default_checkout_url(Environment.SANDBOX),
        merchant_service_id=keys.merchant_service_id,
        merchant_login=keys.merchant_login,
        merchant_password=keys.merchant_password,
        installments=installments,
        author=author,
        **offered,
        **fiscal,
        public_id=public_id,
    )
