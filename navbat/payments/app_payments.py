"""Payments the client makes inside a bank's app: the bank calls us, not we it.

The provider reserves a link's payable for one bank transaction (:func:`reserve`), then
confirms it through :func:`services.apply_bank_view` (the same recording as card payments)
or takes it back (:func:`services.apply_bank_view` with a failed state before it was paid,
:func:`reverse_paid` after). Each function runs in the caller's database transaction, so the
provider's own record of the bank transaction commits together with the order.
"""

from datetime import datetime, timedelta
from enum import StrEnum

from django.db import transaction
from django.utils import timezone

from navbat.kit.errors import Refused

from . import locks, payables, providers
from .models import Method, PaymentLink, PaymentOrder, State
from .services import new_order


class Refusal(StrEnum):
    """Why a bank's app may not take money for a link now."""

    UNKNOWN = "unknown"  # no such link here
    CLOSED = "closed"  # the payable can no longer be paid (a cancelled visit)
    PAID = "paid"  # nothing is due
    AMOUNT = "amount"  # the bank asks for another amount than what is due


class AppPaymentRefused(Refused):
    """A bank's app may not take money for the link now; ``reason`` is the Refusal, which
    the provider turns into its protocol's error code."""

    def __init__(self, reason: Refusal):
        super().__init__(reason.value, reason=reason)

    def __reduce__(self):
        return (AppPaymentRefused, (self.reason,))


def payable_of(link: PaymentLink | None) -> payables.PayableView:
    """What the link is for, or a refusal saying why nothing can be paid through it."""
    view = None
    if link is not None:
        view = payables.describe(
            business=link.business, kind=link.payable_kind, payable_id=link.payable_id
        )
    if view is None:
        raise AppPaymentRefused(Refusal.UNKNOWN)
    if not view.is_open:
        raise AppPaymentRefused(Refusal.CLOSED)
    if view.due <= 0:
        raise AppPaymentRefused(Refusal.PAID)
    return view


def reserve(
    *,
    link: PaymentLink,
    account: providers.Account,
    amount: int,
    bank_ref: str,
    hold: timedelta,
    now: datetime | None = None,
) -> PaymentOrder:
    """Make ``link``'s order for one bank transaction (``bank_ref``), open for ``hold``.

    Nothing holds the link against it: a card page left open, or an earlier transaction
    the client backed out of, does not stop the client paying here. The one-road-at-a-time
    rule lives where money is really taken: :func:`still_payable` at the confirm, and the
    recording of a payment, both under the link's lock (payments.duplicates)."""
    now = now or timezone.now()
    with transaction.atomic():
        link = locks.lock_link(pk=link.pk)
        view = payable_of(link)
        if amount != view.due:
            raise AppPaymentRefused(Refusal.AMOUNT)
        return new_order(
            link=link,
            view=view,
            account=account,
            method=Method.APP,
            amount=amount,
            state=State.PENDING,
            bank_order_id=bank_ref,
            expires_at=now + hold,
        )


def still_payable(*, order_id: int) -> None:
    """Before money reserved for ``order_id`` is taken: under the link's lock, the payable is
    still open and still needs at least that much. A visit cancelled, or paid meanwhile (at
    the desk, or by card on the bank's page), must not be paid again; raises the refusal,
    and the app takes no money."""
    order = PaymentOrder.objects.select_related("link").get(pk=order_id)
    link = locks.lock_link(pk=order.link_id)
    view = payable_of(link)
    if view.due < order.amount:
        raise AppPaymentRefused(Refusal.PAID)


def reverse_paid(*, order_id: int) -> PaymentOrder:
    """The bank took a paid payment back in full: booked as a refund by the bank
    (``refunds.book_bank_reversal``: once, whatever repeats; refused when part of it was
    already given back from a register)."""
    from .refunds import book_bank_reversal

    with transaction.atomic():
        book_bank_reversal(order_id=order_id)
        return PaymentOrder.objects.select_related("business").get(pk=order_id)
