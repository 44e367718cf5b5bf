"""The public booking API as a whole: no token, its limits (429 with Retry-After, counted
even when the request is refused), calls from other sites (CORS), the OpenAPI document,
and the locations' public slug and widget address in the token API."""

import pytest

from navbat.booking import limits
from navbat.booking.models import OnlineBooking
from navbat.kit.models import PublicCounter

from .conftest import BASE, assert_error
from .public_helpers import ROOT, Public, booking_body, day, turn_on, written

pytestmark = pytest.mark.django_db

TOO_MANY = {
    "code": "too_many",
    "message": "Too many requests. Try again in a few minutes.",
    "details": None,
}
PUBLIC_ROUTES = [
    ("GET", "/api/v1/public/{location}/services"),
    ("GET", "/api/v1/public/{location}/specialists"),
    ("GET", "/api/v1/public/{location}/days"),
    ("GET", "/api/v1/public/{location}/times"),
    ("POST", "/api/v1/public/{location}/phone-checks"),
    ("POST", "/api/v1/public/{location}/phone-checks/{nonce}/confirm"),
    ("POST", "/api/v1/public/{location}/bookings"),
    ("GET", "/api/v1/public/bookings/{token}"),
    ("DELETE", "/api/v1/public/bookings/{token}"),
]


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


@pytest.fixture
def public(client):
    return Public(client)


def too_many(response) -> int:
    assert response.status_code == 429, response.content
    assert response.json() == TOO_MANY
    retry_after = int(response["Retry-After"])
    return retry_after


# ---- limits ---------------------------------------------------------------------------------


