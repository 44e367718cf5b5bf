"""Shapes of the API: inputs carry their limits (so OpenAPI documents them), outputs are exact.

Money is always an integer number of tiyin (1 so'm = 100 tiyin); never a float.
Times are ISO 8601 with an offset; ids are positive 64-bit integers.
"""

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field, StrictInt, StringConstraints

from navbat.booking.models import LineKind, Status
from navbat.finance.models import CardKind
from navbat.kit.forms import FIRST_DAY, LAST_DAY
from navbat.kit.money import MAX_AMOUNT_TIYIN
from navbat.payments.models import Method, RefundState
from navbat.payments.models import State as PaymentOrderState
from navbat.payments.refunds import REASON_MAX

MAX_ID = 2**63 - 1
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000

MONEY_NOTE = "Integer tiyin (1 so'm = 100 tiyin)."


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text cannot contain NUL characters.")
    return value


def text(max_length: int, *, min_length: int = 0, strip: bool = False, description: str = ""):
    """A string with limits that OpenAPI shows, and no NUL characters."""
    return Annotated[
        str,
        StringConstraints(min_length=min_length, max_length=max_length, strip_whitespace=strip),
        AfterValidator(_no_nul),
        Field(description=description or None),
    ]


def _in_our_era(moment: datetime) -> datetime:
    message = f"Give a time between {FIRST_DAY.year} and {LAST_DAY.year}."
    try:
        year = moment.astimezone(UTC).year
    except (OverflowError, ValueError) as exc:  # 9999-12-31T23:59-23:59 is past year 9999 in UTC
        raise ValueError(message) from exc
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValueError(message)
    return moment


def _day_in_our_era(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"Give a date between {FIRST_DAY} and {LAST_DAY}.")
    return day


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Money = Annotated[int, Field(ge=0, le=MAX_AMOUNT_TIYIN, description=MONEY_NOTE)]
Moment = Annotated[
    AwareDatetime,
    AfterValidator(_in_our_era),
    Field(description="ISO 8601 with an offset, e.g. 2025-03-01T10:00:00+05:00 (2000–2100)."),
]
Day = Annotated[
    date,
    AfterValidator(_day_in_our_era),
    Field(description="A local date, YYYY-MM-DD (2000-01-01 to 2100-12-31)."),
]
StatusName = Literal[tuple(Status.values)]
NewStatusName = Literal[Status.BOOKED.value, Status.CONFIRMED.value, Status.ARRIVED.value]
LineKindName = Literal[tuple(LineKind.values)]
Language = Literal["uz", "ru", "en"]
PaymentStateName = Literal["unpaid", "partly_paid", "paid", "overpaid"]


def id_path(model: str):
    """A path parameter carrying an id, named after its model (``{client_id}``)."""
    from ninja import Path

    return Path[int, {"ge": 1, "le": MAX_ID, "description": f"The {model}'s id."}]


# ---- errors ---------------------------------------------------------------------------------


class ErrorOut(Schema):
    code: str = Field(
        description="unauthenticated, not_found, conflict, invalid, malformed, too_large, "
        "method_not_allowed or server_error; a payment link refused with 409 says why: "
        "appointment_cancelled, nothing_due or payments_not_connected; a refund refused "
        "with 409: not_paid, nothing_left, too_much, in_flight, key_reused or provider_cannot; "
        "Pay by QR refused with 409: point_held (details name the appointment holding the "
        "point), nothing_due or appointment_cancelled."
    )
    message: str = Field(description="For people, in the request's language.")
    details: Any = Field(
        None, description="For `invalid` and `conflict`: field name → list of messages."
    )


READ_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {
    400: ErrorOut,
    401: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    413: ErrorOut,
    422: ErrorOut,
}


# ---- pagination -----------------------------------------------------------------------------


class PageQuery(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"At most {MAX_LIMIT}.")
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class PageMeta(Schema):
    count: int = Field(description="How many rows match, across all pages.")
    limit: int
    offset: int


def paginate(rows, query: PageQuery) -> dict:
    return {
        "count": rows.count(),
        "limit": query.limit,
        "offset": query.offset,
        "items": list(rows[query.offset : query.offset + query.limit]),
    }


# ---- locations and specialists --------------------------------------------------------------


