"""Refunds of card payments through Checkout (uzum-bank.md §1), for ``UzumProvider``.

A COMPLETED order is refunded (``acquiring/refund``, partial or whole); an order still
AUTHORIZED (two-step) is reversed (``acquiring/reverse``, whole only: 3019 otherwise). The
refund's ``operation_key`` goes as ``X-Operation-Id``: the client retries with that very key,
and a refund whose answer was lost is settled by reading the order's operations, never by a
second refund under a new key. Payments of the Uzum Bank app have no refund call: only Uzum
reverses them (it then calls our ``/reverse``).
"""

import logging
from datetime import timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.bankcalls import bank_call
from navbat.kit.tenancy import scoped
from navbat.payments.models import Method, RefundState
from navbat.payments.payables import PayableLine
from navbat.payments.providers import ProviderError, ProviderUnavailable, RefundOutcome
from navbat.payments.selectors import refunded_by_bank

from . import clients
from .checkout import (
    BankTimeout,
    BankUnavailable,
    CheckoutError,
    MalformedAnswer,
    OperationState,
    OperationType,
    OrderState,
    OrderStatus,
    TransportError,
    UzumError,
)
from .checkout.client import HostNotAllowed
from .models import Connection
from .provider import fiscal_cart

log = logging.getLogger("navbat.uzum")

REFUND, REVERSE = "refund", "reverse"
OPERATION_NOT_FOUND = 3035
# Errors the bank answers of a money call whose outcome they leave open: the operation
# exists under this key (3028), the refund or reverse timed out at the bank (3022, 3020),
# processing did not answer (3049), an internal error (5000). Settled, never failed.
OUTCOME_OPEN = frozenset({3020, 3022, 3028, 3049, 5000})
# A refund whose answer was lost (a timeout, a broken connection) and that the bank does not
# list under its key may still be on its way inside the bank: it is failed only this long
# after it was asked, when the bank would surely list it.
UNHEARD_AFTER = timedelta(minutes=10)
_UNCLEAR = (BankUnavailable, BankTimeout, TransportError, MalformedAnswer)
_STATES = {
    OperationState.SUCCESS: RefundState.DONE,
    OperationState.IN_PROGRESS: RefundState.AT_BANK,
    OperationState.FAIL: RefundState.FAILED,
}


def _connection(order) -> Connection:
    return scoped(Connection, order.business).select_related("business").get(pk=order.account_id)


def _lost() -> ProviderUnavailable:
    return ProviderUnavailable(
        _("The bank did not answer; whether it gave the money back is being checked.")
    )


def _refused(error: CheckoutError) -> str:
    return _("The bank refused the refund: %(code)s %(message)s") % {
        "code": error.code,
        "message": error.message or "",
    }


def refund_refusal(*, order, amount: int) -> str:
    """Said before any call: what Checkout cannot do with this order."""
    if order.method != Method.CARD:
        return _(
            "Uzum Bank offers no refund call for payments made in its app: only Uzum can "
            "reverse them. Give the money back from a register, or ask Uzum to reverse the "
            "payment (quote the bank's transaction id)."
        )
    connection = _connection(order)
    if connection.auto_fiscal:
        whole = amount == order.paid_amount and order.refunded_amount == 0
        if not whole:
            # §1: on auto-fiscal terminals the refund cart's total must equal the original
            # completed amount (3059), so no cart can describe a part of it.
            return _(
                "This salon's Uzum Bank terminal issues fiscal receipts, and Uzum accepts a "
                "refund to the card only for the whole payment. Refund all of it, or give "
                "the part back from a register."
            )
        missing = [line["title"] for line in order.lines if not line.get("ikpu_code")]
        if not order.lines or missing:
            return _(
                "The fiscal receipt of this payment is not known here, so its refund receipt "
                "cannot be made. Give the money back from a register."
            )
    return ""


def _refund_cart(*, order, connection: Connection):
    """The purchase's own cart (its items and total, §1: 3046/3059), from the lines the
    order kept when it was made."""
    lines = tuple(PayableLine(**line) for line in order.lines)
    return fiscal_cart(order=order, connection=connection, lines=lines)


def _unaccounted(status: OrderStatus, order) -> int:
    """Money the bank gave back of the order that our books do not hold: a refund we may
    have failed too early, or one made in the bank's cabinet. While there is any, no new
    refund is sent and no refund is failed for want of its operation."""
    given = status.refunded_amount + (
        status.reversed_amount if status.status is OrderState.REVERSED else 0
    )
    return max(given - refunded_by_bank(order), 0)


def _answered_unavailable(error: Exception) -> bool:
    """The bank's front answered "unavailable" (HTTP 5xx or 429), or no connection was
    made: the request was not taken (a timeout or a broken connection leaves it open)."""
    if not isinstance(error, BankUnavailable):
        return False
    return error.http_status is not None or error.message.startswith("no connection in time")


def _own_operation(status: OrderStatus, refund):
    """The operation the bank made of this refund, found by our key, or None."""
    key = str(refund.operation_key)
    for operation in status.operations:
        if (operation.merchant_operation_id or "") == key and operation.operation_type in (
            OperationType.REFUND,
            OperationType.REVERSE,
        ):
            return operation
    return None


def _outcome(operation, kind: str) -> RefundOutcome:
    state = _STATES[operation.state]
    reason = ""
    if state == RefundState.FAILED:
        reason = operation.action_code_description or _("The bank could not give the money back.")
    return RefundOutcome(
        state=state,
        operation=kind,
        operation_id=str(operation.operation_id),
        failure_reason=reason[:300],
    )


