"""``navbat.uzum`` as a payments provider: card payments through Checkout.

Here, and only here, payments' words (orders, methods, amounts, card kinds) are translated
to and from Uzum's (orderId, status, ips, operations)."""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _

from navbat.kit.bankcalls import bank_call
from navbat.kit.tenancy import scoped
from navbat.kit.urls import public_url_if_mounted
from navbat.payments.models import Method, State
from navbat.payments.payables import PayableLine
from navbat.payments.providers import (
    Account,
    BankView,
    FeeTerm,
    Presentation,
    ProviderError,
    ProviderUnavailable,
    RefundOutcome,
    SettingsPage,
    Started,
)

from . import brand, clients
from .checkout import (
    AuthenticationFailed,
    BankTimeout,
    BankUnavailable,
    Cart,
    CartItem,
    CheckoutError,
    MalformedAnswer,
    OperationState,
    OperationType,
    OrderNotFound,
    OrderState,
    OrderStatus,
    ReceiptParams,
    RegisterRequest,
    TransportError,
    UzumError,
    content_language,
)
from .checkout.client import HostNotAllowed
from .merchant.protocol import amount_in_limits
from .models import Connection, Environment
from .translate import NAME, account_of, app_view, card_kind_of

log = logging.getLogger("navbat.uzum")


def _connection(order) -> Connection:
    return scoped(Connection, order.business).select_related("business").get(pk=order.account_id)


def bank_view(status: OrderStatus) -> BankView:
    """Uzum's order status in payments' words."""
    completed = [
        op
        for op in status.operations
        if op.operation_type is OperationType.COMPLETE and op.state is OperationState.SUCCESS
    ]
    paid_op = completed[0] if completed else None
    refunded = status.refunded_amount
    if status.status is OrderState.COMPLETED:
        state = State.PARTLY_REFUNDED if refunded else State.PAID
    elif status.status is OrderState.REFUNDED:
        state = State.REFUNDED
    elif status.status is OrderState.DECLINED:
        state = State.DECLINED
    elif status.status is OrderState.REVERSED:
        state = State.CANCELLED
    else:  # REGISTERED (maybe after a declined attempt the client may retry), AUTHORIZED
        state = State.PENDING
    reason = ""
    if status.action_code:
        reason = _("The bank declined the card (code %(code)s).") % {"code": status.action_code}
    return BankView(
        state=state,
        bank_order_id=str(status.order_id),
        reference=status.merchant_order_id or "",
        amount=status.amount,
        paid_amount=status.completed_amount,
        refunded_amount=refunded,
        card_kind=card_kind_of(status.ips)
        if state in (State.PAID, State.PARTLY_REFUNDED, State.REFUNDED)
        else "",
        card_scheme=(status.ips or "")[:32],
        masked_pan=(status.masked_pan or "")[:32],
        rrn=((paid_op.rrn if paid_op else "") or "")[:32],
        failure_reason=reason,
        paid_at=paid_op.done_at if paid_op else None,
    )


def fiscal_cart(*, order, connection: Connection, lines: tuple[PayableLine, ...]) -> Cart:
    items = []
    for line in lines:
        if not line.ikpu_code or not line.package_code:
            raise ProviderError(
                _(
                    "“%(title)s” has no IKPU or package code; fiscal receipts need them. "
                    "Add them in the catalog."
                )
                % {"title": line.title},
                code="fiscal_fields_missing",
            )
        items.append(
            CartItem(
                title=line.title[:128],
                product_id=line.item_ref,
                quantity=line.quantity,
                unit_price=line.unit_price,
                total=line.amount,
                receipt_params=ReceiptParams(
                    spic=line.ikpu_code,
                    package_code=line.package_code,
                    vat_percent=line.vat_percent,
                    tin=connection.tin or None,
                    pinfl=None if connection.tin else (connection.pinfl or None),
                ),
            )
        )
    return Cart(cart_id=order.reference, total=sum(i.total for i in items), items=tuple(items))


def _unavailable() -> ProviderUnavailable:
    return ProviderUnavailable(_("The bank is not answering. Try again in a minute."))


def _host_refused() -> ProviderError:
    return ProviderError(
        _(
            "The salon's Uzum Bank connection names a host this server does not allow. "
            "The salon must check its Uzum Bank connection."
        ),
        code="host_not_allowed",
    )


