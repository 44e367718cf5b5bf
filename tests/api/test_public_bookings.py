"""Booking through the public API: what a booking answers (nothing asked, a required or an
optional prepayment), the refusals with their exact bodies, and that a refusal stores
nothing."""

import json
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from navbat.booking.models import Appointment, OnlineBooking, Source, Status
from navbat.payments.models import PaymentLink
from navbat.salons.models import Prepayment, PrepaymentAmount, Specialist
from navbat.salons.services import create_location

from .conftest import assert_error
from .public_helpers import ROOT, Public, booking_body, local_iso, turn_on, written

pytestmark = pytest.mark.django_db

TAKEN = {
    "code": "slot_taken",
    "message": "This time has just been taken. Choose another time.",
    "details": None,
}


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


@pytest.fixture
def public(client):
    return Public(client)


@pytest.fixture
def on_a(salon_a):
    return turn_on(salon_a)


def book(public, salon, **fields):
    return public.post(f"/{salon.location.public_slug}/bookings", booking_body(salon, **fields))


def invalid(response, field: str, message: str) -> None:
    body = assert_error(response, 422, "invalid")
    assert body == {"code": "invalid", "message": message, "details": {field: [message]}}


def require_thirty_percent(service) -> None:
    service.prepayment = Prepayment.REQUIRED
    service.prepayment_amount = PrepaymentAmount.PERCENT
    service.prepayment_value = 30
    service.save()


# ---- booked ---------------------------------------------------------------------------------


def test_an_offered_time_is_booked_with_nothing_asked(public, salon_a, on_a):
    response = book(public, salon_a)
    assert response.status_code == 201, response.content
    online = OnlineBooking.objects.get()
    appointment = online.appointment
    assert response.json() == {
        "id": appointment.pk,
        "status": "booked",
        "start": local_iso(salon_a, 15),
        "end": local_iso(salon_a, 16),
        "specialist": salon_a.specialists[0].pk,
        "specialist_name": "Specialist A0",
        "services": [{"id": salon_a.services[0].pk, "name": "Haircut A"}],
        "total": 10_000_000,
        "hold_until": None,
        "prepayment": {"amount": 0, "required": False},
        "payment_url": None,
        "manage_url": f"{ROOT}/book/b/{online.manage_token}/",
    }
    assert appointment.source == Source.ONLINE
    assert appointment.comment == "Window seat"
    assert appointment.client.phone == "+998905551234"
    assert appointment.client.name == "Dilnoza Karimova"
    assert online.language == "en"
    assert PaymentLink.objects.count() == 0


def test_any_specialist_and_several_services_in_the_order_chosen(public, salon_a, on_a):
    haircut, colouring = salon_a.services
    salon_a.book(specialist=salon_a.specialists[0], hour=15, days=2)
    response = book(public, salon_a, services=[colouring.pk, haircut.pk], specialist=None)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["specialist"] == salon_a.specialists[1].pk
    assert (body["start"], body["end"]) == (local_iso(salon_a, 15), local_iso(salon_a, 16, 30))
    assert body["services"] == [
        {"id": colouring.pk, "name": "Colouring A"},
        {"id": haircut.pk, "name": "Haircut A"},
    ]
    assert body["total"] == 30_000_000


def test_a_required_prepayment_holds_the_time_and_gives_the_payment_page(
    public, salon_a, on_a, connect_uzum
):
    connect_uzum(salon_a)
    require_thirty_percent(salon_a.services[0])
    before = timezone.now()
    response = book(public, salon_a)
    assert response.status_code == 201, response.content
    appointment = Appointment.objects.get(source=Source.ONLINE)
    link = PaymentLink.objects.get(payable_id=appointment.pk)
    body = response.json()
    assert appointment.status == Status.AWAITING_PAYMENT
    assert before + timedelta(minutes=15) <= appointment.hold_until
    assert appointment.hold_until <= timezone.now() + timedelta(minutes=15)
    assert body["status"] == "awaiting_payment"
    hold_until = datetime.fromisoformat(body["hold_until"])
    assert hold_until.utcoffset() == timedelta(hours=5)
    assert abs(hold_until - appointment.hold_until) < timedelta(milliseconds=1)
    assert body["prepayment"] == {"amount": 3_000_000, "required": True}
    assert body["payment_url"] == f"{ROOT}/pay/{link.token}"


