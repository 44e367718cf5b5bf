"""The services and selectors behind the catalog and staff pages."""

from datetime import time, timedelta

import pytest
from django.core.exceptions import ValidationError

from navbat.kit.timeutil import local_today
from navbat.salons import selectors, services
from navbat.salons.models import Product, ScheduleException, Service, ServiceCategory, Specialist

from .pages import snapshot

pytestmark = pytest.mark.django_db

WEEK = {weekday: (time(9), time(17)) if weekday < 5 else None for weekday in range(7)}


def test_create_specialist_stores_services_and_week(salon_a):
    specialist = services.save_specialist(
        specialist=Specialist(business=salon_a.business),
        name="  Aziza  ",
        location=salon_a.location,
        position="Masseuse",
        services=[salon_a.services[0]],
        week=WEEK,
    )
    assert specialist.name == "Aziza"
    assert list(specialist.services.all()) == [salon_a.services[0]]
    assert selectors.weekly_schedule(specialist=specialist) == WEEK


@pytest.mark.parametrize("foreign", ["location", "service"])
def test_rows_of_another_business_are_refused(salon_a, salon_b, foreign):
    before = snapshot()
    with pytest.raises(ValidationError):
        services.save_specialist(
            specialist=Specialist(business=salon_a.business),
            name="Intruder",
            location=salon_b.location if foreign == "location" else salon_a.location,
            services=[salon_b.services[0]] if foreign == "service" else [],
            week=WEEK,
        )
    with pytest.raises(ValidationError):
        services.save_specialist(
            specialist=salon_a.specialists[0],
            name="Intruder",
            location=salon_b.location if foreign == "location" else salon_a.location,
            services=[salon_b.services[0]] if foreign == "service" else [],
        )
    assert snapshot() == before


def test_a_refused_week_rolls_the_whole_specialist_back(salon_a):
    specialist = salon_a.specialists[0]
    before = snapshot()
    with pytest.raises(ValidationError):
        services.save_specialist(
            specialist=specialist,
            name="Renamed",
            location=salon_a.location,
            services=[],
            week={0: (time(18), time(9))},
        )
    assert snapshot() == before


def test_update_without_a_week_keeps_the_week(salon_a):
    specialist = salon_a.specialists[0]
    week = selectors.weekly_schedule(specialist=specialist)
    services.save_specialist(
        specialist=specialist, name="Kept week", location=salon_a.location, is_active=False
    )
    specialist.refresh_from_db()
    assert (specialist.name, specialist.is_active) == ("Kept week", False)
    assert selectors.weekly_schedule(specialist=specialist) == week


def test_remove_schedule_exception(salon_a):
    services.remove_schedule_exception(exception=salon_a.exception)
    assert not ScheduleException.objects.filter(pk=salon_a.exception.pk).exists()


def test_schedule_exceptions_since(salon_a):
    specialist = salon_a.specialists[1]
    today = local_today("Asia/Tashkent")
    old = services.set_schedule_exception(
        specialist=specialist, day=today - timedelta(days=100), is_day_off=True
    )
    assert list(selectors.schedule_exceptions(specialist=specialist)) == [old, salon_a.exception]
    assert list(selectors.schedule_exceptions(specialist=specialist, since=today)) == [
        salon_a.exception
    ]
    assert list(selectors.schedule_exceptions(specialist=salon_a.specialists[0])) == []


def test_service_price_range_must_be_ordered(salon_a):
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_service(
            service=Service(business=salon_a.business),
            name="Backwards",
            price=20_000_000,
            price_max=10_000_000,
            duration_minutes=30,
        )
    assert "price_max" in caught.value.error_dict
    assert snapshot() == before


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"ikpu_code": "1234567890123456"}, "ikpu_code"),
        ({"package_code": "x1"}, "package_code"),
        ({"vat_percent": 101}, "vat_percent"),
        ({"duration_minutes": 2}, "duration_minutes"),
        ({"price": -1}, "price"),
        ({"price": 1_000_000_000_000}, "price"),
        ({"name": ""}, "name"),
    ],
)
def test_service_fields_are_validated_by_the_model(salon_a, fields, field):
    data = {"name": "Checked", "price": 100, "duration_minutes": 30, **fields}
    before = snapshot()
    with pytest.raises(ValidationError) as caught:
        services.save_service(service=Service(business=salon_a.business), **data)
    assert field in caught.value.error_dict
    with pytest.raises(ValidationError):
        services.save_service(service=salon_a.services[0], **data)
    assert snapshot() == before


def test_service_category_of_another_business_is_refused(salon_a, salon_b):
    with pytest.raises(ValidationError):
        services.save_service(
            service=Service(business=salon_a.business),
            name="X",
            price=100,
            duration_minutes=30,
            category=salon_b.category,
        )


def test_product_validation(salon_a):
    before = snapshot()
    for fields in ({"price": -5}, {"unit": ""}, {"ikpu_code": "1" * 16}):
        with pytest.raises(ValidationError):
            services.save_product(
                product=Product(business=salon_a.business), **{"name": "P", "price": 100, **fields}
            )
    assert snapshot() == before
    product = services.save_product(
        product=Product(business=salon_a.business),
        name=" Gel ",
        price=1_250_000,
        unit="ml",
        vat_percent=12,
    )
    assert (product.name, product.price, product.unit, product.vat_percent) == (
        "Gel",
        1_250_000,
        "ml",
        12,
    )


def test_categories_create_and_update(salon_a):
    category = services.save_category(
        category=ServiceCategory(business=salon_a.business), name=" Nails ", position=2
    )
    assert (category.name, category.position) == ("Nails", 2)
    services.save_category(category=category, name="Nail art", position=0)
    category.refresh_from_db()
    assert (category.name, category.position) == ("Nail art", 0)
    with pytest.raises(ValidationError):
        services.save_category(category=ServiceCategory(business=salon_a.business), name="")


def test_services_by_category_groups_the_price_list(salon_a, salon_b):
    empty = services.save_category(
        category=ServiceCategory(business=salon_a.business), name="Empty", position=9
    )
    loose = services.save_service(
        service=Service(business=salon_a.business), name="Loose", price=0, duration_minutes=15
    )
    groups = selectors.services_by_category(business=salon_a.business)
    assert [(g.category, g.services) for g in groups] == [
        (salon_a.category, [salon_a.services[1], salon_a.services[0]]),  # by name
        (empty, []),
        (None, [loose]),
    ]


def test_specialists_overview_counts_services(salon_a, salon_b):
    salon_a.specialists[1].services.set([salon_a.services[0]])
    rows = selectors.specialists_overview(business=salon_a.business)
    assert [(s.name, s.service_count) for s in rows] == [
        ("Specialist A0", 2),
        ("Specialist A1", 1),
    ]
