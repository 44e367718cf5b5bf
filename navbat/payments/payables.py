"""What can be paid for. ``booking`` (and later ``loyalty``) register a payable kind here;
payments call these hooks and never import them."""

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class PayableLine:
    title: str
    quantity: int
    unit_price: int
    discount: int
    amount: int
    item_ref: str = ""  # a stable id of what was sold (for fiscal receipts)
    ikpu_code: str = ""
    package_code: str = ""
    vat_percent: int = 0


def amount_due(*, total: int, paid: int, asks: int | None = None) -> int:
    """What a client is asked to pay now: the rest, or the part asked when it is less (the
    one rule behind ``PayableView.due`` and a payable's ``due_state``)."""
    rest = max(total - paid, 0)
    return rest if asks is None else max(min(asks, rest), 0)


@dataclass(frozen=True)
class PayableView:
    """Everything the Quick Payment page and the provider need about one payable."""

    kind: str
    id: int
    business: object
    document: object  # finance.SaleDocument
    client: object | None
    headline: str
    place_name: str
    place_address: str
    person: str  # who serves the client (the specialist), may be empty
    starts_at: datetime | None
    time_zone: str
    total: int
    paid: int
    lines: tuple[PayableLine, ...] = field(default=())
    # False when it can no longer be paid (cancelled); ``closed_reason`` says why.
    is_open: bool = True
    closed_reason: str = ""
    # The service was given (the visit took place): a bank may no longer take the money
    # back on its own; giving it back is the salon's decision (a refund).
    delivered: bool = False
    # What is asked now when it is less than the rest (an online booking's prepayment):
    # ``due`` is then that part, and once it is paid the rest is due. None: all of it.
    asks: int | None = None
    # How a client paying it came (``models.Channel``) when no checkout QR led them: an
    # online booking's prepayment is the widget's. "" is a link.
    channel: str = ""
    # The payable's own page for the client who pays (an online booking's page), where the
    # receipt leads back under ``back_label``; "" where it has none.
    back_url: str = ""
    back_label: str = ""

    @property
    def rest(self) -> int:
        """All that is still unpaid, whatever part is asked now."""
        return max(self.total - self.paid, 0)

    @property
    def due(self) -> int:
        """What the client is asked to pay now."""
        return amount_due(total=self.total, paid=self.paid, asks=self.asks)

    @property
    def is_prepayment(self) -> bool:
        return self.asks is not None and self.due < self.rest

    @property
    def overpaid(self) -> int:
        return max(self.paid - self.total, 0)


@dataclass(frozen=True)
class DueState:
    """Just enough to answer "is something still to pay?" (what the page's watch polls)."""

    is_open: bool
    due: int


class Payable(Protocol):
    kind: str
    label: str  # what one is called on payments' pages ("Appointment"), translated

    def describe(self, *, business, payable_id: int) -> PayableView | None:
        """The payable now, or None when it does not exist (in this business)."""

    def due_state(self, *, business, payable_id: int) -> DueState | None:
        """``is_open`` and ``due`` exactly as ``describe`` would say them, in one statement
        (optional: kinds without it are described in full)."""

    def admin_url(self, *, payable_id: int) -> str:
        """The payable's own administration page: payments' pages link to it by this,
        never by a URL name of the room that owns it."""

    def on_paid(self, *, business, payable_id: int, order) -> None:
        """Called inside the transaction that records a payment."""

    def on_refunded(self, *, business, payable_id: int, order) -> None:
        """Called inside the transaction that moves a paid order to (partly) refunded,
        after the books are written: what was paid is lower now."""

    def on_expired(self, *, business, payable_id: int, order) -> None:
        """Called inside the transaction that expires an order no one paid in time."""


# The payable's own page marks the browser that opened it (a cookie on the payment pages'
# path holding a digest of the page's address); the payment page leads back only there.
BACK_COOKIE = "navbat_back"


def back_mark(back_url: str) -> str:
    return hashlib.sha256(back_url.encode()).hexdigest()[:32]


def came_back_from(cookies, back_url: str) -> bool:
    return hmac.compare_digest(cookies.get(BACK_COOKIE, ""), back_mark(back_url))


_PAYABLES: dict[str, Payable] = {}


def register(payable: Payable) -> None:
    _PAYABLES[payable.kind] = payable


def get(kind: str) -> Payable:
    try:
        return _PAYABLES[kind]
    except KeyError:
        raise LookupError(f"no payable kind {kind!r} is registered") from None


def describe(*, business, kind: str, payable_id: int) -> PayableView | None:
    return get(kind).describe(business=business, payable_id=payable_id)


def due_state(*, business, kind: str, payable_id: int) -> DueState | None:
    payable = get(kind)
    if hasattr(payable, "due_state"):
        return payable.due_state(business=business, payable_id=payable_id)
    view = payable.describe(business=business, payable_id=payable_id)
    return DueState(is_open=view.is_open, due=view.due) if view else None


def label(kind: str) -> str:
    """What a payable of ``kind`` is called; the kind itself when none is registered."""
    payable = _PAYABLES.get(kind)
    return str(payable.label) if payable else kind


def admin_url(*, kind: str, payable_id: int) -> str:
    """The payable's administration page, or "" for a kind no room registers any more."""
    payable = _PAYABLES.get(kind)
    return payable.admin_url(payable_id=payable_id) if payable else ""
