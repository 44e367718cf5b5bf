"""Clients: search, pagination, read, create, update, and refused input."""

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from navbat.salons.models import Client

from .conftest import assert_error, counts


def iso(moment) -> str:
    return DjangoJSONEncoder().default(moment)


def client_json(client: Client) -> dict:
    client.refresh_from_db()
    return {
        "id": client.pk,
        "name": client.name,
        "phone": client.phone,
        "email": client.email,
        "preferred_language": client.preferred_language,
        "notes": client.notes,
        "created_at": iso(client.created_at),
    }


def test_list_and_read(api_a, salon_a):
    first, second = salon_a.clients
    assert api_a.get("/clients").json() == {
        "count": 2,
        "limit": 50,
        "offset": 0,
        "items": [client_json(first), client_json(second)],
    }
    response = api_a.get(f"/clients/{first.pk}")
    assert response.status_code == 200
    assert response.json() == {
        "id": first.pk,
        "name": "Client A0",
        "phone": "+998901000000",
        "email": "",
        "preferred_language": "uz",
        "notes": "",
        "created_at": iso(first.created_at),
    }


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("A1", ["Client A1"]),
        ("client a", ["Client A0", "Client A1"]),
        ("901000001", ["Client A1"]),
        ("+998 90 100 00 00", ["Client A0"]),
        ("nobody", []),
        ("", ["Client A0", "Client A1"]),
    ],
)
def test_search(api_a, salon_a, search, names):
    body = api_a.get("/clients", {"search": search}).json()
    assert [row["name"] for row in body["items"]] == names
    assert body["count"] == len(names)


def test_search_never_shows_another_business(api_a, salon_a, salon_b):
    body = api_a.get("/clients", {"search": "Client B"}).json()
    assert body == {"count": 0, "limit": 50, "offset": 0, "items": []}


def test_search_too_long_is_refused(api_a):
    assert_error(api_a.get("/clients", {"search": "x" * 101}), 422, "invalid")


def test_pages_of_clients(api_a, salon_a):
    body = api_a.get("/clients", {"limit": 1, "offset": 1}).json()
    assert body["count"] == 2
    assert [row["name"] for row in body["items"]] == ["Client A1"]


def test_create(api_a, salon_a):
    before = Client.objects.count()
    response = api_a.post(
        "/clients",
        {
            "name": "  Dilnoza Karimova ",
            "phone": "90 123 45 67",
            "email": "dilnoza@example.uz",
            "preferred_language": "ru",
            "notes": "Prefers mornings",
        },
    )
    assert response.status_code == 201, response.content
    created = Client.objects.get(pk=response.json()["id"])
    assert created.business_id == salon_a.business.pk
    assert response.json() == {
        "id": created.pk,
        "name": "Dilnoza Karimova",
        "phone": "+998901234567",
        "email": "dilnoza@example.uz",
        "preferred_language": "ru",
        "notes": "Prefers mornings",
        "created_at": iso(created.created_at),
    }
    assert Client.objects.count() == before + 1


def test_create_with_only_name_and_phone(api_a, salon_a):
    response = api_a.post("/clients", {"name": "Aziz", "phone": "+998935551122"})
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["phone"], body["email"], body["preferred_language"]) == (
        "Aziz",
        "+998935551122",
        "",
        "uz",
    )


def test_duplicate_phone_is_a_conflict(api_a, salon_a):
    before = counts()
    response = api_a.post("/clients", {"name": "Twin", "phone": "+998 90 100 00 00"})
    body = assert_error(response, 409, "conflict")
    assert body["details"] == {"phone": ["A client with this phone number already exists."]}
    assert counts() == before


def test_same_phone_in_another_business_is_fine(api_a, salon_a, salon_b):
    response = api_a.post("/clients", {"name": "Shared", "phone": salon_b.clients[0].phone})
    assert response.status_code == 201
    assert Client.objects.filter(phone=salon_b.clients[0].phone).count() == 2


