"""Phone confirmation through the public API, where a location asks for it: a code for a
phone, its confirmation, and a booking that needs a confirmed check of the same phone."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from navbat.booking import phone_checks
from navbat.booking.models import OnlineBooking, PhoneCheck

from .conftest import assert_error
from .public_helpers import ROOT, Public, booking_body, turn_on, written

pytestmark = pytest.mark.django_db

UNCONFIRMED = "Confirm your phone number with the code first."


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


@pytest.fixture
def public(client):
    return Public(client)


@pytest.fixture
def confirming(salon_a):
    return turn_on(salon_a, phone_confirmation=True)


def ask(public, salon, phone="+998 90 555 12 34"):
    return public.post(f"/{salon.location.public_slug}/phone-checks", {"phone": phone})


def confirm(public, salon, nonce, code):
    return public.post(
        f"/{salon.location.public_slug}/phone-checks/{nonce}/confirm", {"code": code}
    )


def test_a_code_is_asked_confirmed_and_booked_with(public, salon_a, confirming):
    before = timezone.now()
    response = ask(public, salon_a)
    assert response.status_code == 201, response.content
    check = PhoneCheck.objects.get()
    body = response.json()
    assert set(body) == {"phone_check", "expires_at"}
    assert body["phone_check"] == check.nonce
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() == timedelta(hours=5)
    assert abs(expires - check.expires_at) < timedelta(milliseconds=1)
    assert before + phone_checks.VALID_FOR <= check.expires_at
    assert (check.phone, check.location_id) == ("+998905551234", salon_a.location.pk)

    confirmed = confirm(public, salon_a, check.nonce, check.code)
    assert confirmed.status_code == 200
    assert confirmed.json() == {
        "phone_check": check.nonce,
        "phone": "+998905551234",
        "confirmed": True,
    }
    # The same phone in another notation books with the check.
    booking = public.post(
        f"/{salon_a.location.public_slug}/bookings",
        booking_body(salon_a, phone="998905551234", phone_check=check.nonce),
    )
    assert booking.status_code == 201, booking.content
    assert OnlineBooking.objects.get().phone_confirmed is True


def test_a_booking_needs_a_confirmed_check_of_the_same_phone(public, salon_a, confirming):
    slug = salon_a.location.public_slug
    unconfirmed = {"code": "phone_unconfirmed", "message": UNCONFIRMED}
    response = public.post(f"/{slug}/bookings", booking_body(salon_a))
    body = assert_error(response, 422, "phone_unconfirmed")
    assert body == {**unconfirmed, "details": {"phone": [UNCONFIRMED]}}
    # Asked but not confirmed.
    ask(public, salon_a)
    check = PhoneCheck.objects.get()
    before = written()
    response = public.post(f"/{slug}/bookings", booking_body(salon_a, phone_check=check.nonce))
    assert_error(response, 422, "phone_unconfirmed")
    confirm(public, salon_a, check.nonce, check.code)
    # Confirmed, for another phone.
    response = public.post(
        f"/{slug}/bookings",
        booking_body(salon_a, phone="+998905559999", phone_check=check.nonce),
    )
    assert_error(response, 422, "phone_unconfirmed")
    # An unknown nonce.
    response = public.post(f"/{slug}/bookings", booking_body(salon_a, phone_check="nope"))
    assert_error(response, 422, "phone_unconfirmed")
    assert written() == before


def test_a_wrong_code_is_refused_and_stays_counted(public, salon_a, confirming):
    ask(public, salon_a)
    check = PhoneCheck.objects.get()
    wrong = "000000" if check.code != "000000" else "111111"
    response = confirm(public, salon_a, check.nonce, wrong)
    message = "The code is not right."
    assert response.status_code == 422
    assert response.json() == {
        "code": "code_wrong",
        "message": message,
        "details": {"code": [message]},
    }
    check.refresh_from_db()
    assert (check.attempts, check.confirmed_at) == (1, None)
    for _ in range(phone_checks.MAX_ATTEMPTS - 1):
        assert_error(confirm(public, salon_a, check.nonce, wrong), 422, "code_wrong")
    # Out of tries: even the right code no longer confirms.
    assert_error(confirm(public, salon_a, check.nonce, check.code), 422, "code_tries")
    check.refresh_from_db()
    assert (check.attempts, check.confirmed_at) == (phone_checks.MAX_ATTEMPTS, None)


@pytest.mark.parametrize("nonce", ["unknown", "x" * 65, "%00", "a.b"])
def test_an_unknown_check_is_expired(public, salon_a, confirming, nonce):
    body = assert_error(confirm(public, salon_a, nonce, "123456"), 422, "code_expired")
    assert body["message"] == "The code has expired. Ask for a new one."


def test_an_old_check_is_expired(public, salon_a, confirming):
    ask(public, salon_a)
    check = PhoneCheck.objects.get()
    PhoneCheck.objects.filter(pk=check.pk).update(expires_at=timezone.now())
    assert_error(confirm(public, salon_a, check.nonce, check.code), 422, "code_expired")
    check.refresh_from_db()
    assert check.confirmed_at is None


def test_a_check_of_another_location_does_not_confirm_here(public, salon_a, salon_b, confirming):
    turn_on(salon_b, phone_confirmation=True)
    ask(public, salon_b)
    check = PhoneCheck.objects.get()
    assert_error(confirm(public, salon_a, check.nonce, check.code), 422, "code_expired")


def test_a_few_codes_an_hour_per_phone(public, salon_a, confirming):
    for _ in range(phone_checks.MAX_CODES_PER_PHONE_HOUR):
        assert ask(public, salon_a).status_code == 201
    before = written()
    response = ask(public, salon_a, phone="90 555 12 34")
    message = "Too many codes were asked for this phone. Try again in an hour."
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert response.json() == {
        "code": "too_many_codes",
        "message": message,
        "details": {"phone": [message]},
    }
    assert written() == before
    assert ask(public, salon_a, phone="+998905550000").status_code == 201


def test_no_code_where_the_salon_does_not_confirm_phones(public, salon_a):
    turn_on(salon_a)
    message = "This salon does not confirm phones with a code."
    response = ask(public, salon_a)
    assert response.json() == {
        "code": "invalid",
        "message": message,
        "details": {"phone": [message]},
    }
    assert PhoneCheck.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"phone": "12"}, 422, "phone"),
        ({"phone": ""}, 422, "phone"),
        ({}, 422, "phone"),
        ({"phone": "9" * 40}, 422, "phone"),
    ],
)
def test_bad_phones_are_422(public, salon_a, confirming, body, status, field):
    response = public.post(f"/{salon_a.location.public_slug}/phone-checks", body)
    assert list(assert_error(response, status, "invalid")["details"]) == [field]
    assert PhoneCheck.objects.count() == 0


def test_unknown_locations_and_closed_widgets_give_no_codes(public, salon_a):
    assert_error(ask(public, salon_a), 404, "not_found")
    response = public.post("/nowhere/phone-checks", {"phone": "+998905551234"})
    assert_error(response, 404, "not_found")
    assert_error(confirm(public, salon_a, "abc", "123456"), 404, "not_found")
    assert PhoneCheck.objects.count() == 0


def test_a_code_typed_in_other_digits_is_read_as_digits(public, salon_a, confirming):
    ask(public, salon_a)
    check = PhoneCheck.objects.get()
    # Superscripts are not decimal digits: a wrong code, not an error.
    assert_error(confirm(public, salon_a, check.nonce, "²" * 6), 422, "code_wrong")
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in check.code)
    response = confirm(public, salon_a, check.nonce, arabic_indic)
    assert response.status_code == 200, response.content
    check.refresh_from_db()
    assert (check.attempts, check.confirmed_at is not None) == (1, True)
