"""The public booking API (F6): no token; a location is named by its public slug, a booking
by its private token. What the widget does, for a salon's own site, app or bot.

Every operation counts itself first (``booking.limits``: per address, and per phone where a
phone is given) and answers 429 ``too_many`` with ``Retry-After`` past a limit. The count is
its own short statement, so these operations run outside the request transaction
(``api/urls.py``) and open their own around the work: a refused request still counts, and
a wrong phone code stays counted, while whatever the refused work wrote is rolled back. None
of them calls a bank (a cancellation queues its refund as a job).
"""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Path, Query, Router, Status

from navbat.booking import availability, cancellation, limits, online, phone_checks
from navbat.booking.availability import MAX_DAYS
from navbat.booking.prepayment import Asked, asked_for
from navbat.kit.errors import Conflict, Refused
from navbat.kit.phones import PhoneError, normalise_phone
from navbat.kit.timeutil import to_local

from .errors import NOT_FOUND, django_error_details, error_response
from .public_out import booking_out, photo_url, services_out
from .public_schemas import (
    BOOKING_REF_NOTE,
    READ_ERRORS,
    SLUG_NOTE,
    WRITE_ERRORS,
    BookingIn,
    BookingOut,
    CancelledBookingOut,
    CodeIn,
    DayList,
    DaysQuery,
    ManagedBookingOut,
    PhoneCheckIn,
    PhoneCheckOut,
    PhoneConfirmedOut,
    PublicSpecialistOut,
    ServicesOut,
    SpecialistsQuery,
    TimeOut,
    TimesQuery,
    service_ids,
)

router = Router(tags=["public booking"], auth=None)

TOO_MANY = "too_many"
SLOT_TAKEN = "slot_taken"
# What each refusal of the booking services answers (anything else: 409 with its reason).
REFUSAL_STATUS = {
    "too_many": 429,
    "too_many_codes": 429,
    "phone_unconfirmed": 422,
    "code_wrong": 422,
    "code_expired": 422,
    "code_tries": 422,
    "too_many_holds": 409,
    "too_late": 409,
}
CODES_RETRY_AFTER = 3600  # phone_checks counts the codes of the last hour

SLUG = re.compile(r"[A-Za-z0-9_-]{1,60}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")

# Checked by hand (SLUG, TOKEN): whatever does not fit is unknown, 404, like a wrong one.
Slug = Path[str, {"description": SLUG_NOTE, "examples": ["gulnora-chilonzor"]}]
Token = Path[str, {"description": BOOKING_REF_NOTE, "examples": ["3q2-7Yt0dW5rbm93bi10b2tl"]}]
Nonce = Path[str, {"description": "The phone check's nonce.", "examples": ["x2E3b0Yf9C1mQpL0"]}]


# ---- the frame of every operation -----------------------------------------------------------


def _refusal(refused: Refused) -> HttpResponse:
    if refused.reason == "closed":
        return error_response(404, NOT_FOUND, _("Not found."))
    status = REFUSAL_STATUS.get(refused.reason, 409)
    details = django_error_details(refused) if refused.field else None
    response = error_response(status, refused.reason, refused.messages[0], details)
    if isinstance(refused, limits.TooMany):
        response["Retry-After"] = str(max(refused.retry_after, 1))
    elif status == 429:
        response["Retry-After"] = str(CODES_RETRY_AFTER)
    return response


def _answer(request: HttpRequest, *, budget, what: str, work, phone: str = "", atomic=True):
    """Count the request, then do ``work`` in one transaction (or, with ``atomic=False``,
    let the service commit its own), answering the services' refusals as the API's errors.
    Validation errors and 404s go on to the API's handlers."""
    try:
        limits.check(request, budget=budget, what=what, phone=phone)
        # Reads need no transaction: on SQLite one would take the database's write lock
        # (IMMEDIATE) for every anonymous look at the free times.
        if not atomic or budget is limits.READ:
            return work()
        with transaction.atomic():
            return work()
    except Refused as refused:  # TooMany too
        return _refusal(refused)
    except Conflict as conflict:
        if conflict.code == SLOT_TAKEN:
            return error_response(409, SLOT_TAKEN, conflict.messages[0])
        details = django_error_details(conflict)
        return error_response(409, "conflict", conflict.messages[0], details)