def test_update(api_a, salon_a):
    client = salon_a.clients[0]
    response = api_a.patch(
        f"/clients/{client.pk}",
        {"name": "Client Renamed", "phone": "93 777 66 55", "notes": "Allergic to ammonia"},
    )
    assert response.status_code == 200, response.content
    client.refresh_from_db()
    assert (client.name, client.phone, client.notes) == (
        "Client Renamed",
        "+998937776655",
        "Allergic to ammonia",
    )
    assert response.json() == client_json(client)


def test_update_with_nothing_or_nulls_changes_nothing(api_a, salon_a):
    client = salon_a.clients[0]
    before = client_json(client)
    assert api_a.patch(f"/clients/{client.pk}", {}).json() == before
    assert api_a.patch(f"/clients/{client.pk}", {"name": None, "phone": None}).json() == before


def test_update_keeping_own_phone_is_fine(api_a, salon_a):
    client = salon_a.clients[0]
    response = api_a.patch(f"/clients/{client.pk}", {"phone": "+998 90 100 00 00"})
    assert response.status_code == 200


def test_update_to_a_taken_phone_is_a_conflict(api_a, salon_a):
    client = salon_a.clients[0]
    before = client_json(client)
    response = api_a.patch(f"/clients/{client.pk}", {"name": "X", "phone": "+998901000001"})
    assert_error(response, 409, "conflict")
    assert client_json(client) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "x" * 33}, "phone"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 10_000}, "name"),
        ({"notes": "n" * 2001}, "notes"),
        ({"preferred_language": "fr"}, "preferred_language"),
        ({"name": 42}, "name"),
    ],
)
def test_bad_updates_change_nothing(api_a, salon_a, body, field):
    client = salon_a.clients[0]
    before = client_json(client)
    response = api_a.patch(f"/clients/{client.pk}", body)
    error = assert_error(response, 422, "invalid")
    assert field in error["details"]
    assert client_json(client) == before


VALID = {"name": "New Client", "phone": "+998935550000"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 422, "invalid"),
        ({"name": "Only a name"}, 422, "invalid"),
        ({"phone": "+998935550000"}, 422, "invalid"),
        ({**VALID, "name": ""}, 422, "invalid"),
        ({**VALID, "name": "   "}, 422, "invalid"),
        ({**VALID, "name": "x" * 10_000}, 422, "invalid"),
        ({**VALID, "name": "nul\x00byte"}, 422, "invalid"),
        ({**VALID, "name": ["a", "list"]}, 422, "invalid"),
        ({**VALID, "name": None}, 422, "invalid"),
        ({**VALID, "phone": "9" * 10_000}, 422, "invalid"),
        ({**VALID, "phone": "not a phone"}, 422, "invalid"),
        ({**VALID, "phone": "+998 12"}, 422, "invalid"),
        ({**VALID, "phone": "+1 202 555"}, 422, "invalid"),
        ({**VALID, "phone": 998935550000}, 422, "invalid"),
        ({**VALID, "phone": ""}, 422, "invalid"),
        ({**VALID, "email": "nope@"}, 422, "invalid"),
        ({**VALID, "email": "e" * 300 + "@example.uz"}, 422, "invalid"),
        ({**VALID, "preferred_language": "de"}, 422, "invalid"),
        ({**VALID, "notes": "n" * 2001}, 422, "invalid"),
        ([VALID], 422, "invalid"),
        ("just a string", 422, "invalid"),
        (12, 422, "invalid"),
    ],
)
def test_bad_clients_are_refused_and_nothing_is_stored(api_a, salon_a, body, status, code):
    before = counts()
    body = assert_error(api_a.post("/clients", body), status, code)
    assert body["details"]
    assert counts() == before


def test_empty_body_is_refused(api_a, salon_a):
    before = counts()
    assert_error(api_a.post("/clients", raw=""), 422, "invalid")
    assert counts() == before


def test_lone_surrogate_is_refused(api_a, salon_a):
    before = counts()
    raw = '{"name": "bad \\ud800", "phone": "+998935550000"}'
    assert_error(api_a.post("/clients", raw=raw), 422, "invalid")
    assert counts() == before


def test_missing_client_is_404(api_a, salon_a):
    assert_error(api_a.get("/clients/987654"), 404, "not_found")
    assert_error(api_a.patch("/clients/987654", {"name": "Ghost"}), 404, "not_found")
