"""The widget's phone code (F6), where the salon turns phone confirmation on: a code asked
for the typed phone (the salon reads it out until navbat sends messages), typed back, and
the booking made with that phone only."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from navbat.booking import limits
from navbat.booking.models import OnlineBooking, PhoneCheck
from tests.booking.widget_helpers import PHONE, pick, post_booking, turn_on_widget, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(salon_a):
    return turn_on_widget(salon_a)


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def confirming(widget):
    widget.phone_confirmation = True
    widget.save()
    return widget


def ask(client, salon, phone=PHONE):
    return post_booking(client, salon, fields={"action": "code", "phone": phone})


def nonce_of(response) -> str:
    return re.search(r'name="phone_check" value="([^"]+)"', text(response))[1]


def test_booking_without_the_code_is_refused(client, salon_a, confirming):
    page = text(client.get(url(salon_a, "details", **pick(salon_a))))
    assert 'id="send-code"' in page and "Get a code" in page
    refused = post_booking(client, salon_a)
    assert refused.status_code == 400
    assert "Confirm your phone number with the code first." in text(refused)
    assert OnlineBooking.objects.count() == 0


def test_the_code_confirms_the_phone_and_the_booking_goes_through(client, salon_a, confirming):
    asked = ask(client, salon_a)
    assert asked.status_code == 200
    check = PhoneCheck.objects.get()
    assert (check.phone, check.location_id, check.business_id) == (
        "+998905551234",
        salon_a.location.pk,
        salon_a.business.pk,
    )
    body = text(asked)
    assert nonce_of(asked) == check.nonce
    assert "The salon will tell it to you" in body
    assert check.code not in body  # the code is the salon's to tell
    assert 'value="Dilnoza Karimova"' in body  # what was typed stays

    wrong_code = "111111" if check.code != "111111" else "222222"
    wrong = post_booking(
        client,
        salon_a,
        fields={"action": "confirm", "phone_check": check.nonce, "code": wrong_code},
    )
    assert wrong.status_code == 400
    assert "The code is not right." in text(wrong)
    check.refresh_from_db()
    assert check.attempts == 1 and check.confirmed_at is None

    right = post_booking(
        client,
        salon_a,
        fields={"action": "confirm", "phone_check": check.nonce, "code": check.code},
    )
    assert right.status_code == 200
    assert "+998 90 555 12 34 is confirmed." in text(right)
    assert 'id="send-code"' not in text(right)

    booked = post_booking(client, salon_a, fields={"phone_check": check.nonce})
    assert booked.status_code == 303
    assert OnlineBooking.objects.get().phone_confirmed is True


def test_a_code_proves_only_its_own_phone(client, salon_a, confirming):
    ask(client, salon_a)
    check = PhoneCheck.objects.get()
    post_booking(
        client,
        salon_a,
        fields={"action": "confirm", "phone_check": check.nonce, "code": check.code},
    )
    other = post_booking(
        client, salon_a, fields={"phone_check": check.nonce, "phone": "+998905551299"}
    )
    assert other.status_code == 400
    assert "Confirm your phone number with the code first." in text(other)
    assert OnlineBooking.objects.count() == 0


def test_an_expired_code_is_said(client, salon_a, confirming):
    ask(client, salon_a)
    check = PhoneCheck.objects.get()
    PhoneCheck.objects.filter(pk=check.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = post_booking(
        client,
        salon_a,
        fields={"action": "confirm", "phone_check": check.nonce, "code": check.code},
    )
    assert response.status_code == 400
    assert "The code has expired. Ask for a new one." in text(response)


def test_a_bad_phone_gets_no_code(client, salon_a, confirming):
    response = ask(client, salon_a, phone="12")
    assert response.status_code == 400
    assert "Enter a valid phone number, for example +998 90 123 45 67." in text(response)
    assert PhoneCheck.objects.count() == 0


def test_codes_per_phone_are_limited(client, salon_a, confirming, monkeypatch):
    for _ in range(3):
        assert ask(client, salon_a).status_code == 200
    refused = ask(client, salon_a)
    assert refused.status_code == 429
    assert "Too many codes were asked for this phone. Try again in an hour." in text(refused)
    assert PhoneCheck.objects.count() == 3
    monkeypatch.setattr(limits, "WRITE", limits.Budget(per_address=100, per_phone=1, window=60))
    flooded = ask(client, salon_a, phone="+998905551200")
    assert flooded.status_code == 200
    assert ask(client, salon_a, phone="+998905551200").status_code == 429
    assert PhoneCheck.objects.count() == 4
