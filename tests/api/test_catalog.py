"""Locations, specialists, services and products: lists, filters, pagination, single rows."""

import pytest

from .conftest import assert_error

HOURS = {str(day): ["08:00", "22:00"] for day in range(7)}
ROOT = "https://navbat.example"


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


def page(items, count=None, limit=50, offset=0):
    return {
        "count": len(items) if count is None else count,
        "limit": limit,
        "offset": offset,
        "items": items,
    }


def location_json(salon):
    return {
        "id": salon.location.pk,
        "name": "Location A",
        "address": "Tashkent",
        "timezone": "Asia/Tashkent",
        "opening_hours": HOURS,
        "public_slug": salon.location.public_slug,
        "widget_url": f"{ROOT}/book/{salon.location.public_slug}/",
        "online_booking": False,
    }


def specialist_json(salon, index, is_active=True):
    specialist = salon.specialists[index]
    return {
        "id": specialist.pk,
        "location_id": salon.location.pk,
        "name": f"Specialist A{index}",
        "position": "Stylist",
        "is_active": is_active,
        "service_ids": sorted(service.pk for service in salon.services),
    }


def haircut_json(salon):
    return {
        "id": salon.services[0].pk,
        "category_id": salon.category.pk,
        "category": "Hair A",
        "name": "Haircut A",
        "description": "",
        "price": 10_000_000,
        "price_max": None,
        "duration_minutes": 60,
        "is_active": True,
        "ikpu_code": "10305001001000000",
        "package_code": "1501",
        "vat_percent": 12,
    }


def colouring_json(salon):
    return {
        "id": salon.services[1].pk,
        "category_id": salon.category.pk,
        "category": "Hair A",
        "name": "Colouring A",
        "description": "",
        "price": 20_000_000,
        "price_max": 50_000_000,
        "duration_minutes": 30,
        "is_active": True,
        "ikpu_code": "10305002001000000",
        "package_code": "",
        "vat_percent": 0,
    }


def shampoo_json(salon):
    return {
        "id": salon.products[0].pk,
        "name": "Shampoo A",
        "price": 5_000_000,
        "unit": "pcs",
        "is_active": True,
        "ikpu_code": "",
        "package_code": "",
        "vat_percent": 0,
    }


def test_locations(api_a, salon_a):
    assert api_a.get("/locations").json() == page([location_json(salon_a)])
    response = api_a.get(f"/locations/{salon_a.location.pk}")
    assert response.status_code == 200
    assert response.json() == location_json(salon_a)


def test_specialists(api_a, salon_a):
    expected = [specialist_json(salon_a, 0), specialist_json(salon_a, 1)]
    assert api_a.get("/specialists").json() == page(expected)
    one = api_a.get(f"/specialists/{salon_a.specialists[1].pk}")
    assert one.json() == specialist_json(salon_a, 1)


def test_specialists_by_location_and_activity(api_a, salon_a, salon_b):
    own = api_a.get("/specialists", {"location_id": salon_a.location.pk}).json()
    assert [row["id"] for row in own["items"]] == [s.pk for s in salon_a.specialists]
    # Another business's location filters to nothing; it never shows its specialists.
    assert api_a.get("/specialists", {"location_id": salon_b.location.pk}).json() == page([])
    salon_a.specialists[1].is_active = False
    salon_a.specialists[1].save()
    assert api_a.get("/specialists", {"active": "true"}).json() == page(
        [specialist_json(salon_a, 0)]
    )
    assert api_a.get("/specialists", {"active": "false"}).json() == page(
        [specialist_json(salon_a, 1, is_active=False)]
    )


def test_pagination(api_a, salon_a):
    assert api_a.get("/specialists", {"limit": 1}).json() == page(
        [specialist_json(salon_a, 0)], count=2, limit=1
    )
    assert api_a.get("/specialists", {"limit": 1, "offset": 1}).json() == page(
        [specialist_json(salon_a, 1)], count=2, limit=1, offset=1
    )
    assert api_a.get("/specialists", {"offset": 5}).json() == page([], count=2, offset=5)


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -1},
        {"offset": -1},
        {"offset": 10**7},
        {"limit": "many"},
        {"limit": str(2**70)},
    ],
)
def test_pagination_limits(api_a, params):
    assert_error(api_a.get("/clients", params), 422, "invalid")


def test_services(api_a, salon_a):
    # Ordered by category, then name.
    expected = [colouring_json(salon_a), haircut_json(salon_a)]
    assert api_a.get("/services").json() == page(expected)
    assert api_a.get(f"/services/{salon_a.services[0].pk}").json() == haircut_json(salon_a)
    salon_a.services[1].is_active = False
    salon_a.services[1].save()
    assert api_a.get("/services", {"active": "true"}).json() == page([haircut_json(salon_a)])


def test_products(api_a, salon_a):
    assert api_a.get("/products").json() == page([shampoo_json(salon_a)])
    assert api_a.get(f"/products/{salon_a.products[0].pk}").json() == shampoo_json(salon_a)
    assert api_a.get("/products", {"active": "false"}).json() == page([])


@pytest.mark.parametrize("route", ["locations", "specialists", "services", "products"])
def test_missing_rows_are_404(api_a, route):
    assert_error(api_a.get(f"/{route}/999999"), 404, "not_found")