@bank_call
def refund(*, order, refund) -> RefundOutcome:
    connection = _connection(order)
    try:
        with clients.checkout_client(connection) as client:
            try:
                status = client.get_order_status(order.bank_order_id)
            except _UNCLEAR as error:
                log.warning("uzum refund %s: status unreadable, not sent: %s", refund.pk, error)
                return RefundOutcome(
                    state=RefundState.FAILED,
                    failure_reason=_(
                        "The bank is not answering; nothing was sent and nothing moved. "
                        "Try again in a minute."
                    ),
                )
            except CheckoutError as error:
                # Refused before anything was sent (an unknown order, keys no longer valid).
                log.warning("uzum refund %s: status refused, not sent: %s", refund.pk, error)
                return RefundOutcome(state=RefundState.FAILED, failure_reason=_refused(error)[:300])
            earlier = _own_operation(status, refund)
            if earlier is not None:  # sent before, under this very key
                kind = REVERSE if earlier.operation_type is OperationType.REVERSE else REFUND
                return _outcome(earlier, kind)
            unaccounted = _unaccounted(status, order)
            if unaccounted:
                return RefundOutcome(
                    state=RefundState.FAILED,
                    failure_reason=_(
                        "The bank shows %(amount)s tiyin given back that the books do not "
                        "hold yet; nothing was sent. Reconciliation lists it: check it "
                        "before refunding again."
                    )
                    % {"amount": unaccounted},
                )
            if status.status is OrderState.AUTHORIZED:
                kind = REVERSE
            elif status.status is OrderState.COMPLETED:
                kind = REFUND
            else:
                return RefundOutcome(
                    state=RefundState.FAILED,
                    failure_reason=_(
                        "The bank says the payment is %(status)s: nothing to give back."
                    )
                    % {"status": status.status.value},
                )
            if kind == REVERSE and refund.amount != status.amount:
                # §1: only the whole authorised amount is reversed (3019 otherwise).
                return RefundOutcome(
                    state=RefundState.FAILED,
                    operation=kind,
                    failure_reason=_(
                        "The payment is only authorised at the bank: it can be cancelled "
                        "in full only. Nothing was sent."
                    ),
                )
            try:
                if kind == REVERSE:
                    result = client.reverse(
                        order.bank_order_id, refund.amount, refund.operation_key
                    )
                else:
                    cart = None
                    if connection.auto_fiscal:
                        cart = _refund_cart(order=order, connection=connection)
                    result = client.refund(
                        order.bank_order_id, refund.amount, refund.operation_key, cart=cart
                    )
            except _UNCLEAR as error:
                log.warning("uzum %s %s: answer lost: %s", kind, refund.operation_key, error)
                if _answered_unavailable(error):
                    return _after_unavailable(client, order, refund, kind)
                raise _lost() from error
            except CheckoutError as error:
                if error.code in OUTCOME_OPEN:
                    log.warning("uzum %s %s: outcome open: %s", kind, refund.operation_key, error)
                    raise _lost() from error
                log.warning("uzum %s %s refused: %s", kind, refund.operation_key, error)
                return RefundOutcome(
                    state=RefundState.FAILED, operation=kind, failure_reason=_refused(error)[:300]
                )
            try:
                operation = client.get_operation_state(result.operation_id)
            except (UzumError, *_UNCLEAR):
                # Taken (an operation id came back); its end is read later.
                return RefundOutcome(
                    state=RefundState.AT_BANK, operation=kind, operation_id=str(result.operation_id)
                )
            return _outcome(operation, kind)
    except HostNotAllowed as error:
        raise ProviderError(
            _("The salon's Uzum Bank connection names a host this server does not allow."),
            code="host_not_allowed",
        ) from error


def _after_unavailable(client, order, refund, kind: str) -> RefundOutcome:
    """The bank answered "unavailable" to the refund (every retry under its key): it did
    not take it, unless its records say otherwise."""
    try:
        status = client.get_order_status(order.bank_order_id)
    except (UzumError, *_UNCLEAR) as error:
        raise _lost() from error
    operation = _own_operation(status, refund)
    if operation is not None:
        return _outcome(operation, kind)
    if _unaccounted(status, order):
        raise _lost()
    return RefundOutcome(
        state=RefundState.FAILED,
        operation=kind,
        failure_reason=_("The bank is unavailable; nothing moved. Try again in a minute."),
    )


@bank_call
def refund_state(*, order, refund) -> RefundOutcome:
    connection = _connection(order)
    kind = refund.bank_operation
    try:
        with clients.checkout_client(connection) as client:
            if refund.bank_operation_id:
                try:
                    return _outcome(client.get_operation_state(refund.bank_operation_id), kind)
                except CheckoutError as error:
                    if error.code != OPERATION_NOT_FOUND:
                        raise ProviderError(_refused(error)) from error
            status = client.get_order_status(order.bank_order_id)
    except HostNotAllowed as error:
        raise ProviderError(str(error), code="host_not_allowed") from error
    except _UNCLEAR as error:
        raise _lost() from error
    except CheckoutError as error:
        raise ProviderError(_refused(error)) from error
    operation = _own_operation(status, refund)
    if operation is None:
        if _unaccounted(status, order) or timezone.now() < refund.created_at + UNHEARD_AFTER:
            # Money the bank gave back that we cannot place, or a refund that may still be
            # on its way inside the bank: asked again later, never failed yet.
            return RefundOutcome(state=RefundState.AT_BANK, operation=kind)
        # The bank answers about the order and, long after, has no operation under our
        # key: it never received the refund.
        return RefundOutcome(
            state=RefundState.FAILED,
            operation=kind,
            failure_reason=_("The bank never received the refund; nothing moved. Try again."),
        )
    kind = REVERSE if operation.operation_type is OperationType.REVERSE else REFUND
    return _outcome(operation, kind)
