"""Reads of payments: the online payments list (pages and the JSON API) and the
differences the daily reconciliation found."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from navbat.kit.tenancy import scoped, scoped_to_outer
from navbat.kit.timeutil import day_bounds, local_today

from .models import Difference, Method, PaymentOrder
from .states import EXPIRY_MARGIN, OPEN_STATES, SETTLED_STATES


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


def link_by_code(*, business, code: str, held_at=None):
    """The business's payment link a bank's app names by its code (case and spaces forgiven:
    the code may have been read aloud or typed). With ``held_at`` (now), the link carries
    ``held``: whether another payment holds it (``link_is_held``)."""
    from .models import PaymentLink

    code = "".join((code or "").split()).upper()
    if not code or len(code) > 16:
        return None
    rows = scoped(PaymentLink, business).filter(code=code)
    if held_at is not None:
        rows = rows.annotate(held=link_is_held(now=held_at))
    link = rows.first()
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


def holding_orders(*, link, now):
    """The link's orders that may still take money: open, and within their time. A card
    session may still finish a payment for EXPIRY_MARGIN after it ends (the client in the
    middle of 3-D Secure); an app transaction ends at its deadline exactly, when it fails."""
    return scoped(PaymentOrder, link.business).filter(_holding(now), link=link)


def _holding(now) -> Q:
    live_card = Q(method=Method.CARD, expires_at__gt=now - EXPIRY_MARGIN)
    live_other = ~Q(method=Method.CARD) & Q(expires_at__gt=now)
    return (live_card | live_other) & Q(state__in=OPEN_STATES)


def link_is_held(*, now) -> Exists:
    """Whether ``holding_orders`` of the link has any row, as an annotation of links (the
    Merchant API's /check reads it with the link)."""
    rows = scoped_to_outer(PaymentOrder).filter(_holding(now), link_id=OuterRef("pk"))
    return Exists(rows)


def card_hold_until(*, link, now):
    """Until when an open card order keeps the link (the app waits until then), or None."""
    last = (
        holding_orders(link=link, now=now)
        .filter(method=Method.CARD)
        .order_by("-expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    return hold_end(last)


def last_card_hold(*, now) -> Subquery:
    """``card_hold_until``'s order as an annotation of links (the latest ``expires_at`` of
    the link's card orders holding it, or None; ``hold_end`` of it), so that the page reads
    it with its link. Card orders of ``holding_orders``, within the link's own business."""
    rows = scoped_to_outer(PaymentOrder).filter(
        link_id=OuterRef("pk"),
        method=Method.CARD,
        state__in=OPEN_STATES,
        expires_at__gt=now - EXPIRY_MARGIN,
    )
    return Subquery(rows.order_by("-expires_at").values("expires_at")[:1])


def hold_end(last_expires_at):
    return last_expires_at + EXPIRY_MARGIN if last_expires_at else None


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