def test_an_optional_prepayment_books_at_once_and_offers_to_pay(
    public, salon_a, on_a, connect_uzum
):
    connect_uzum(salon_a)
    haircut = salon_a.services[0]
    haircut.prepayment = Prepayment.OPTIONAL
    haircut.save()
    response = book(public, salon_a)
    assert response.status_code == 201, response.content
    link = PaymentLink.objects.get()
    body = response.json()
    assert body["status"] == "booked"
    assert body["hold_until"] is None
    assert body["prepayment"] == {"amount": 10_000_000, "required": False}
    assert body["payment_url"] == f"{ROOT}/pay/{link.token}"


def test_the_booking_keeps_the_clients_language(client, salon_a, on_a):
    response = book(Public(client, "ru"), salon_a)
    assert response.status_code == 201
    assert response["Content-Language"] == "ru"
    assert OnlineBooking.objects.get().language == "ru"


# ---- refused, and nothing stored ------------------------------------------------------------


def test_a_time_taken_meanwhile_is_409_slot_taken(public, salon_a, on_a):
    assert book(public, salon_a).status_code == 201
    before = written()
    response = book(public, salon_a, phone="+998 90 555 00 01", name="Other")
    assert response.status_code == 409
    assert response.json() == TAKEN
    assert written() == before


@pytest.mark.parametrize(
    ("hour", "minute", "days"),
    [(3, 0, 2), (15, 7, 2), (19, 30, 2), (21, 0, 2), (15, 0, 90)],
    ids=["before-hours", "off-step", "runs-past-closing", "after-hours", "past-horizon"],
)
def test_a_time_not_offered_is_409_slot_taken(public, salon_a, on_a, hour, minute, days):
    before = written()
    response = book(public, salon_a, start=salon_a.at(hour, minute, days).isoformat())
    assert response.status_code == 409
    assert response.json() == TAKEN
    assert written() == before


def test_a_past_time_is_422(public, salon_a, on_a):
    before = written()
    past = (timezone.now() - timedelta(hours=1)).replace(microsecond=0)
    invalid(
        book(public, salon_a, start=past.isoformat()),
        "start",
        "This time has passed. Choose another time.",
    )
    assert written() == before


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"services": [999_999_999]}, "services", "One of the services cannot be booked online."),
        ({"phone": "12"}, "phone", "Enter a valid phone number, for example +998 90 123 45 67."),
        ({"phone": "+998 90 ABC"}, "phone", None),
        ({"name": "   "}, "name", None),
        ({"name": "x" * 151}, "name", "The name is too long."),
        ({"comment": "x" * 1001}, "comment", "The comment is too long (at most 1000 characters)."),
        ({"specialist": 999_999_999}, "specialist", None),
    ],
)
def test_bad_input_is_422_and_stores_nothing(public, salon_a, on_a, fields, field, message):
    before = written()
    body = assert_error(book(public, salon_a, **fields), 422, "invalid")
    assert list(body["details"]) == [field]
    if message is not None:
        assert body["message"] == message
        assert body["details"] == {field: [message]}
    assert written() == before


@pytest.mark.parametrize(
    "fields",
    [
        {"services": []},
        {"services": "1"},
        {"services": [0]},
        {"start": "2025-03-03T15:00:00"},  # no offset
        {"start": "soon"},
        {"name": "x" * 301},
        {"phone": "9" * 33},
        {"comment": "x" * 2001},
        {"name": "Nul\x00l"},
        {"terms_accepted": "maybe"},
        {"phone_check": ""},
    ],
)
def test_what_the_schema_refuses_is_422(public, salon_a, on_a, fields):
    before = written()
    body = assert_error(book(public, salon_a, **fields), 422, "invalid")
    assert [key.split(".")[0] for key in body["details"]] == list(fields)
    assert written() == before


