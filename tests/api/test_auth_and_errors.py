"""Authentication, the error envelope, and what the OpenAPI document promises."""

import pytest
from django.utils import timezone

from navbat.accounts.models import ApiToken
from navbat.accounts.services import issue_api_token
from navbat.kit.money import MAX_AMOUNT_TIYIN

from .conftest import BASE, Api, assert_error, counts


def operations(client) -> list[tuple[str, str]]:
    """(method, path) of every operation in the published schema that needs a token (the
    public booking operations need none: tests/api/test_public_api.py)."""
    document = client.get(BASE + "/openapi.json").json()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "patch", "put", "delete")
        and not path.startswith(BASE + "/public/")
    ]


def test_schema_and_docs_are_public(client, db):
    schema = client.get(BASE + "/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "navbat API"
    docs = client.get(BASE + "/docs")
    assert docs.status_code == 200
    assert b"openapi.json" in docs.content


def test_every_route_is_listed(client, db):
    assert sorted(operations(client)) == sorted(
        [
            ("GET", "/api/v1/locations"),
            ("GET", "/api/v1/locations/{location_id}"),
            ("GET", "/api/v1/specialists"),
            ("GET", "/api/v1/specialists/{specialist_id}"),
            ("GET", "/api/v1/services"),
            ("GET", "/api/v1/services/{service_id}"),
            ("GET", "/api/v1/products"),
            ("GET", "/api/v1/products/{product_id}"),
            ("GET", "/api/v1/clients"),
            ("POST", "/api/v1/clients"),
            ("GET", "/api/v1/clients/{client_id}"),
            ("PATCH", "/api/v1/clients/{client_id}"),
            ("GET", "/api/v1/appointments"),
            ("POST", "/api/v1/appointments"),
            ("GET", "/api/v1/appointments/{appointment_id}"),
            ("PATCH", "/api/v1/appointments/{appointment_id}"),
            ("POST", "/api/v1/appointments/{appointment_id}/status"),
            ("POST", "/api/v1/appointments/{appointment_id}/cancel"),
            ("POST", "/api/v1/appointments/{appointment_id}/payment-link"),
            ("GET", "/api/v1/payments"),
            ("GET", "/api/v1/payments/{payment_id}"),
            ("POST", "/api/v1/payments/{payment_id}/refunds"),
            ("GET", "/api/v1/checkout-points"),
            ("POST", "/api/v1/appointments/{appointment_id}/pay-by-qr"),
            ("DELETE", "/api/v1/appointments/{appointment_id}/pay-by-qr"),
        ]
    )


BAD_AUTHORIZATIONS = [
    None,
    "",
    "Bearer",
    "Bearer ",
    "Bearer nbt_not-a-real-token",
    "Bearer " + "x" * 5000,
    "Basic dXNlcjpwYXNz",
    "Token something",
]


@pytest.mark.parametrize("authorization", BAD_AUTHORIZATIONS)
def test_every_route_needs_a_valid_token(client, salon_a, authorization):
    api = Api(client, None)
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    appointment = salon_a.appointments[0]
    ids = {
        "location_id": salon_a.location.pk,
        "specialist_id": salon_a.specialists[0].pk,
        "service_id": salon_a.services[0].pk,
        "product_id": salon_a.products[0].pk,
        "client_id": salon_a.clients[0].pk,
        "appointment_id": appointment.pk,
        "payment_id": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
    }
    for method, path in operations(client):
        url = path.removeprefix(BASE).format(**ids)
        response = api.send(method, url, {"status": "cancelled"}, headers=headers)
        body = assert_error(response, 401, "unauthenticated")
        assert body["details"] is None
        assert response["WWW-Authenticate"] == "Bearer"
    appointment.refresh_from_db()
    assert appointment.status == "booked"


def test_a_revoked_token_is_refused(client, salon_a):
    ApiToken.objects.filter(business=salon_a.business).update(revoked_at=timezone.now())
    assert_error(Api(client, salon_a.api_token).get("/locations"), 401, "unauthenticated")


def test_a_second_token_of_the_same_business_works(client, salon_a):
    _token, raw = issue_api_token(business=salon_a.business, name="second")
    response = Api(client, raw).get("/locations")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_unknown_path_is_a_json_404(api_a):
    assert_error(api_a.get("/nothing-here"), 404, "not_found")
    assert_error(api_a.get("/clients/1/extra"), 404, "not_found")


def test_wrong_method_is_a_json_405(api_a):
    body = assert_error(api_a.send("DELETE", "/clients"), 405, "method_not_allowed")
    assert body["message"] == "Use one of: GET, POST."


@pytest.mark.parametrize("raw", ["{", "not json", '{"name": "x",}', "\xff\xfe"])
def test_malformed_json_is_a_400(api_a, raw):
    assert_error(api_a.post("/clients", raw=raw), 400, "malformed")


def test_schema_errors_list_the_fields(api_a):
    response = api_a.post("/clients", {"name": "x" * 151, "phone": 5})
    body = assert_error(response, 422, "invalid")
    assert body["details"] == {
        "name": ["String should have at most 150 characters"],
        "phone": ["Input should be a valid string"],
    }


def test_query_errors_name_the_parameter(api_a):
    body = assert_error(api_a.get("/clients", {"limit": "101"}), 422, "invalid")
    assert body["details"] == {"limit": ["Input should be less than or equal to 100"]}


def test_path_ids_are_checked(api_a):
    body = assert_error(api_a.get("/clients/abc"), 422, "invalid")
    assert list(body["details"]) == ["client_id"]
    assert_error(api_a.get("/clients/0"), 422, "invalid")
    assert_error(api_a.get(f"/clients/{2**63}"), 422, "invalid")
    assert_error(api_a.get(f"/clients/{2**63 - 1}"), 404, "not_found")


def test_schema_documents_money_and_limits(client, db):
    document = client.get(BASE + "/openapi.json").json()
    components = document["components"]["schemas"]
    line_in = components["LineIn"]["properties"]
    price = next(kind for kind in line_in["unit_price"]["anyOf"] if kind.get("type") == "integer")
    assert price["minimum"] == 0
    assert price["maximum"] == MAX_AMOUNT_TIYIN
    assert "tiyin" in price["description"]
    assert line_in["quantity"]["maximum"] == 999
    assert line_in["discount_percent"]["maximum"] == 100
    for money in ("total", "paid", "due"):
        assert "tiyin" in components["AppointmentOut"]["properties"][money]["description"]
    assert components["ClientIn"]["properties"]["name"]["maxLength"] == 150
    assert components["ClientIn"]["properties"]["phone"]["maxLength"] == 32
    assert components["AppointmentIn"]["properties"]["lines"]["maxItems"] == 50
    assert document["components"]["securitySchemes"]["BusinessToken"]["scheme"] == "bearer"
    limit = next(
        p for p in document["paths"]["/api/v1/clients"]["get"]["parameters"] if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 100


def test_an_error_answer_rolls_the_request_back(db):
    from django.db import transaction

    from navbat.api.errors import error_response

    with transaction.atomic():
        response = error_response(409, "conflict", "Clash.")
        assert transaction.get_rollback() is True
    assert response.status_code == 409


def test_a_huge_body_is_413_and_stores_nothing(api_a, salon_a):
    before = counts()
    raw = '{"name": "' + "x" * 3_000_000 + '", "phone": "+998935550000"}'
    assert_error(api_a.post("/clients", raw=raw), 413, "too_large")
    assert counts() == before


def test_deeply_nested_json_is_refused(api_a, salon_a):
    before = counts()
    raw = "[" * 100_000 + "]" * 100_000
    response = api_a.post("/clients", raw=raw)
    assert response.status_code in (400, 422)
    assert response.json()["code"] in ("malformed", "invalid")
    assert counts() == before


def test_too_many_query_fields_is_400(api_a):
    query = "&".join(f"f{i}=1" for i in range(1200))
    response = api_a.client.get(
        f"{BASE}/clients?{query}", HTTP_AUTHORIZATION=f"Bearer {api_a.token}"
    )
    assert_error(response, 400, "malformed")


def test_numbers_with_thousands_of_digits_are_refused(api_a, salon_a):
    before = counts()
    raw = '{"name": "Big", "phone": "+998935550000", "notes": ' + "9" * 5000 + "}"
    response = api_a.post("/clients", raw=raw)
    assert response.status_code in (400, 422)
    assert counts() == before