class LocationOut(Schema):
    id: int
    name: str
    address: str
    timezone: str = Field(description="IANA zone the location's local times are in.")
    opening_hours: dict[str, Any] = Field(
        description='Weekday (Monday = "0") → ["HH:MM", "HH:MM"] or null when closed.'
    )
    public_slug: str = Field(
        description="The location's name in public addresses: its booking widget and the "
        "public booking API (`/public/{location}/…`)."
    )
    widget_url: str = Field(description="The location's online booking page for clients.")
    online_booking: bool = Field(
        description="Whether online booking is on here (the widget and the public API)."
    )


class LocationPage(PageMeta):
    items: list[LocationOut]


class SpecialistQuery(PageQuery):
    location_id: Id | None = None
    active: bool | None = None


class SpecialistOut(Schema):
    id: int
    location_id: int
    name: str
    position: str
    is_active: bool
    service_ids: list[int]


class SpecialistPage(PageMeta):
    items: list[SpecialistOut]


# ---- catalog --------------------------------------------------------------------------------


class CatalogQuery(PageQuery):
    active: bool | None = None


class ServiceOut(Schema):
    id: int
    category_id: int | None
    category: str | None = Field(description="The category's name.")
    name: str
    description: str
    price: int = Field(description=f"{MONEY_NOTE} The lowest price of a range.")
    price_max: int | None = Field(description=f"{MONEY_NOTE} Null for a fixed price.")
    duration_minutes: int
    is_active: bool
    ikpu_code: str
    package_code: str
    vat_percent: int


class ServicePage(PageMeta):
    items: list[ServiceOut]


class ProductOut(Schema):
    id: int
    name: str
    price: int = Field(description=MONEY_NOTE)
    unit: str
    is_active: bool
    ikpu_code: str
    package_code: str
    vat_percent: int


class ProductPage(PageMeta):
    items: list[ProductOut]


# ---- clients --------------------------------------------------------------------------------

Name = text(150, min_length=1, strip=True)
Phone = text(32, min_length=1, description="Any usual notation; stored as E.164 (+998…).")
Email = text(254, strip=True)
Notes = text(2000)


Search = text(100, description="Part of the name, e-mail or phone digits.")


class ClientQuery(PageQuery):
    search: Search = ""


class ClientIn(Schema):
    name: Name
    phone: Phone
    email: Email = ""
    preferred_language: Language = "uz"
    notes: Notes = ""


class ClientPatch(Schema):
    """Only the fields sent change; null means "leave as is"."""

    name: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    preferred_language: Language | None = None
    notes: Notes | None = None


class ClientOut(Schema):
    id: int
    name: str
    phone: str = Field(description="E.164.")
    email: str
    preferred_language: str
    notes: str
    created_at: datetime


class ClientPage(PageMeta):
    items: list[ClientOut]


# ---- appointments ---------------------------------------------------------------------------


class AppointmentQuery(PageQuery):
    date_from: Day | None = None
    date_to: Day | None = None
    location_id: Id | None = None
    specialist_id: Id | None = None
    client_id: Id | None = None
    status: StatusName | None = None


class LineIn(Schema):
    kind: LineKindName
    item_id: Id = Field(description="The service's or the product's id.")
    quantity: int = Field(1, ge=1, le=999)
    discount_percent: int = Field(0, ge=0, le=100)
    unit_price: Money | None = Field(
        None,
        description=f"{MONEY_NOTE} Null takes the catalog price; a service priced as a range "
        "needs a price inside it.",
    )


Lines = Annotated[list[LineIn], Field(min_length=1, max_length=50)]
Comment = text(2000)


class AppointmentIn(Schema):
    location_id: Id | None = Field(None, description="Defaults to the specialist's location.")
    specialist_id: Id
    client_id: Id
    starts_at: Moment
    ends_at: Moment | None = Field(None, description="Defaults to the services' durations.")
    lines: Lines
    status: NewStatusName = Status.BOOKED.value
    comment: Comment = ""


class AppointmentPatch(Schema):
    """Only the fields sent change. Moving keeps the length unless ``ends_at`` is sent."""

    specialist_id: Id | None = None
    client_id: Id | None = None
    starts_at: Moment | None = None
    ends_at: Moment | None = None
    lines: Lines | None = None
    comment: Comment | None = None


class StatusIn(Schema):
    status: StatusName


class LineOut(Schema):
    kind: str
    item_id: int
    title: str
    unit_price: int = Field(description=MONEY_NOTE)
    quantity: int
    discount_percent: int
    amount: int = Field(description=f"{MONEY_NOTE} After the discount.")


