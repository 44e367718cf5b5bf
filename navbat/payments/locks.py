"""Row locks of payments, and the one order in which every path takes its locks.

A path that locks more than one row takes them in this order, never backwards, so two
paths can wait for each other but never in a circle (a deadlock):

1. ``uzum.Connection``: a Merchant API ``/create`` (one create per connection at a time);
   connect and disconnect lock only this.
2. ``uzum.MerchantTransaction``: ``/confirm``, ``/reverse``, ``/status`` and the expiry job
   lock the app's transaction first (``uzum.merchant.services``).
3. ``salons.CheckoutPoint`` (:func:`lock_point`): "Pay by QR" binding a point to a payable
   (``payments.qr.bind``) locks the point, then the payable's link.
4. ``payments.PaymentLink`` (:func:`lock_link`): the payable's one road at a time; a card
   press (``services._open_or_new``), an app reservation (``app_payments.reserve``), the
   last look before an app payment is taken (``app_payments.still_payable``) and the
   recording of any payment (``services.apply_bank_view`` when the bank says paid), so
   that of two payments of one link the later sees the earlier (``duplicates``).
5. ``payments.PaymentOrder`` (:func:`lock_order`): applying the bank's word, giving up, a
   reconciliation step, a refund or a reversal.
   ``payments.Refund`` (:func:`lock_refund`): applying the bank's word about a refund,
   always after its order.
6. ``booking.Appointment``: the payable's hook when its order is paid (``on_paid``); the
   booking services lock it alone, or before 7.
7. ``salons.Specialist``: a booking's time (``booking.services``).
8. ``finance.Transaction``: the original of a reversal (``finance.services``).

So ``/confirm`` is transaction → link → order → appointment, and a card payment is link
(committed) then link → order → appointment when it is paid. No bank is called while any
of them is held (``kit.bankcalls`` refuses).

Each lock is of its own row only (``of=("self",)``): the rows read with it (the Business
every row names, the link's document) are read, not locked. Without ``of`` PostgreSQL locks
every joined row, so each payment write would lock the salon's Business row and serialise
all of a salon's payments, and a join to the order would take the order before the link.
SQLite ignores row locks (its IMMEDIATE transactions hold the database's write lock).
"""

from django.db.models import Subquery

from navbat.salons.models import CheckoutPoint

from .models import PaymentLink, PaymentOrder, Refund

# The order above, as model labels (tests/payments/test_locks.py holds each path to it).
LOCK_ORDER = (
    "uzum.Connection",
    "uzum.MerchantTransaction",
    "salons.CheckoutPoint",
    "payments.PaymentLink",
    "payments.PaymentOrder",
    "payments.Refund",
    "booking.Appointment",
    "salons.Specialist",
    "finance.Transaction",
)
SELF = ("self",)


def lock_point(*, pk: int) -> CheckoutPoint:
    """The checkout point, locked (its business read with it, not locked)."""
    return CheckoutPoint.objects.select_for_update(of=SELF).select_related("business").get(pk=pk)


def lock_link(*, pk: int) -> PaymentLink:
    """The link, locked (its business read with it, not locked)."""
    return PaymentLink.objects.select_for_update(of=SELF).select_related("business").get(pk=pk)


def lock_link_of_order(*, order_id: int) -> PaymentLink | None:
    """The link of an order, locked before the order is (recording a payment); None for an
    order without a link."""
    return (
        PaymentLink.objects.select_for_update(of=SELF)
        .filter(pk=Subquery(PaymentOrder.objects.filter(pk=order_id).values("link_id")[:1]))
        .first()
    )


def lock_order(*, pk: int) -> PaymentOrder:
    """The order, locked (its business read with it, not locked)."""
    return PaymentOrder.objects.select_for_update(of=SELF).select_related("business").get(pk=pk)


def lock_refund(*, pk: int) -> Refund:
    """The refund, locked; its order is locked first (:data:`LOCK_ORDER`)."""
    return Refund.objects.select_for_update(of=SELF).select_related("business").get(pk=pk)
