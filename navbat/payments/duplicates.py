"""Two payments of one link that both took money (F4, "never lock a client out").

The client may leave the card page and pay in the bank's app at once (or the other way
round), so both can succeed: the card's completion on the bank's page cannot be refused by
us once the app has paid. Both stay in the books; the one recorded later is marked
``duplicate_of`` the earlier (:func:`mark`, in the recording transaction, under the link's
lock) and given back: by the bank where it has a refund call (:func:`give_back`, a job run
after the recording commits, since a refund is a bank call), otherwise by the salon, which
finds it first on its "to give back" list (``selectors.to_give_back``).
"""

import logging

from django.utils.translation import gettext as _

from navbat.kit.tenancy import scoped

from . import payables, providers
from .models import PaymentOrder, Refund, RefundRoute, State

log = logging.getLogger("navbat.payments")

# Orders that paid for the link and still hold the money (a fully refunded one does not).
HOLDING_MONEY = (State.PAID, State.PARTLY_REFUNDED)


def overpaid_by(order: PaymentOrder) -> int:
    """How much more than its total the order's payable holds now."""
    view = payables.describe(
        business=order.business, kind=order.payable_kind, payable_id=order.payable_id
    )
    return view.overpaid if view is not None else 0


def still_to_give(order: PaymentOrder) -> int:
    """What of a duplicate the client should still have back: what it holds (paid less
    refunded), no more than its payable is overpaid by now."""
    return max(min(order.paid_amount - order.refunded_amount, overpaid_by(order)), 0)


def awaits_automatic_refund(order: PaymentOrder, *, amount: int, refunds) -> bool:
    """A duplicate the job is about to refund: one the provider can send back, for which
    no refund was asked yet (``refunds``: the order's)."""
    if amount <= 0 or refunds.exists():
        return False
    return not providers.get(order.provider).refund_refusal(order=order, amount=amount)


def mark(order: PaymentOrder) -> PaymentOrder | None:
    """Called when ``order`` has just been recorded paid (its link and the order locked):
    when another order of the link had already paid and the payable is now overpaid, mark
    ``order`` its duplicate and, where the provider can send the money back, queue
    :func:`give_back`. Returns the earlier order, or None."""
    if order.link_id is None:
        return None
    earlier = (
        scoped(PaymentOrder, order.business)
        .filter(link_id=order.link_id, state__in=HOLDING_MONEY, duplicate_of__isnull=True)
        .exclude(pk=order.pk)
        .order_by("-paid_at", "-id")
        .first()
    )
    if earlier is None:
        return None
    overpaid = overpaid_by(order)
    if overpaid <= 0:
        return None  # the payable needed both (its total grew meanwhile)
    order.duplicate_of = earlier
    order.save(update_fields=["duplicate_of", "updated_at"])
    amount = min(order.paid_amount, overpaid)
    refusal = providers.get(order.provider).refund_refusal(order=order, amount=amount)
    log.warning(
        "payment %s paid again what %s had paid (%s tiyin over): %s",
        order.reference,
        earlier.reference,
        overpaid,
        "left for the salon to give back" if refusal else "refunded by a job",
    )
    if not refusal:
        from .tasks import refund_duplicate

        # In the recording transaction: the job exists exactly when the mark does.
        refund_duplicate.enqueue(order.pk)
    return earlier


def give_back(*, order_id: int) -> Refund | None:
    """The job's body: send a card duplicate's overpaid part back through the bank (no lock
    held: ``refunds.refund_payment`` calls the bank). What is given back is worked out now,
    not when the job was queued: a salon that refunded meanwhile, or a total that grew,
    leaves less or nothing to give. A refusal or a bank failure leaves the order on the
    salon's "to give back" list."""
    from .refunds import RefundConflict, refund_payment, refundable_amount

    order = PaymentOrder.objects.select_related("business").filter(pk=order_id).first()
    if order is None or order.duplicate_of_id is None:
        return None
    amount = min(refundable_amount(order), still_to_give(order))
    if amount <= 0:
        log.info("duplicate %s: nothing left to give back", order.reference)
        return None
    try:
        requested = refund_payment(
            business=order.business,
            order_id=order.pk,
            amount=amount,
            reason=_("Paid twice: refunded automatically"),
            route=RefundRoute.BANK,
            automatic=True,
            at_most_overpaid=True,
        )
    except RefundConflict as refused:
        # Another refund of it is under way, or the provider cannot: the salon's list.
        log.warning("duplicate %s not refunded: %s", order.reference, refused.reason)
        return None
    log.info(
        "duplicate %s: %s tiyin refunded automatically (%s)",
        order.reference,
        amount,
        requested.refund.state,
    )
    return requested.refund
