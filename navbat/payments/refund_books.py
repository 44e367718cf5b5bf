"""The books of a refund that is done (payments.refunds): its transaction in the register
the money leaves, the share of the bank's fee that comes back (per the fee schedule), the
order's amounts and state (``states.book_refund``) and the refund's own state
(``states.refund_transition``). Called with the order and the refund locked."""

import logging

from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.finance import services as finance
from navbat.finance.models import TransactionKind

from . import providers
from .models import PaymentOrder, Refund, RefundRoute, RefundState
from .states import book_refund, refund_transition

log = logging.getLogger("navbat.payments")


def _refunded_by_bank(order: PaymentOrder) -> int:
    """What the bank itself gave back of the order (money from a register is not the
    bank's, and brings no fee back)."""
    done = Refund.objects.filter(order=order, state=RefundState.DONE).exclude(
        route=RefundRoute.REGISTER
    )
    return done.aggregate(total=Sum("amount"))["total"] or 0


def fee_share(*, order: PaymentOrder, amount: int) -> int:
    """The part of the order's fee that goes with ``amount`` of it, rounded half up; the
    bank's refund that gives back the last of the order takes what is left, so the shares
    add up to the fee (a part given back from a register keeps its share of the fee)."""
    if _refunded_by_bank(order) + amount >= order.paid_amount:
        return max(order.fee_amount - order.fee_returned_amount, 0)
    if not order.paid_amount:
        return 0
    share = (order.fee_amount * amount * 2 + order.paid_amount) // (order.paid_amount * 2)
    return min(share, order.fee_amount - order.fee_returned_amount)


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
        money = finance.record_transaction(
            business=order.business,
            register=refund.register,
            kind=TransactionKind.REFUND,
            amount=refund.amount,
            document=order.document,
            client=order.client,
            author=refund.requested_by,
            note=note,
            idempotency_key=f"refund:{key}",
            bank_settlement=by_bank,
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
            fee_money = finance.record_transaction(
                business=order.business,
                register=refund.register,
                kind=TransactionKind.FEE_RETURN,
                amount=fee_back,
                document=order.document,
                client=order.client,
                note=fee_note,
                idempotency_key=f"fee-return:{key}",
                bank_settlement=True,
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