class AppointmentOut(Schema):
    id: int
    location_id: int
    specialist_id: int
    client_id: int
    starts_at: datetime = Field(description="In the location's zone, with its offset.")
    ends_at: datetime = Field(description="In the location's zone, with its offset.")
    status: StatusName
    comment: str
    lines: list[LineOut]
    total: int = Field(description=MONEY_NOTE)
    paid: int = Field(description=f"{MONEY_NOTE} Payments minus refunds.")
    due: int = Field(description=f"{MONEY_NOTE} What is left to pay (never negative).")
    payment_state: PaymentStateName


APPOINTMENT_COUNT_LIMIT = 10_000


class AppointmentPage(PageMeta):
    count: int = Field(
        description=f"How many rows match, across all pages, counted up to "
        f"{APPOINTMENT_COUNT_LIMIT:,} rows past this page; `count_exact` is false when there "
        "are more."
    )
    count_exact: bool
    items: list[AppointmentOut]


# ---- online payments ------------------------------------------------------------------------

PaymentOrderStateName = Literal[tuple(PaymentOrderState.values)]


class PaymentLinkOut(Schema):
    url: str = Field(description="The Quick Payment page to send the client.")
    token: str = Field(description="The link's secret part (at least 128 bits of randomness).")
    amount_due: int = Field(description=f"{MONEY_NOTE} What is left to pay now.")
    created_at: datetime = Field(description="When the link was first made.")


class PaymentQuery(PageQuery):
    date_from: Day | None = Field(None, description="Payments started on or after this day.")
    date_to: Day | None = Field(None, description="Payments started on or before this day.")
    state: PaymentOrderStateName | None = None


class PaymentOut(Schema):
    id: str = Field(description="Our reference, also the order number the bank knows.")
    method: Literal[tuple(Method.values)]
    card_kind: Literal[tuple(CardKind.values)] | None = Field(
        description="The card kind the fee is charged for, once paid."
    )
    card_scheme: str = Field(description="The card scheme the bank reported (e.g. UZCARD).")
    masked_pan: str = Field(description="The card number as the bank masked it.")
    tariff: str = Field(description='The installment plan (e.g. "15-0-4"), when paid in parts.')
    amount: int = Field(description=f"{MONEY_NOTE} Asked of the client.")
    paid_amount: int = Field(description=f"{MONEY_NOTE} What the bank took.")
    fee: int = Field(description=f"{MONEY_NOTE} The bank's fee, fixed when it was paid.")
    fee_rate: str | None = Field(description='Percent, e.g. "1" or "0.4"; null until paid.')
    refunded_amount: int = Field(description=f"{MONEY_NOTE} Given back by finished refunds.")
    fee_returned_amount: int = Field(
        description=f"{MONEY_NOTE} The part of the fee the bank returned with refunds."
    )
    state: PaymentOrderStateName
    created_at: datetime = Field(description="In the business's zone, with its offset.")
    paid_at: datetime | None = Field(description="In the business's zone, with its offset.")
    appointment_id: int | None = Field(description="When the payment is for an appointment.")
    client_id: int | None


class PaymentPage(PageMeta):
    items: list[PaymentOut]


# ---- refunds --------------------------------------------------------------------------------

IDEMPOTENCY_KEY_MAX = 64
RefundStateName = Literal[tuple(RefundState.values)]


class RefundIn(Schema):
    amount: Annotated[StrictInt, Field(ge=1, le=MAX_AMOUNT_TIYIN)] = Field(
        description=f"{MONEY_NOTE} At most what was paid minus what was refunded."
    )
    reason: text(REASON_MAX, min_length=1, strip=True, description="Why the money goes back.")


class RefundOut(Schema):
    id: str = Field(
        description="The refund's public id: the operation id the bank is called with "
        "(a UUID), the same on every retry."
    )
    payment_id: str = Field(description="The payment's id (its reference).")
    amount: int = Field(description=MONEY_NOTE)
    state: RefundStateName = Field(
        description="requested → at_bank → done or failed (the bank refused; nothing moved)."
    )
    reason: str
    created_at: datetime = Field(description="In the business's zone, with its offset.")


class PaymentDetailOut(PaymentOut):
    fee_amount: int = Field(description=f"{MONEY_NOTE} The same as `fee`.")
    refunds: list[RefundOut] = Field(description="Newest first.")