def _location(slug: str):
    """The location whose widget is at ``slug`` and on; 404 for anything else."""
    location = online.open_location(slug) if SLUG.fullmatch(slug) else None
    if location is None:
        raise Http404
    return location


def _booking(token: str):
    found = online.find_booking(token) if TOKEN.fullmatch(token) else None
    if found is None:
        raise Http404
    return found


def _phone(raw: str) -> str:
    """The phone in E.164, or "" when it is not one (the service says why, in its place)."""
    try:
        return normalise_phone(raw)
    except PhoneError:
        return ""


def _check_phone(raw: str) -> None:
    try:
        normalise_phone(raw)
    except PhoneError as error:
        raise ValidationError({"phone": str(error)}) from None


# ---- what can be booked ---------------------------------------------------------------------


@router.get("/public/{location}/services", response={200: ServicesOut, **READ_ERRORS})
def public_services(request: HttpRequest, location: Slug):
    """The location and what can be booked there online, by category (each service with
    its price or price range, its duration and what it asks in advance)."""
    return _answer(
        request,
        budget=limits.READ,
        what="read",
        work=lambda: services_out(_location(location)),
    )


@router.get(
    "/public/{location}/specialists",
    response={200: list[PublicSpecialistOut], **READ_ERRORS},
)
def public_specialists(request: HttpRequest, location: Slug, query: Query[SpecialistsQuery]):
    """The specialists who perform every one of the services (in the salon's order), with
    what booking those services with each asks in advance."""

    def work():
        place = _location(location)
        chosen = online.choice(
            location=place, service_ids=service_ids(query.services), specialist_id=None
        )
        takes = online.takes_online_payments(place.business)
        out = []
        for specialist in chosen.specialists:
            asked = (
                asked_for(services=chosen.services, specialist=specialist)
                if takes
                else Asked(amount=0, required=False)
            )
            out.append(
                {
                    "id": specialist.pk,
                    "name": specialist.name,
                    "position": specialist.position,
                    "photo_url": photo_url(place, specialist),
                    "prepayment": {"mode": asked.mode, "amount": asked.amount},
                }
            )
        return out

    return _answer(request, budget=limits.READ, what="read", work=work)


@router.get(
    "/public/{location}/days",
    response={200: DayList, **READ_ERRORS},
    description=f"The local dates from `from` to `to` (at most {MAX_DAYS} days) with at least "
    "one free time for the services, with the specialist or with any.",
)
def public_days(request: HttpRequest, location: Slug, query: Query[DaysQuery]):

    def work():
        if query.last < query.first:
            raise ValidationError({"to": _("The last day comes before the first.")})
        if (query.last - query.first).days + 1 > MAX_DAYS:
            raise ValidationError(
                {"to": _("Ask for at most %(count)s days at once.") % {"count": MAX_DAYS}}
            )
        place = _location(location)
        chosen = online.choice(
            location=place,
            service_ids=service_ids(query.services),
            specialist_id=query.specialist,
        )
        return availability.free_days(
            location=place,
            rules=chosen.rules,
            specialists=chosen.specialists,
            duration=chosen.duration,
            first=query.first,
            last=query.last,
        )

    return _answer(request, budget=limits.READ, what="read", work=work)


@router.get("/public/{location}/times", response={200: list[TimeOut], **READ_ERRORS})
def public_times(request: HttpRequest, location: Slug, query: Query[TimesQuery]):
    """The free times of one local date, each with the specialist it would be booked with."""

    def work():
        place = _location(location)
        chosen = online.choice(
            location=place,
            service_ids=service_ids(query.services),
            specialist_id=query.specialist,
        )
        slots = availability.free_times(
            location=place,
            rules=chosen.rules,
            specialists=chosen.specialists,
            duration=chosen.duration,
            day=query.day,
        )
        return [{"start": slot.start, "specialist": slot.specialist_id} for slot in slots]

    return _answer(request, budget=limits.READ, what="read", work=work)


# ---- phone checks ---------------------------------------------------------------------------


