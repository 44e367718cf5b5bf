"""No route answers or changes another business's data.

The sweep walks the published OpenAPI document, so a route added later is covered without
editing this file: every path parameter is named after its model (``{client_id}``), and
salon B's row of that model is put in the path while calling with salon A's token
(a payment, ``{payment_id}``, by its reference: a paid card payment on the sandbox bank).
"""

import pytest

from .conftest import BASE, assert_error, snapshot

# A body that would succeed on one's own row, per operation that takes a body.
BODIES = {
    "update_client": {"name": "Taken over", "phone": "+998 93 999 99 99"},
    "update_appointment": {"comment": "Taken over"},
    "change_appointment_status": {"status": "cancelled"},
    "refund_payment": {"amount": 1_000_000, "reason": "Taken over"},
    "pay_by_qr": {"checkout_point": None},  # the caller's own point (body_for)
}
# Headers an operation needs to succeed on one's own row.
HEADERS = {"refund_payment": {"HTTP_IDEMPOTENCY_KEY": "sweep"}}


def body_for(operation_id: str, salon):
    body = BODIES.get(operation_id)
    if operation_id == "pay_by_qr":
        body = {"checkout_point": salon.checkout_point.pk}
    return body


def id_routes(client) -> list[tuple[str, str, str]]:
    """(method, path, operationId) of every operation whose path carries an id."""
    document = client.get(BASE + "/openapi.json").json()
    routes = []
    for path, item in document["paths"].items():
        if path.startswith(BASE + "/public/"):
            continue  # no token, no ids: a slug or a token is the authority (test_public_*)
        for method, operation in item.items():
            if "{" in path:
                routes.append((method.upper(), path, operation["operationId"]))
    return routes


def paid_payment(salon, connect_uzum) -> str:
    from .test_payments_api import paid

    connect_uzum(salon)
    return paid(salon, salon.appointments[0]).reference


def rows_of(salon, payment: str = "") -> dict:
    return {
        "payment_id": payment,
        "location_id": salon.location.pk,
        "specialist_id": salon.specialists[0].pk,
        "service_id": salon.services[0].pk,
        "product_id": salon.products[0].pk,
        "client_id": salon.clients[0].pk,
        "appointment_id": salon.appointments[0].pk,
    }


def test_the_sweep_knows_every_id_route(client, salon_a):
    routes = id_routes(client)
    assert len(routes) == 15
    known = set(rows_of(salon_a))
    for method, path, operation_id in routes:
        names = {part.split("}")[0] for part in path.split("{")[1:]}
        assert names <= known, f"{path}: name path ids after their model ({known})"
        if method in ("POST", "PATCH", "PUT"):
            document = client.get(BASE + "/openapi.json").json()
            takes_body = "requestBody" in document["paths"][path][method.lower()]
            assert not takes_body or operation_id in BODIES, f"give a body for {operation_id}"


def test_another_business_rows_are_404_and_unchanged(api_a, salon_a, salon_b, connect_uzum):
    theirs = rows_of(salon_b, paid_payment(salon_b, connect_uzum))
    before = snapshot(salon_b.business)
    for method, path, operation_id in id_routes(api_a.client):
        url = path.removeprefix(BASE).format(**theirs)
        response = api_a.send(
            method, url, body_for(operation_id, salon_a), headers=HEADERS.get(operation_id)
        )
        assert_error(response, 404, "not_found")
    assert snapshot(salon_b.business) == before


def test_the_same_requests_work_on_own_rows(api_a, salon_a, connect_uzum):
    """So the 404s above are about the owner, not about the requests."""
    ours = rows_of(salon_a, paid_payment(salon_a, connect_uzum))  # and a link, a connection
    for method, path, operation_id in id_routes(api_a.client):
        if operation_id == "create_payment_link":
            # The first appointment was cancelled by an earlier route of this loop.
            ours = {**ours, "appointment_id": salon_a.appointments[1].pk}
        url = path.removeprefix(BASE).format(**ours)
        response = api_a.send(
            method, url, body_for(operation_id, salon_a), headers=HEADERS.get(operation_id)
        )
        created = ("create_payment_link", "refund_payment", "pay_by_qr")
        expected = 201 if operation_id in created else 204 if method == "DELETE" else 200
        assert response.status_code == expected, (method, path, response.content)


@pytest.mark.parametrize(
    ("route", "param"),
    [
        ("/appointments", "specialist_id"),
        ("/appointments", "client_id"),
        ("/appointments", "location_id"),
        ("/specialists", "location_id"),
    ],
)
def test_filters_with_another_business_ids_find_nothing(api_a, salon_a, salon_b, route, param):
    response = api_a.get(route, {param: rows_of(salon_b)[param]})
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["items"] == []


def test_token_of_b_sees_only_b(api_b, salon_a, salon_b):
    names = [row["name"] for row in api_b.get("/clients").json()["items"]]
    assert names == ["Client B0", "Client B1"]
    assert_error(api_b.get(f"/clients/{salon_a.clients[0].pk}"), 404, "not_found")


def test_writes_naming_another_business_rows_store_nothing(api_a, salon_a, salon_b):
    before_a, before_b = snapshot(salon_a.business), snapshot(salon_b.business)
    theirs = rows_of(salon_b)
    bodies = [
        {"specialist_id": theirs["specialist_id"]},
        {"client_id": theirs["client_id"]},
        {"lines": [{"kind": "service", "item_id": theirs["service_id"]}]},
        {"lines": [{"kind": "product", "item_id": theirs["product_id"]}]},
    ]
    for body in bodies:
        response = api_a.patch(f"/appointments/{salon_a.appointments[0].pk}", body)
        assert_error(response, 422, "invalid")
    assert (snapshot(salon_a.business), snapshot(salon_b.business)) == (before_a, before_b)
