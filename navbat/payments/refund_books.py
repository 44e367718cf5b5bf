"""The books of a refund that is done (payments.refunds): its transaction in the register
the money leaves, the share of the bank's fee that comes back (per the fee schedule), the
order's amounts and state (``states.book_refund``) and the refund's own state
(``states.refund_transition``). Called with the order and the refund locked."""

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.finance import services as finance
from navbat.finance.models import TransactionKind

from . import providers
from .models import PaymentOrder, Refund, RefundRoute, RefundState
from .selectors import refunded_by_bank
from .states import book_refund, refund_transition

log = logging.getLogger("navbat.payments")


def _fee_part(order: PaymentOrder, given: int) -> int:
    """The fee that goes with ``given`` of the order, rounded half up (all of it for all)."""
    if given >= order.paid_amount:
        return order.fee_amount
    return (order.fee_amount * given * 2 + order.paid_amount) // (order.paid_amount * 2)


def fee_share(*, order: PaymentOrder, amount: int) -> int:
    """The part of the order's fee that goes with ``amount`` more given back by the bank:
    the fee of all it gave back with this refund, less the fee of what it gave back before.
    So the shares add up to the fee to the tiyin, whichever earlier ones came back (the
    setting may change between refunds), and a part given back from a register keeps its
    share of the fee."""
    if not order.paid_amount:
        return 0
    before = refunded_by_bank(order)
    share = _fee_part(order, before + amount) - _fee_part(order, before)
    return max(min(share, order.fee_amount - order.fee_returned_amount), 0)


def fee_comes_back(refund: Refund, order: PaymentOrder) -> bool:
    """Whether the bank returns its fee with this refund: the fee schedule says, for
    refunds and for reversals apart; money from the salon's own register brings none."""
    if refund.route == RefundRoute.REGISTER or not order.fee_amount:
        return False
    account = providers.get(order.provider).account_by_id(account_id=order.account_id)
    schedule = account.fee_schedule if account else None
    if schedule is None:
        return False
    if refund.route == RefundRoute.BANK_REVERSAL or refund.bank_operation == "reverse":
        return schedule.fee_returned_on_reversal
    return schedule.fee_returned_on_refund


def _record(refund: Refund, order: PaymentOrder, *, kind, amount, note, key, by_bank):
    """One of the refund's transactions, in the register the money leaves, tied to the
    payment's sale document and client; ``key`` makes a repeat record nothing."""
    return finance.record_transaction(
        business=order.business,
        register=refund.register,
        kind=kind,
        amount=amount,
        document=order.document,
        client=order.client,
        author=refund.requested_by,
        note=note,
        idempotency_key=key,
        bank_settlement=by_bank,
    )


def book(refund: Refund, order: PaymentOrder) -> None:
    """The refund is done: its transaction in the register the money leaves, the fee that
    comes back, the order's amounts and state, and the payable's hook (in the caller's
    transaction, the order and refund locked)."""
    fee_back = fee_share(order=order, amount=refund.amount) if fee_comes_back(refund, order) else 0
    by_bank = refund.route != RefundRoute.REGISTER
    note = _("Refund of %(reference)s: %(reason)s") % {
        "reference": order.reference[:8],
        "reason": refund.reason,
    }
    key = refund.operation_key.hex
    whole_reversal = refund.route == RefundRoute.BANK_REVERSAL and order.income is not None
    if whole_reversal:
        money = finance.reverse_transaction(
            original=order.income,
            note=note,
            idempotency_key=f"reversal:{order.reference}",
            bank_settlement=True,
        )
    else:
        money = _record(
            refund,
            order,
            kind=TransactionKind.REFUND,
            amount=refund.amount,
            note=note,
            key=f"refund:{key}",
            by_bank=by_bank,
        )
    fee_money = None
    if fee_back:
        fee_note = _("Bank fee returned with the refund of %(reference)s") % {
            "reference": order.reference[:8]
        }
        if whole_reversal and order.fee is not None and fee_back == order.fee_amount:
            fee_money = finance.reverse_transaction(
                original=order.fee,
                note=fee_note,
                idempotency_key=f"fee-reversal:{order.reference}",
                bank_settlement=True,
            )
        else:
            fee_money = _record(
                refund,
                order,
                kind=TransactionKind.FEE_RETURN,
                amount=fee_back,
                note=fee_note,
                key=f"fee-return:{key}",
                by_bank=True,
            )
    book_refund(order=order, amount=refund.amount, fee_returned=fee_back)
    refund_transition(
        refund=refund,
        to=RefundState.DONE,
        transaction=money,
        fee_return=fee_money,
        fee_returned_amount=fee_back,
        done_at=timezone.now(),
        failure_reason="",
    )
    log.info(
        "refund %s of %s done: %s tiyin by %s, fee back %s",
        refund.operation_key,
        order.reference,
        refund.amount,
        refund.route,
        fee_back,
    )