def test_another_business_or_location_is_never_booked_through_a_slug(
    public, salon_a, salon_b, on_a
):
    turn_on(salon_b)
    elsewhere = create_location(business=salon_a.business, name="Yunusobod", address="Tashkent")
    stranger = Specialist.objects.create(
        business=salon_a.business, location=elsewhere, name="Elsewhere"
    )
    stranger.services.set(salon_a.services)
    before = written()
    for fields in (
        {"services": [salon_b.services[0].pk]},
        {"specialist": salon_b.specialists[0].pk},
        {"specialist": stranger.pk},
    ):
        assert_error(book(public, salon_a, **fields), 422, "invalid")
    # A's services at B's slug.
    response = public.post(
        f"/{salon_b.location.public_slug}/bookings",
        booking_body(salon_a, specialist=None),
    )
    assert_error(response, 422, "invalid")
    assert written() == before


def test_errors_speak_the_clients_language(client, salon_a, on_a):
    response = book(Public(client, "ru"), salon_a, phone="12")
    body = assert_error(response, 422, "invalid")
    assert body["message"] == "Введите правильный номер телефона, например +998 90 123 45 67."
    uz = assert_error(
        Public(client, "uz").post("/nowhere/bookings", booking_body(salon_a)), 404, "not_found"
    )
    assert uz["message"] == "Topilmadi."


def test_the_salons_terms_must_be_accepted_where_there_are_any(public, salon_a):
    turn_on(salon_a, terms="Come on time.")
    invalid(book(public, salon_a), "terms", "Accept the salon's terms to book.")
    assert OnlineBooking.objects.count() == 0
    response = book(public, salon_a, terms_accepted=True)
    assert response.status_code == 201
    assert OnlineBooking.objects.get().terms_accepted_at is not None


def test_a_phone_holds_only_a_few_unpaid_bookings(public, salon_a, on_a, connect_uzum):
    connect_uzum(salon_a)
    require_thirty_percent(salon_a.services[0])
    for hour in (10, 12, 14):
        assert book(public, salon_a, start=local_iso(salon_a, hour)).status_code == 201
    before = written()
    response = book(public, salon_a, start=local_iso(salon_a, 16), phone="+998905551234")
    body = assert_error(response, 409, "too_many_holds")
    message = "This phone has unpaid bookings waiting. Pay or cancel one of them first."
    assert body == {"code": "too_many_holds", "message": message, "details": {"phone": [message]}}
    assert written() == before
    # Another phone books that time.
    other = book(public, salon_a, start=local_iso(salon_a, 16), phone="+998905550000")
    assert other.status_code == 201


def test_an_unknown_location_or_a_widget_turned_off_is_404(public, salon_a):
    before = written()
    assert_error(book(public, salon_a), 404, "not_found")
    turn_on(salon_a, enabled=False)
    assert_error(book(public, salon_a), 404, "not_found")
    response = public.post("/no-such-place/bookings", booking_body(salon_a))
    assert_error(response, 404, "not_found")
    assert written() == before


# ---- bodies that are not bookings -----------------------------------------------------------


def test_a_huge_body_is_413_and_stores_nothing(public, salon_a, on_a):
    before = written()
    huge = json.dumps(booking_body(salon_a, comment="x" * (2 * 1024 * 1024)))
    response = public.post(f"/{salon_a.location.public_slug}/bookings", raw=huge)
    assert response.status_code == 413
    assert response.json() == {
        "code": "too_large",
        "message": "The request is too large.",
        "details": None,
    }
    assert written() == before


@pytest.mark.parametrize("raw", ["{", "[]", '"text"', "null", "{" * 5000 + "}" * 5000, "\xff"])
def test_a_body_that_is_not_a_booking_is_refused_without_a_500(public, salon_a, on_a, raw):
    before = written()
    response = public.post(f"/{salon_a.location.public_slug}/bookings", raw=raw)
    assert response.status_code in (400, 422), response.content
    assert set(response.json()) == {"code", "message", "details"}
    assert written() == before


def test_a_wrong_method_is_a_json_405(public, salon_a, on_a):
    response = public.send("PUT", f"/{salon_a.location.public_slug}/bookings", {})
    body = assert_error(response, 405, "method_not_allowed")
    assert body["message"] == "Use one of: POST."
