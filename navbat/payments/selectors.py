"""Reads of payments: the online payments list (pages and the JSON API), the differences
the daily reconciliation found, and the payments made twice that are to be given back."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import day_bounds, local_today

from . import duplicates
from .models import Difference, PaymentOrder, Refund, RefundRoute, RefundState, State
from .states import REFUND_IN_FLIGHT, SETTLED_STATES


def payments(
    *,
    business,
    date_from: date | None = None,
    date_to: date | None = None,
    state: str | None = None,
) -> QuerySet[PaymentOrder]:
    """The business's payment orders, newest first. Days are the business's local days
    of when the payment started (``created_at``), both ends included."""
    rows = scoped(PaymentOrder, business).select_related(
        "client", "document", "link", "income", "fee"
    )
    if date_from:
        rows = rows.filter(created_at__gte=day_bounds(date_from, business.timezone)[0])
    if date_to:
        rows = rows.filter(created_at__lt=day_bounds(date_to, business.timezone)[1])
    if state:
        rows = rows.filter(state=state)
    return rows.order_by("-created_at", "-id")


@dataclass(frozen=True)
class PaymentTotals:
    """The list's sums, each equal to the books' rows of those orders: ``paid`` the income
    (SALE_PAYMENT), ``refunded`` the REFUND rows (to the card, from a register, or the
    bank's reversal), ``fees`` the BANK_FEE rows, ``fees_returned`` the FEE_RETURN rows."""

    count: int
    paid: int  # what the bank took from clients (settled orders), refunds not deducted
    fees: int  # the bank's fees on them
    refunded: int  # given back of them, by every route, done
    fees_returned: int = 0  # of the fees, what the bank gave back with refunds

    @property
    def net(self) -> int:
        """What the salon keeps: paid, less refunds, less the fees the bank kept."""
        return self.paid - self.refunded - self.fees + self.fees_returned


def totals(rows: QuerySet[PaymentOrder]) -> PaymentTotals:
    settled = Q(state__in=SETTLED_STATES)
    sums = rows.order_by().aggregate(
        paid=Coalesce(Sum("paid_amount", filter=settled), 0),
        fees=Coalesce(Sum("fee_amount", filter=settled), 0),
        refunded=Coalesce(Sum("refunded_amount", filter=settled), 0),
        fees_returned=Coalesce(Sum("fee_returned_amount", filter=settled), 0),
    )
    return PaymentTotals(
        count=rows.count(),
        paid=sums["paid"],
        fees=sums["fees"],
        refunded=sums["refunded"],
        fees_returned=sums["fees_returned"],
    )


def differences(*, business, days: int = 30) -> QuerySet[Difference]:
    """What the daily reconciliation found in the last ``days`` local days, newest first."""
    since = local_today(business.timezone) - timedelta(days=days)
    return (
        scoped(Difference, business)
        .filter(found_on__gte=since)
        .select_related("order", "order__client")
        .order_by("-found_on", "-id")
    )


def link_by_code(*, business, code: str):
    """The business's payment link a bank's app names by its code (case and spaces forgiven:
    the code may have been read aloud or typed)."""
    from .models import PaymentLink

    code = "".join((code or "").split()).upper()
    if not code or len(code) > 16:
        return None
    link = scoped(PaymentLink, business).filter(code=code).first()
    if link is not None:
        link.business = business  # the caller's, already loaded: not read again per call
    return link


def order_of_link(*, link, reference: str) -> PaymentOrder | None:
    """An order of this link only: another link's reference is as unknown as a made-up one."""
    return scoped(PaymentOrder, link.business).filter(link=link, reference=reference).first()


def latest_paid(*, link) -> PaymentOrder | None:
    """The link's most recent payment that went through (for its receipt)."""
    return (
        scoped(PaymentOrder, link.business)
        .filter(link=link, state__in=SETTLED_STATES)
        .order_by("-paid_at", "-id")
        .first()
    )


def order_of_account(
    *, business, provider: str, account_id: int, bank_order_id: str = "", reference: str = ""
) -> PaymentOrder | None:
    """The order a provider's message names, among one account's orders: by the bank's
    order id first, then by our reference."""
    orders = scoped(PaymentOrder, business).filter(provider=provider, account_id=account_id)
    order = None
    if bank_order_id:
        order = orders.filter(bank_order_id=bank_order_id).first()
    if order is None and reference:
        order = orders.filter(reference=reference).first()
    return order


# ------------------------------------------------------------------ payments made twice


def refunded_by_bank(order: PaymentOrder) -> int:
    """What the bank gave back of ``order`` by our books: refunds to the card and the
    bank's reversals; money given back from the salon's own registers the bank never saw."""
    done = scoped(Refund, order.business).filter(order=order, state=RefundState.DONE)
    done = done.exclude(route=RefundRoute.REGISTER)
    return done.aggregate(total=Sum("amount"))["total"] or 0


def to_give_back(*, business) -> list[PaymentOrder]:
    """Payments made twice (``duplicate_of`` set, payments.duplicates) whose money the salon
    must give back itself, oldest first: they head its "to give back" list. Those with a
    refund under way, given back already, or waiting for their automatic refund are not
    listed. Each row carries ``left``: what to give back (no more than the visit is
    overpaid by)."""
    rows = (
        scoped(PaymentOrder, business)
        .filter(duplicate_of__isnull=False, state__in=(State.PAID, State.PARTLY_REFUNDED))
        .select_related("business", "client", "document", "link")
        .order_by("paid_at", "id")
    )
    found = []
    for order in rows:
        notice = duplicate_notice(order)
        if notice.state == Twice.TO_GIVE_BACK and notice.amount > 0:
            order.left = notice.amount
            found.append(order)
    return found


class Twice(StrEnum):
    """Where the money of a payment made twice is."""

    TO_GIVE_BACK = "to_give_back"  # the salon gives it back (no refund call, or it failed)
    GIVING_BACK = "giving_back"  # a refund of it is under way
    GIVEN_BACK = "given_back"


@dataclass(frozen=True)
class DuplicateNotice:
    """What the appointment (and the payment) says of a payment made twice."""

    order: PaymentOrder  # the later payment, the duplicate
    original_id: int  # the payment that had already paid
    state: Twice
    amount: int  # given back (GIVEN_BACK), on its way (GIVING_BACK) or still to give
    automatic: bool  # the bank gave (or is giving) it back without anyone asking


def duplicate_notice(order: PaymentOrder) -> DuplicateNotice | None:
    """The notice for ``order`` when it is a payment made twice, else None: the one place
    that says where its money is (the appointment's notice and the "to give back" list
    read it)."""
    if order.duplicate_of_id is None:
        return None
    refunds = scoped(Refund, order.business).filter(order=order)
    flying = refunds.filter(state__in=REFUND_IN_FLIGHT).aggregate(total=Sum("amount"))["total"]
    automatic = refunds.filter(automatic=True).exclude(state=RefundState.FAILED).exists()
    still = duplicates.still_to_give(order)
    if flying:
        state, amount = Twice.GIVING_BACK, flying
    elif duplicates.awaits_automatic_refund(order, amount=still, refunds=refunds):
        state, amount, automatic = Twice.GIVING_BACK, still, True
    elif still <= 0 or (order.refunded_amount and automatic):
        state, amount = Twice.GIVEN_BACK, order.refunded_amount
    else:
        state, amount = Twice.TO_GIVE_BACK, still
    return DuplicateNotice(
        order=order,
        original_id=order.duplicate_of_id,
        state=state,
        amount=amount,
        automatic=automatic,
    )
