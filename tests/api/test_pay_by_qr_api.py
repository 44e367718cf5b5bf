"""The Pay by QR API: POST/DELETE /appointments/{id}/pay-by-qr and GET /checkout-points."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.payments.models import PointBinding
from navbat.salons.checkout_points import create_checkout_point, retire_checkout_point
from tests.api.conftest import assert_error

pytestmark = pytest.mark.django_db

ROOT = "https://navbat.example"


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


def path(appointment) -> str:
    return f"/appointments/{appointment.pk}/pay-by-qr"


def code_of(point) -> str:
    return point.codes.get(retired_at=None).code


def in_force(salon) -> list[tuple[int, int]]:
    rows = PointBinding.objects.filter(business=salon.business, ended_at=None)
    return [(b.point_id, b.link.payable_id) for b in rows]


def test_binding_answers_the_points_url_and_time(api_a, salon_a):
    point = salon_a.checkout_point
    before = timezone.now()
    response = api_a.post(path(salon_a.appointments[0]), {"checkout_point": point.pk})
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"checkout_point", "url", "expires_at"}
    assert (body["checkout_point"], body["url"]) == (point.pk, f"{ROOT}/q/{code_of(point)}")
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires.utcoffset() == timedelta(hours=5)
    assert before + timedelta(minutes=15) - timedelta(seconds=1) <= expires
    assert expires <= timezone.now() + timedelta(minutes=15)
    assert in_force(salon_a) == [(point.pk, salon_a.appointments[0].pk)]


def test_a_point_held_by_another_appointment_is_409_with_its_id(api_a, salon_a):
    first, second = salon_a.appointments
    point = salon_a.checkout_point.pk
    assert api_a.post(path(first), {"checkout_point": point}).status_code == 201
    response = api_a.post(path(second), {"checkout_point": point})
    body = assert_error(response, 409, "point_held") or response.json()
    assert body["details"] == {"appointment_id": first.pk}
    assert body["message"] == f"Desk is waiting for the payment of Appointment #{first.pk}."
    assert in_force(salon_a) == [(point, first.pk)]
    # Released, the point takes the other one.
    assert api_a.send("DELETE", path(first)).status_code == 204
    assert api_a.send("DELETE", path(first)).status_code == 204
    assert api_a.post(path(second), {"checkout_point": point}).status_code == 201
    assert in_force(salon_a) == [(point, second.pk)]


def test_nothing_due_or_cancelled_is_409_and_nothing_changes(api_a, salon_a):
    first, second = salon_a.appointments
    take_desk_payment(appointment=first, register_id=salon_a.cash.pk, amount=10_000_000)
    cancel_appointment(appointment=second)
    point = salon_a.checkout_point.pk
    assert_error(api_a.post(path(first), {"checkout_point": point}), 409, "nothing_due")
    assert_error(api_a.post(path(second), {"checkout_point": point}), 409, "appointment_cancelled")
    assert PointBinding.objects.count() == 0


def test_a_retired_point_is_422(api_a, salon_a):
    point = create_checkout_point(business=salon_a.business, location=salon_a.location, name="2")
    retire_checkout_point(point=point)
    response = api_a.post(path(salon_a.appointments[0]), {"checkout_point": point.pk})
    assert_error(response, 422, "invalid")
    assert response.json()["details"] == {"checkout_point": ["This checkout point is retired."]}
    assert PointBinding.objects.count() == 0


def test_another_business_point_or_appointment_is_404(api_a, salon_a, salon_b):
    mine, theirs = salon_a.appointments[0], salon_b.appointments[0]
    point_a, point_b = salon_a.checkout_point.pk, salon_b.checkout_point.pk
    assert_error(api_a.post(path(mine), {"checkout_point": point_b}), 404, "not_found")
    assert_error(api_a.post(path(theirs), {"checkout_point": point_a}), 404, "not_found")
    assert_error(api_a.send("DELETE", path(theirs)), 404, "not_found")
    assert_error(api_a.post(path(mine), {"checkout_point": 0}), 422, "invalid")
    assert_error(api_a.post(path(mine), {}), 422, "invalid")
    assert PointBinding.objects.count() == 0


def test_the_list_shows_each_point_its_url_and_what_is_bound(api_a, api_b, salon_a, salon_b):
    bar = create_checkout_point(business=salon_a.business, location=salon_a.location, name="Bar")
    old = create_checkout_point(business=salon_a.business, location=salon_a.location, name="Old")
    retire_checkout_point(point=old)
    first = salon_a.appointments[0]
    bound = api_a.post(path(first), {"checkout_point": salon_a.checkout_point.pk}).json()
    response = api_a.get("/checkout-points")
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "items": [
            {
                "id": bar.pk,
                "name": "Bar",
                "location_id": salon_a.location.pk,
                "url": f"{ROOT}/q/{code_of(bar)}",
                "bound": None,
            },
            {
                "id": salon_a.checkout_point.pk,
                "name": "Desk",
                "location_id": salon_a.location.pk,
                "url": f"{ROOT}/q/{code_of(salon_a.checkout_point)}",
                "bound": {"appointment_id": first.pk, "expires_at": bound["expires_at"]},
            },
        ],
    }
    other = api_b.get("/checkout-points").json()
    assert [item["id"] for item in other["items"]] == [salon_b.checkout_point.pk]
    assert other["items"][0]["bound"] is None