@router.post("/public/{location}/phone-checks", response={201: PhoneCheckOut, **WRITE_ERRORS})
def public_phone_check(request: HttpRequest, location: Slug, payload: PhoneCheckIn):
    """Ask for a code for a phone, where the location confirms phones
    (`phone_confirmation`). The salon sends or reads out the code; confirm it, then book
    with the `phone_check`. A few codes an hour per phone at most (429 `too_many_codes`)."""
    phone = _phone(payload.phone)

    def work():
        place = _location(location)
        if not phone:
            _check_phone(payload.phone)  # says why, in the client's language
        if not availability.settings_of(place).phone_confirmation:
            raise ValidationError({"phone": _("This salon does not confirm phones with a code.")})
        check = phone_checks.ask_code(location=place, phone=phone)
        expires = to_local(check.expires_at, place.timezone)
        return Status(201, {"phone_check": check.nonce, "expires_at": expires})

    return _answer(request, budget=limits.WRITE, what="phone", work=work, phone=phone)


@router.post(
    "/public/{location}/phone-checks/{nonce}/confirm",
    response={200: PhoneConfirmedOut, **WRITE_ERRORS},
)
def public_phone_confirm(request: HttpRequest, location: Slug, nonce: Nonce, payload: CodeIn):
    """Confirm a phone check with its code. A wrong code counts against the check (422
    `code_wrong`; after a few, `code_tries`); an unknown or old check is `code_expired`."""

    def work():
        place = _location(location)
        known = nonce if TOKEN.fullmatch(nonce) else ""
        # Not in a transaction of ours: a wrong try is counted and stays counted.
        check = phone_checks.confirm(nonce=known, code=payload.code)
        if check.location_id != place.pk:
            raise Refused(
                _("The code has expired. Ask for a new one."), reason="code_expired", field="code"
            )
        return {"phone_check": check.nonce, "phone": check.phone, "confirmed": True}

    return _answer(request, budget=limits.WRITE, what="confirm", work=work, atomic=False)


# ---- bookings -------------------------------------------------------------------------------


@router.post("/public/{location}/bookings", response={201: BookingOut, **WRITE_ERRORS})
def public_book(request: HttpRequest, location: Slug, payload: BookingIn):
    """Book an offered time (from `times`). Where a prepayment is required the booking
    waits for it (`awaiting_payment`) and holds the time until `hold_until`: send the
    client to `payment_url`. 409 `slot_taken` when the time is no longer free (choose
    another); 422 for bad input; nothing is stored on a refusal."""
    phone = _phone(payload.phone)

    def work():
        place = _location(location)
        if payload.start <= timezone.now():
            raise ValidationError({"start": _("This time has passed. Choose another time.")})
        confirmed = phone_checks.confirmed_phone(location=place, nonce=payload.phone_check or "")
        booked = online.book_online(
            location=place,
            service_ids=payload.services,
            specialist_id=payload.specialist,
            starts_at=payload.start,
            name=payload.name,
            phone=payload.phone,
            comment=payload.comment,
            language=getattr(request, "LANGUAGE_CODE", "") or "uz",
            terms_accepted=payload.terms_accepted,
            phone_confirmed=bool(phone) and confirmed == phone,
        )
        booked.online.appointment = booked.appointment
        return Status(201, booking_out(booked.online, link=booked.link))

    return _answer(request, budget=limits.WRITE, what="book", work=work, phone=phone)


@router.get("/public/bookings/{token}", response={200: ManagedBookingOut, **READ_ERRORS})
def public_booking(request: HttpRequest, token: Token):
    """A booking by its private token (the API twin of the client's booking page): what,
    when, paid and due, until when it may be cancelled and what cancelling gives back."""
    return _answer(
        request,
        budget=limits.READ,
        what="read",
        work=lambda: booking_out(_booking(token), detail=True),
    )


@router.delete("/public/bookings/{token}", response={200: CancelledBookingOut, **WRITE_ERRORS})
def public_cancel(request: HttpRequest, token: Token):
    """The client cancels. What was prepaid goes back under the salon's refund policy
    (`refund`, sent to the card shortly); 409 `too_late` past the salon's cut-off or when
    it is no longer open."""

    def work():
        found = _booking(token)
        refund = cancellation.cancel_by_client(online=found)
        return {**booking_out(_booking(token), detail=True), "refund": refund}

    return _answer(request, budget=limits.WRITE, what="cancel", work=work)


# Every operation of this router: api/urls.py takes them out of the request transaction.
OPERATIONS = frozenset(
    operation.view_func.__name__
    for path_view in router.path_operations.values()
    for operation in path_view.operations
)
