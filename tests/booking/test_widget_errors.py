"""Bad input on every step of the booking widget (F6): a clear error in the client's
language, never a 500, nothing stored; the honeypot; the limits per address and phone."""

import html
from datetime import time, timedelta

import pytest

from navbat.booking import limits
from navbat.booking.models import Appointment, OnlineBooking, PhoneCheck, Source
from navbat.kit.timeutil import local_today
from navbat.salons.models import Client, Location, Prepayment, Specialist
from navbat.salons.services import create_location, set_weekly_schedule
from tests.booking.widget_helpers import PHONE, TZ, day, pick, post_booking, turn_on_widget, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(salon_a):
    return turn_on_widget(salon_a)


def text(response) -> str:
    return html.unescape(response.content.decode())


def nothing_stored(salon):
    assert Appointment.objects.filter(business=salon.business, source=Source.ONLINE).count() == 0
    assert OnlineBooking.objects.count() == 0
    assert Client.objects.filter(business=salon.business).count() == 2


BAD_PICKS = [
    ({"s": "abc"}, "One of the services cannot be booked online."),
    ({"s": "0"}, "One of the services cannot be booked online."),
    ({"s": "9" * 13}, "One of the services cannot be booked online."),
    ({"s": "999999"}, "One of the services cannot be booked online."),
    ({"p": "abc"}, "This specialist does not take these services online here."),
    ({"p": "999999"}, "This specialist does not take these services online here."),
    ({"d": "2025-13-45"}, "Choose a day in the calendar."),
    ({"d": "tomorrow"}, "Choose a day in the calendar."),
    ({"m": "1999-01"}, "Choose a month in the calendar."),
    ({"t": "25:00"}, "Choose one of the times offered."),
    ({"t": "15:07"}, "This time is no longer free. Choose another time."),
    ({"t": "15:00", "d": "2000-01-01"}, "This time is no longer free. Choose another time."),
]


@pytest.mark.parametrize(("change", "message"), BAD_PICKS)
@pytest.mark.parametrize("step", ["specialist", "day", "time", "details"])
def test_a_bad_address_is_said_and_never_a_500(client, salon_a, widget, step, change, message):
    params = {**pick(salon_a), **change}
    response = client.get(url(salon_a, step, **params))
    assert response.status_code in (200, 302, 400), response.status_code
    if response.status_code == 400:
        assert message in text(response)
    nothing_stored(salon_a)


@pytest.mark.parametrize(("change", "message"), BAD_PICKS)
def test_a_bad_booking_is_said_and_stores_nothing(client, salon_a, widget, change, message):
    data = {**pick(salon_a), **change}
    response = client.post(url(salon_a, "details"), {**data, "name": "Dilnoza", "phone": PHONE})
    if "m" in change:
        # The month is only what the calendar showed: a booking does not depend on it.
        assert response.status_code == 303
        return
    assert response.status_code in (302, 400, 409), response.status_code
    if response.status_code != 302:
        assert message in text(response)
    nothing_stored(salon_a)


def test_another_businesss_service_or_specialist_is_refused(client, salon_a, salon_b, widget):
    foreign = {**pick(salon_a), "s": [salon_b.services[0].pk]}
    response = client.get(url(salon_a, "specialist", **foreign))
    assert response.status_code == 400
    assert "One of the services cannot be booked online." in text(response)
    theirs = {**pick(salon_a), "p": salon_b.specialists[0].pk}
    for step in ("day", "time", "details"):
        response = client.get(url(salon_a, step, **theirs))
        assert response.status_code == 400
        assert "This specialist does not take these services online here." in text(response)
    booked = post_booking(client, salon_a, specialist=salon_b.specialists[0].pk)
    assert booked.status_code == 400
    nothing_stored(salon_a)


def test_another_locations_specialist_is_refused(client, salon_a, widget):
    other = create_location(business=salon_a.business, name="Chilonzor", address="Chilonzor 1")
    there = Specialist.objects.create(business=salon_a.business, location=other, name="Elsewhere")
    there.services.set(salon_a.services)
    set_weekly_schedule(specialist=there, week={d: (time(9), time(20)) for d in range(7)})
    response = post_booking(client, salon_a, specialist=there.pk)
    assert response.status_code == 400
    assert "This specialist does not take these services online here." in text(response)
    assert Location.objects.filter(business=salon_a.business).count() == 2
    nothing_stored(salon_a)


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required."),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "x" * 151}, "name", "Ensure this value has at most 150 characters"),
        ({"phone": "12"}, "phone", "Enter a valid phone number, for example +998 90 123 45 67."),
        ({"phone": "90 ABC 12 34"}, "phone", "Enter a valid phone number"),
        ({"phone": "9" * 40}, "phone", "Ensure this value has at most 32 characters"),
        ({"comment": "x" * 1001}, "comment", "Ensure this value has at most 1000 characters"),
    ],
)
def test_bad_details_are_said_beside_their_field(client, salon_a, widget, fields, field, message):
    response = post_booking(client, salon_a, fields=fields)
    assert response.status_code == 400
    body = text(response)
    assert f'<p class="field-error" id="error-{field}">' in body
    assert message in body
    # What was typed comes back (but never the honeypot).
    if field != "name":
        assert 'value="Dilnoza Karimova"' in body
    nothing_stored(salon_a)


