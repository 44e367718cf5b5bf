"""Shapes of the public booking API (no token): what a salon's own site, app or bot needs to
let clients book themselves. Inputs carry their limits, outputs are exact, every shape has
an example in the OpenAPI document.

Money is an integer number of tiyin; times are ISO 8601 with the location's offset.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field, StringConstraints

from navbat.booking.availability import MAX_DAYS, MAX_SERVICES
from navbat.booking.models import CancelledBy, Status
from navbat.booking.online import COMMENT_MAX, NAME_MAX
from navbat.salons.models import Prepayment

from .schemas import MONEY_NOTE, Day, Id, Moment, text

SLUG_NOTE = "The location's public slug (the last part of its widget's address)."
BOOKING_REF_NOTE = "The booking's private token (the last part of its `manage_url`)."

# Up to twenty ids of at most 18 digits (below 2**63): the service answers "at most
# {MAX_SERVICES}" itself, in the client's language.
ServiceList = Annotated[
    str,
    StringConstraints(pattern=r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,19}$"),
    Field(
        description=f"Service ids, comma-separated, in the order of the visit (at most "
        f"{MAX_SERVICES}).",
        examples=["12,15"],
    ),
]
StatusName = Literal[tuple(Status.values)]
PrepaymentMode = Literal[tuple(Prepayment.values)]


def service_ids(value: str) -> list[int]:
    return [int(part) for part in value.split(",")]


# ---- errors ---------------------------------------------------------------------------------


class PublicErrorOut(Schema):
    code: str = Field(
        description="not_found (unknown location or booking, or online booking is off), "
        "invalid (details: field → messages), malformed, too_large, method_not_allowed, "
        "slot_taken (the time is no longer free: choose another), too_many (slow down: "
        "see the Retry-After header), too_many_codes, too_many_holds (this phone has "
        "unpaid bookings waiting), phone_unconfirmed (confirm the phone with a code "
        "first), code_wrong, code_expired, code_tries, too_late (past the salon's "
        "cut-off: call the salon), server_error.",
        examples=["slot_taken"],
    )
    message: str = Field(
        description="For people, in the request's language (Accept-Language).",
        examples=["This time has just been taken. Choose another time."],
    )
    details: Any = Field(
        None,
        description="For `invalid` and the refusals about one field: field → messages.",
        examples=[None],
    )


READ_ERRORS = {404: PublicErrorOut, 422: PublicErrorOut, 429: PublicErrorOut}
WRITE_ERRORS = {
    400: PublicErrorOut,
    404: PublicErrorOut,
    409: PublicErrorOut,
    413: PublicErrorOut,
    422: PublicErrorOut,
    429: PublicErrorOut,
}


# ---- services -------------------------------------------------------------------------------


class PrepaymentAsked(Schema):
    mode: PrepaymentMode = Field(
        description="none, optional (the client may pay in advance) or required (the time "
        "is held until it is paid)."
    )
    amount: int = Field(description=f"{MONEY_NOTE} 0 when nothing is asked.")


class PublicServiceOut(Schema):
    id: int
    name: str
    description: str
    price: int = Field(description=f"{MONEY_NOTE} The lowest price of a range.")
    price_max: int | None = Field(description=f"{MONEY_NOTE} Null for a fixed price.")
    duration_minutes: int
    prepayment: PrepaymentAsked = Field(
        description="What booking this service alone asks in advance (a specialist's own "
        "rule may ask more: see the specialists)."
    )


class CategoryOut(Schema):
    id: int | None = Field(description="Null for the services without a category.")
    name: str
    services: list[PublicServiceOut]


class PublicLocationOut(Schema):
    name: str
    salon: str = Field(description="The business's name.")
    address: str
    timezone: str = Field(description="IANA zone of the location's times.")
    terms: str = Field(
        description='The salon\'s terms; when not empty, book with "terms_accepted".'
    )
    phone_confirmation: bool = Field(
        description="Whether a booking needs a phone confirmed with a code (`phone_check`)."
    )
    hold_minutes: int = Field(description="How long a time waits for a required prepayment.")
    horizon_days: int = Field(description="How many days ahead one may book.")


class ServicesOut(Schema):
    location: PublicLocationOut
    categories: list[CategoryOut]

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "location": {
                        "name": "Chilonzor",
                        "salon": "Gulnora beauty",
                        "address": "Tashkent, Chilonzor 9",
                        "timezone": "Asia/Tashkent",
                        "terms": "",
                        "phone_confirmation": False,
                        "hold_minutes": 15,
                        "horizon_days": 60,
                    },
                    "categories": [
                        {
                            "id": 3,
                            "name": "Hair",
                            "services": [
                                {
                                    "id": 12,
                                    "name": "Haircut",
                                    "description": "",
                                    "price": 10_000_000,
                                    "price_max": None,
                                    "duration_minutes": 60,
                                    "prepayment": {"mode": "required", "amount": 3_000_000},
                                }
                            ],
                        }
                    ],
                }
            ]
        }
    )


# ---- specialists, days and times ------------------------------------------------------------


class ChoiceQuery(Schema):
    services: ServiceList
    specialist: Id | None = Field(
        None, description='A specialist\'s id; leave out for "any specialist".'
    )


class SpecialistsQuery(Schema):
    services: ServiceList


class PublicSpecialistOut(Schema):
    id: int
    name: str
    position: str
    photo_url: str | None = Field(description="A small square JPEG; null when there is none.")
    prepayment: PrepaymentAsked = Field(
        description="What booking the chosen services with this specialist asks in advance."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "name": "Aziza",
                    "position": "Stylist",
                    "photo_url": "https://navbat.example/book/gulnora-chilonzor/specialists/7/photo",
                    "prepayment": {"mode": "required", "amount": 3_000_000},
                }
            ]
        }
    )


class DaysQuery(ChoiceQuery):
    first: Day = Field(alias="from", description="The window's first local date, YYYY-MM-DD.")
    last: Day = Field(
        alias="to",
        description=f"The window's last local date, YYYY-MM-DD (at most {MAX_DAYS} days "
        "after `from`).",
    )


class TimesQuery(ChoiceQuery):
    day: Day = Field(alias="date", description="A local date, YYYY-MM-DD.")


DayList = Annotated[
    list[date],
    Field(description="The local dates with at least one free time.", examples=[["2025-03-03"]]),
]


class TimeOut(Schema):
    start: datetime = Field(
        description="ISO 8601 with the location's offset.",
        examples=["2025-03-03T15:00:00+05:00"],
    )
    specialist: int = Field(
        description='The specialist the time would be booked with (for "any specialist", the '
        "one with the fewest appointments that day).",
        examples=[7],
    )


# ---- phone checks ---------------------------------------------------------------------------

PublicPhone = text(32, min_length=1, description="Any usual notation; stored as E.164 (+998…).")


class PhoneCheckIn(Schema):
    phone: PublicPhone

    model_config = ConfigDict(json_schema_extra={"examples": [{"phone": "+998 90 555 12 34"}]})


class PhoneCheckOut(Schema):
    phone_check: str = Field(
        description="The check's nonce: confirm it with the code, then book with it.",
        examples=["x2E3b0Yf9C1mQpL0vO2cS7kR4nW8aJ5u"],
    )
    expires_at: datetime = Field(description="Until when the code can be confirmed.")


class CodeIn(Schema):
    code: text(16, min_length=1, description="The code the salon sent or read out.")

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "493027"}]})


class PhoneConfirmedOut(Schema):
    phone_check: str
    phone: str = Field(description="The phone confirmed, E.164.")
    confirmed: bool


# ---- bookings -------------------------------------------------------------------------------


class BookingIn(Schema):
    services: Annotated[list[Id], Field(min_length=1, max_length=20)] = Field(
        description=f"Service ids in the order of the visit (at most {MAX_SERVICES})."
    )
    specialist: Id | None = Field(
        None, description='A specialist\'s id, or null for "any specialist".'
    )
    start: Moment
    name: text(NAME_MAX * 2, min_length=1, strip=True, description="The client's name.")
    phone: PublicPhone
    comment: text(COMMENT_MAX * 2, description="For the salon.") = ""
    phone_check: text(64, min_length=1) | None = Field(
        None,
        description="A confirmed phone check of the same phone, where the location asks "
        "for one (`phone_confirmation`).",
    )
    terms_accepted: bool = Field(
        False, description="The client accepted the salon's terms (needed where there are any)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "services": [12, 15],
                    "specialist": None,
                    "start": "2025-03-03T15:00:00+05:00",
                    "name": "Dilnoza Karimova",
                    "phone": "+998 90 555 12 34",
                    "comment": "First visit",
                    "phone_check": None,
                    "terms_accepted": True,
                }
            ]
        }
    )


class Prepaid(Schema):
    amount: int = Field(description=f"{MONEY_NOTE} What is asked in advance; 0 for nothing.")
    required: bool = Field(description="The booking is held until it is paid (`hold_until`).")


class BookedService(Schema):
    id: int
    name: str


BOOKING_EXAMPLE = {
    "id": 4412,
    "status": "awaiting_payment",
    "start": "2025-03-03T15:00:00+05:00",
    "end": "2025-03-03T16:30:00+05:00",
    "specialist": 7,
    "specialist_name": "Aziza",
    "services": [{"id": 12, "name": "Haircut"}, {"id": 15, "name": "Colouring"}],
    "total": 30_000_000,
    "hold_until": "2025-03-01T11:15:00+05:00",
    "prepayment": {"amount": 9_000_000, "required": True},
    "payment_url": "https://navbat.example/pay/Q2x0b2tlbi1leGFtcGxl",
    "manage_url": "https://navbat.example/book/b/3q2-7Yt0dW5rbm93bi10b2tlbi1leGFtcGxl/",
}


class BookingOut(Schema):
    id: int
    status: StatusName = Field(
        description="awaiting_payment (held until `hold_until` for the prepayment), booked, "
        "confirmed, arrived, completed, no_show or cancelled."
    )
    start: datetime = Field(description="With the location's offset.")
    end: datetime = Field(description="With the location's offset.")
    specialist: int
    specialist_name: str
    services: list[BookedService]
    total: int = Field(description=f"{MONEY_NOTE} The visit's price (a range at its lowest).")
    hold_until: datetime | None = Field(
        description="Until when an unpaid required prepayment holds the time; null otherwise."
    )
    prepayment: Prepaid
    payment_url: str | None = Field(
        description="The payment page for what is asked (the prepayment, then the rest); "
        "null when nothing is to be paid online."
    )
    manage_url: str = Field(
        description="The client's private booking page: see it, pay, cancel or move it."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [BOOKING_EXAMPLE]})


MANAGED_EXAMPLE = {
    **BOOKING_EXAMPLE,
    "paid": 0,
    "due": 9_000_000,
    "cancellable": True,
    "cancellable_until": "2025-03-02T15:00:00+05:00",
    "refund_on_cancel": 0,
    "cancelled_by": None,
}


class ManagedBookingOut(BookingOut):
    paid: int = Field(description=f"{MONEY_NOTE} Paid so far, refunds taken off.")
    due: int = Field(description=f"{MONEY_NOTE} What the payment page asks now.")
    cancellable: bool = Field(description="Whether the client may still cancel or move it.")
    cancellable_until: datetime = Field(description="The salon's cut-off for this booking.")
    refund_on_cancel: int = Field(
        description=f"{MONEY_NOTE} What cancelling now gives back under the salon's policy."
    )
    cancelled_by: Literal[tuple(CancelledBy.values)] | None = Field(
        description="client, salon or hold_ended (not prepaid in time); null while not cancelled."
    )

    model_config = ConfigDict(json_schema_extra={"examples": [MANAGED_EXAMPLE]})


class CancelledBookingOut(ManagedBookingOut):
    refund: int = Field(
        description=f"{MONEY_NOTE} Given back by this cancellation (sent to the card by "
        "navbat shortly)."
    )

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **MANAGED_EXAMPLE,
                    "status": "cancelled",
                    "cancellable": False,
                    "cancelled_by": "client",
                    "refund": 9_000_000,
                }
            ]
        }
    )