class UzumProvider:
    name = NAME

    def settings_page(self) -> SettingsPage:
        return SettingsPage(url=reverse("uzum:overview"), label=_("Integrations → Uzum Bank"))

    def presentation(self) -> Presentation:
        return brand.presentation()

    def default_fee_terms(self) -> tuple[FeeTerm, ...]:
        return brand.default_fee_terms()

    def account_for(self, *, business) -> Account | None:
        connection = (
            scoped(Connection, business)
            .filter(is_active=True)
            .select_related("fee_schedule", "register")
            .first()
        )
        return account_of(connection) if connection else None

    def account_by_id(self, *, account_id: int) -> Account | None:
        connection = (
            Connection.objects.filter(pk=account_id)
            .select_related("fee_schedule", "register")
            .first()
        )
        return account_of(connection) if connection else None

    @bank_call
    def start_card_payment(
        self,
        *,
        order,
        account: Account,
        success_url: str,
        failure_url: str,
        cart: tuple[PayableLine, ...],
        description: str,
    ) -> Started:
        connection = _connection(order)
        request = RegisterRequest(
            amount=order.amount,
            order_number=order.reference,
            client_id=str(order.client_id or f"guest-{order.pk}"),
            success_url=success_url,
            failure_url=failure_url,
            payment_details=description[:1024] or None,
            session_timeout_secs=min(max(connection.session_timeout_secs, 600), 1800),
            cart=fiscal_cart(order=order, connection=connection, lines=cart)
            if connection.auto_fiscal
            else None,
        )
        try:
            with clients.checkout_client(connection) as client:
                result = client.register(request, content_language(order.language))
        except HostNotAllowed as error:
            raise _host_refused() from error
        except (BankUnavailable, BankTimeout, TransportError, MalformedAnswer) as error:
            log.warning("uzum register failed for %s: %s", order.reference, error)
            raise _unavailable() from error
        except AuthenticationFailed as error:
            raise ProviderError(
                _(
                    "The bank refused the salon's keys. "
                    "The salon must check its Uzum Bank connection."
                ),
                code="keys_refused",
            ) from error
        except UzumError as error:
            log.warning("uzum register refused for %s: %s", order.reference, error)
            raise ProviderError(
                _("The bank refused the payment: %(reason)s") % {"reason": _describe(error)},
                code="refused",
            ) from error
        return Started(bank_order_id=str(result.order_id), redirect_url=result.payment_redirect_url)

    @bank_call
    def fetch(self, *, order) -> BankView:
        if order.method == Method.APP:
            # The app told us, not we it: our record of its transaction is the answer.
            return app_view(order.merchant_transaction)
        return self.fetch_bank_order(
            connection=_connection(order), bank_order_id=order.bank_order_id
        )

    def refund_refusal(self, *, order, amount: int) -> str:
        from . import refunds

        return refunds.refund_refusal(order=order, amount=amount)

    def refund(self, *, order, refund) -> RefundOutcome:
        from . import refunds

        return refunds.refund(order=order, refund=refund)

    def refund_state(self, *, order, refund) -> RefundOutcome:
        from . import refunds

        return refunds.refund_state(order=order, refund=refund)

    def app_link(self, *, account: Account, code: str, amount: int, return_url: str) -> str:
        # The page has just read the connection to build ``account``: no second read.
        connection = account.record
        if not isinstance(connection, Connection) or connection.pk != account.id:
            connection = Connection.objects.filter(pk=account.id).first()
        usable = (
            connection is not None
            and connection.is_active
            and connection.app_payments
            and connection.merchant_service_id
            and amount_in_limits(amount)
        )
        if not usable:
            return ""
        return open_service_url(connection, code=code, amount=amount, return_url=return_url)

    def purge_before(self, *, before) -> dict[str, int]:
        from .callbacks import purge_before

        return purge_before(before=before)

    @bank_call
    def fetch_bank_order(self, *, connection: Connection, bank_order_id: str) -> BankView:
        try:
            with clients.checkout_client(connection) as client:
                status = client.get_order_status(bank_order_id)
        except HostNotAllowed as error:
            raise _host_refused() from error
        except OrderNotFound as error:
            raise ProviderError(
                _("The bank does not know this order."), code="not_found"
            ) from error
        except (BankUnavailable, BankTimeout, TransportError, MalformedAnswer) as error:
            raise _unavailable() from error
        except UzumError as error:
            raise ProviderError(_describe(error), code="refused") from error
        return bank_view(status)


def _describe(error: Exception) -> str:
    if isinstance(error, CheckoutError):
        return f"{error.code} {error.message}".strip()
    return str(error)


def open_service_url(connection: Connection, *, code: str, amount: int, return_url: str) -> str:
    """The open-service link of the Uzum Bank app (uzum-bank.md §2); on the built-in sandbox,
    the sandbox's app page. ``amount`` and ``redirectUrl`` are common practice, not spec."""
    if connection.environment == Environment.SANDBOX:
        base = public_url_if_mounted("sandbox-app")
        if not base:  # the built-in sandbox is off here: no app to send the client to
            return ""
    else:
        base = settings.NAVBAT_UZUM_OPEN_SERVICE_URL
    query = urlencode(
        {
            "serviceId": connection.merchant_service_id,
            connection.payment_attribute: code,
            "amount": amount,
            "redirectUrl": return_url,
        }
    )
    return f"{base}?{query}"