def test_the_salons_terms_must_be_accepted(client, salon_a, widget):
    widget.terms = "Come 10 minutes early.\nNo pets."
    widget.save()
    page = text(client.get(url(salon_a, "details", **pick(salon_a))))
    assert "Come 10 minutes early.<br>No pets." in page
    refused = post_booking(client, salon_a)
    assert refused.status_code == 400
    assert '<p class="field-error" id="error-terms">Accept the salon\'s terms to book.</p>' in text(
        refused
    )
    nothing_stored(salon_a)
    accepted = post_booking(client, salon_a, fields={"terms": "on"})
    assert accepted.status_code == 303
    assert OnlineBooking.objects.get().terms_accepted_at is not None


def test_the_honeypot_refuses_quietly_and_stores_nothing(client, salon_a, widget):
    response = post_booking(client, salon_a, fields={"website": "http://spam.example"})
    assert response.status_code == 400
    body = text(response)
    assert "The booking could not be made. Please try again." in body
    assert "spam.example" not in body and "Dilnoza" not in body
    nothing_stored(salon_a)


def test_a_huge_body_is_refused_before_any_view(client, salon_a, widget, settings):
    settings.NAVBAT_MAX_REQUEST_BYTES = 10_000
    response = post_booking(client, salon_a, fields={"comment": "x" * 20_000})
    assert response.status_code == 413
    nothing_stored(salon_a)


def test_a_flood_of_reads_gets_the_too_many_page(client, salon_a, widget, monkeypatch):
    monkeypatch.setattr(limits, "READ", limits.Budget(per_address=3, per_phone=0, window=60))
    for _ in range(3):
        assert client.get(url(salon_a)).status_code == 200
    refused = client.get(url(salon_a, lang="ru"))
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert '<html lang="ru">' in text(refused)
    assert 'id="too-many"' in text(refused)
    # Unknown places count together (a scan of slugs is a flood like any other), apart
    # from the salon's own visitors.
    for guess in ("no-such-salon", "nor-this-one", "nor-that-one"):
        assert client.get(f"/book/{guess}/").status_code == 404
    assert client.get("/book/still-guessing/").status_code == 429


def test_bookings_per_phone_are_limited(client, salon_a, widget, monkeypatch):
    monkeypatch.setattr(limits, "WRITE", limits.Budget(per_address=100, per_phone=2, window=3600))
    assert post_booking(client, salon_a, at="10:00").status_code == 303
    assert post_booking(client, salon_a, at="12:00").status_code == 303
    refused = post_booking(client, salon_a, at="14:00")
    assert refused.status_code == 429
    assert OnlineBooking.objects.count() == 2
    # Another phone from the same address is not held back.
    other = post_booking(client, salon_a, at="14:00", fields={"phone": "+998 90 555 12 35"})
    assert other.status_code == 303


def test_unpaid_holds_per_phone_are_capped(client, salon_a, widget, connect_uzum):
    connect_uzum(salon_a)
    service = salon_a.services[0]
    service.prepayment = Prepayment.REQUIRED
    service.save()
    for hour in ("10:00", "12:00", "14:00"):
        assert post_booking(client, salon_a, services=[service], at=hour).status_code == 303
    refused = post_booking(client, salon_a, services=[service], at="16:00")
    assert refused.status_code == 429
    assert "This phone has unpaid bookings waiting. Pay or cancel one of them first." in text(
        refused
    )
    assert OnlineBooking.objects.count() == 3


def test_a_time_taken_meanwhile_sends_back_to_the_times(client, salon_a, widget):
    specialist = salon_a.specialists[0]
    page = client.get(url(salon_a, "details", **pick(salon_a, specialist=specialist.pk)))
    assert page.status_code == 200
    salon_a.book(specialist=specialist, hour=15, days=2)
    response = post_booking(client, salon_a, specialist=specialist.pk)
    assert response.status_code == 409
    body = text(response)
    assert "This time is no longer free. Choose another time." in body
    assert 'data-step="time"' in body
    assert 'data-time="15:00"' not in body
    nothing_stored(salon_a)


def test_a_past_day_offers_nothing(client, salon_a, widget):
    yesterday = local_today(TZ) - timedelta(days=1)
    response = client.get(url(salon_a, "time", **{**pick(salon_a), "d": yesterday.isoformat()}))
    assert response.status_code == 200
    assert 'id="no-times"' in text(response)


def test_unknown_methods_are_refused(client, salon_a, widget):
    assert client.post(url(salon_a)).status_code == 405
    assert client.put(url(salon_a, "details")).status_code == 405
    assert client.delete(f"/book/b/{'x' * 43}/").status_code == 405
    assert PhoneCheck.objects.count() == 0
    assert day(2) > local_today(TZ)


def test_the_count_is_kept_apart_from_the_pages_own_transaction(
    client, salon_a, widget, monkeypatch
):
    """The counter is written in its own statement (a shared address's row is not locked
    for a whole request); a post's own writes are all or nothing."""
    from navbat.booking import online
    from navbat.kit.models import PublicCounter

    def broken(**_fields):
        PhoneCheck.objects.create(
            business=salon_a.business,
            location=salon_a.location,
            phone="+998905551234",
            code="123456",
            nonce="n" * 40,
            expires_at=salon_a.at(10),
        )
        raise RuntimeError("a bug after a write")

    monkeypatch.setattr(online, "book_online", broken)
    with pytest.raises(RuntimeError):
        post_booking(client, salon_a)
    assert PhoneCheck.objects.count() == 0
    slug = salon_a.location.public_slug
    assert PublicCounter.objects.get(key=f"book:book:{slug}:ip:127.0.0.1").count == 1


def test_the_honeypot_asks_no_code(client, salon_a, widget):
    widget.phone_confirmation = True
    widget.save()
    response = post_booking(client, salon_a, fields={"action": "code", "website": "x"})
    assert response.status_code == 400
    assert PhoneCheck.objects.count() == 0