def test_reads_past_the_limit_are_429_with_retry_after(public, salon_a, monkeypatch):
    turn_on(salon_a)
    monkeypatch.setattr(limits, "READ", limits.Budget(per_address=3, per_phone=0, window=60))
    path = f"/{salon_a.location.public_slug}/services"
    for _ in range(3):
        assert public.get(path).status_code == 200
    assert 1 <= too_many(public.get(path)) <= 60
    # Each location counts its own; unknown ones count together: a flood of guesses is a
    # flood, whatever it guesses.
    for guess in ("nowhere", "nowhere-else", "nor-here"):
        assert public.get(f"/{guess}/services").status_code == 404
    assert 1 <= too_many(public.get("/elsewhere/services")) <= 60
    # Another address is not held back by this one.
    other = public.get(path, headers={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_bookings_are_limited_per_phone_and_refusals_count(public, salon_a, monkeypatch):
    turn_on(salon_a)
    monkeypatch.setattr(limits, "WRITE", limits.Budget(per_address=100, per_phone=2, window=3600))
    slug = salon_a.location.public_slug
    # Two refused bookings (a time not offered) of one phone, in two notations.
    for phone in ("+998 90 555 12 34", "90 555-12-34"):
        body = booking_body(salon_a, phone=phone, start=salon_a.at(3, 0, days=2).isoformat())
        assert_error(public.post(f"/{slug}/bookings", body), 409, "slot_taken")
    before = written()
    retry_after = too_many(public.post(f"/{slug}/bookings", booking_body(salon_a)))
    assert 1 <= retry_after <= 3600
    assert written() == before
    # Another phone from the same address books.
    other = public.post(f"/{slug}/bookings", booking_body(salon_a, phone="+998905550000"))
    assert other.status_code == 201
    assert PublicCounter.objects.filter(key="book:book:phone:+998905551234").get().count == 3


def test_bookings_are_limited_per_address(public, salon_a, monkeypatch):
    turn_on(salon_a)
    monkeypatch.setattr(limits, "WRITE", limits.Budget(per_address=1, per_phone=10, window=3600))
    slug = salon_a.location.public_slug
    assert public.post(f"/{slug}/bookings", booking_body(salon_a)).status_code == 201
    body = booking_body(salon_a, phone="+998905550000", start=salon_a.at(17, days=2).isoformat())
    too_many(public.post(f"/{slug}/bookings", body))
    assert OnlineBooking.objects.count() == 1


def test_a_cancellation_past_the_limit_changes_nothing(public, salon_a, monkeypatch):
    turn_on(salon_a)
    response = public.post(f"/{salon_a.location.public_slug}/bookings", booking_body(salon_a))
    token = OnlineBooking.objects.get(appointment_id=response.json()["id"]).manage_token
    monkeypatch.setattr(limits, "WRITE", limits.Budget(per_address=0, per_phone=0, window=3600))
    too_many(public.delete(f"/bookings/{token}"))
    assert OnlineBooking.objects.get().cancelled_by == ""


def test_an_honest_client_on_a_shared_address_is_not_held_back(public, salon_a):
    """The default budgets: a widget's worth of reads and a few bookings from one address
    (a whole mobile network can share it) all pass."""
    turn_on(salon_a)
    slug = salon_a.location.public_slug
    params = {"services": salon_a.services[0].pk, "date": day(2)}
    for _ in range(40):
        assert public.get(f"/{slug}/times", params).status_code == 200
    for index in range(5):
        body = booking_body(
            salon_a, phone=f"+99890555000{index}", start=salon_a.at(10 + index, days=2).isoformat()
        )
        assert public.post(f"/{slug}/bookings", body).status_code == 201


# ---- no token, other sites ------------------------------------------------------------------


def test_no_token_is_needed_and_a_bad_one_is_ignored(public, salon_a):
    turn_on(salon_a)
    path = f"/{salon_a.location.public_slug}/services"
    for authorization in ("", "Bearer nbt_not-a-real-token", "Basic dXNlcjpwYXNz"):
        response = public.get(path, headers={"HTTP_AUTHORIZATION": authorization})
        assert response.status_code == 200, authorization


def test_any_site_may_call_it_without_credentials(public, salon_a):
    turn_on(salon_a)
    path = f"/{salon_a.location.public_slug}/bookings"
    preflight = public.send(
        "OPTIONS",
        path,
        headers={
            "HTTP_ORIGIN": "https://salon.example",
            "HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
        },
    )
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert preflight["Access-Control-Allow-Methods"] == "GET, POST, DELETE, OPTIONS"
    assert preflight["Access-Control-Allow-Headers"] == "Content-Type, Accept-Language"
    assert "Access-Control-Allow-Credentials" not in preflight
    booked = public.post(path, booking_body(salon_a), headers={"HTTP_ORIGIN": "https://x.example"})
    assert booked.status_code == 201
    assert booked["Access-Control-Allow-Origin"] == "*"
    assert booked["Access-Control-Expose-Headers"] == "Retry-After"
    refused = public.get("/nowhere/services")
    assert refused["Access-Control-Allow-Origin"] == "*"


def test_the_token_api_is_not_opened_to_other_sites(client, salon_a):
    response = client.options(BASE + "/locations", HTTP_AUTHORIZATION=f"Bearer {salon_a.api_token}")
    assert "Access-Control-Allow-Origin" not in response


# ---- the OpenAPI document -------------------------------------------------------------------


def test_the_document_lists_the_public_operations_without_security(client):
    document = client.get(BASE + "/openapi.json").json()
    found = sorted(
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if "public booking" in operation.get("tags", [])
    )
    assert found == sorted(PUBLIC_ROUTES)
    for method, path in PUBLIC_ROUTES:
        operation = document["paths"][path][method.lower()]
        assert "security" not in operation, path
        assert operation["description"], path
        assert "429" in operation["responses"], path
    secured = document["paths"]["/api/v1/locations"]["get"]
    assert secured["security"] == [{"BusinessToken": []}]


def test_the_document_gives_examples(client):
    document = client.get(BASE + "/openapi.json").json()
    schemas = document["components"]["schemas"]
    for name in (
        "ServicesOut",
        "BookingIn",
        "BookingOut",
        "ManagedBookingOut",
        "CancelledBookingOut",
    ):
        assert schemas[name]["examples"], name
    booking_in = schemas["BookingIn"]["examples"][0]
    assert set(booking_in) == set(schemas["BookingIn"]["properties"])
    booking_out = schemas["BookingOut"]["examples"][0]
    assert set(booking_out) == set(schemas["BookingOut"]["properties"])
    cancelled = schemas["CancelledBookingOut"]["examples"][0]
    assert set(cancelled) == set(schemas["CancelledBookingOut"]["properties"])
    days = document["paths"]["/api/v1/public/{location}/days"]["get"]
    assert [p["name"] for p in days["parameters"]] == [
        "location",
        "services",
        "specialist",
        "from",
        "to",
    ]
    assert document["paths"]["/api/v1/public/{location}/times"]["get"]["responses"]["200"]


# ---- locations in the token API -------------------------------------------------------------


def test_locations_give_their_public_slug_and_widget(client, salon_a):
    from .conftest import Api

    api = Api(client, salon_a.api_token)
    location = salon_a.location
    assert location.public_slug == "salon-a-location-a"
    one = api.get(f"/locations/{location.pk}").json()
    assert (one["public_slug"], one["widget_url"], one["online_booking"]) == (
        "salon-a-location-a",
        f"{ROOT}/book/salon-a-location-a/",
        False,
    )
    turn_on(salon_a)
    assert api.get("/locations").json()["items"][0]["online_booking"] is True
    assert api.get(f"/locations/{location.pk}").json()["online_booking"] is True
