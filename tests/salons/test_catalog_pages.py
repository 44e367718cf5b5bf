import pytest
from django.urls import reverse

from navbat.salons.models import Product, Service, ServiceCategory
from navbat.salons.services import save_category, save_service

from .pages import snapshot, text

pytestmark = pytest.mark.django_db


def service_data(salon, **overrides):
    data = {
        "name": "Manicure",
        "category": salon.category.pk,
        "description": "Classic manicure with polish",
        "price": "150 000",
        "price_max": "250000.50",
        "duration_minutes": "45",
        "ikpu_code": "10305003001000000",
        "package_code": "1502",
        "vat_percent": "12",
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def product_data(**overrides):
    data = {
        "name": "Hair oil",
        "price": "85000",
        "unit": "ml",
        "ikpu_code": "30405001001000000",
        "package_code": "7",
        "vat_percent": "15",
        "is_active": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Services list ---------------------------------------------------------------------------


def test_services_are_listed_by_category(salon_a, salon_b, login):
    save_category(category=ServiceCategory(business=salon_a.business), name="Nails", position=5)
    save_service(
        service=Service(business=salon_a.business),
        name="Consultation",
        price=0,
        duration_minutes=15,
    )
    page = login(salon_a.owner).get(reverse("salons:services"))
    assert page.status_code == 200
    body = text(page)
    hair, nails, loose = body.index("Hair A"), body.index("Nails"), body.index("Without a category")
    assert hair < body.index("Colouring A") < body.index("Haircut A") < nails < loose
    assert body.index("Consultation") > loose
    assert "100 000 so'm" in body
    assert "200 000 so'm – 500 000 so'm" in body  # a price range
    assert "10305001001000000" in body and "12 %" in body and "60 min" in body
    assert "No services in this category yet." in body  # Nails is empty
    assert "Hair B" not in body and "Haircut B" not in body


# --- Create and edit services ----------------------------------------------------------------


def test_owner_creates_a_service_with_exact_values(salon_a, login):
    response = login(salon_a.owner).post(reverse("salons:service_new"), service_data(salon_a))
    assert response.status_code == 302
    assert response["Location"] == reverse("salons:services")
    service = Service.objects.get(business=salon_a.business, name="Manicure")
    assert service.category == salon_a.category
    assert service.description == "Classic manicure with polish"
    assert service.price == 15_000_000
    assert service.price_max == 25_000_050
    assert service.duration_minutes == 45
    assert service.ikpu_code == "10305003001000000"
    assert service.package_code == "1502"
    assert service.vat_percent == 12
    assert service.is_active is True


def test_service_without_category_range_or_fiscal_codes(salon_a, login):
    data = service_data(
        salon_a, category="", price_max="", ikpu_code="", package_code="", is_active=None
    )
    assert login(salon_a.owner).post(reverse("salons:service_new"), data).status_code == 302
    service = Service.objects.get(business=salon_a.business, name="Manicure")
    assert service.category is None
    assert service.price_max is None
    assert (service.ikpu_code, service.package_code) == ("", "")
    assert service.is_active is False


def test_owner_edits_a_service(salon_a, login):
    service = salon_a.services[1]
    url = reverse("salons:service_edit", kwargs={"service_id": service.pk})
    http = login(salon_a.owner)
    form = text(http.get(url))
    assert 'value="200000"' in form and 'value="500000"' in form
    data = service_data(
        salon_a, name="Colouring long", price="300000", price_max="", is_active=None
    )
    assert http.post(url, data).status_code == 302
    service.refresh_from_db()
    assert service.name == "Colouring long"
    assert (service.price, service.price_max) == (30_000_000, None)
    assert service.is_active is False


BAD_SERVICES = [
    ({"name": ""}, "This field is required."),
    ({"name": "x" * 151}, "at most 150 characters"),
    ({"description": "d" * 2001}, "at most 2000 characters"),
    ({"category": "abc"}, "Select a valid choice."),
    ({"price": ""}, "This field is required."),
    ({"price": "-1"}, "The amount cannot be negative."),
    ({"price": "abc"}, "Enter an amount in so'm, for example 150000."),
    ({"price": "NaN"}, "Enter an amount in so'm, for example 150000."),
    ({"price": "10000000000"}, "The amount is too large."),
    ({"price": "1e30"}, None),  # refused; the wording is kit.money's
    ({"price": "9 999 999 999 999"}, "The amount is too large."),
    ({"price": "9" * 30}, "Enter an amount in so'm, for example 150000."),
    ({"price": "10.555"}, "An amount has at most two decimal places."),
    ({"price_max": "-5"}, "The amount cannot be negative."),
    ({"price_max": "100000"}, "The upper price cannot be less than the starting price."),
    ({"duration_minutes": ""}, "This field is required."),
    ({"duration_minutes": "4"}, "greater than or equal to 5"),
    ({"duration_minutes": "1441"}, "less than or equal to 1440"),
    ({"duration_minutes": "forty"}, "Enter a whole number."),
    ({"ikpu_code": "1030500300100000"}, "An IKPU (MXIK) code is exactly 17 digits."),
    ({"ikpu_code": "1030500300100000A"}, "An IKPU (MXIK) code is exactly 17 digits."),
    ({"ikpu_code": "103050030010000000"}, "at most 17 characters"),
    ({"package_code": "12a"}, "A package code is up to 20 digits."),
    ({"package_code": "1" * 21}, "at most 20 characters"),
    ({"vat_percent": "101"}, "less than or equal to 100"),
    ({"vat_percent": "-1"}, "greater than or equal to 0"),
    ({"vat_percent": ""}, "This field is required."),
]


def assert_refused(response, overrides, message):
    """The error is on the form, next to the field that was wrong when that is one field."""
    errors = response.context["form"].errors
    if message is None:
        assert set(overrides) <= set(errors)
    else:
        assert message in text(response)


@pytest.mark.parametrize("overrides,message", BAD_SERVICES)
def test_bad_new_service_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    before = snapshot()
    response = login(salon_a.owner).post(
        reverse("salons:service_new"), service_data(salon_a, **overrides)
    )
    assert response.status_code == 400
    assert_refused(response, overrides, message)
    assert snapshot() == before


@pytest.mark.parametrize("overrides,message", BAD_SERVICES)
def test_bad_service_edit_changes_nothing(salon_a, login, overrides, message):
    url = reverse("salons:service_edit", kwargs={"service_id": salon_a.services[0].pk})
    before = snapshot()
    response = login(salon_a.owner).post(url, service_data(salon_a, **overrides))
    assert response.status_code == 400
    assert_refused(response, overrides, message)
    assert snapshot() == before


def test_another_business_category_is_refused(salon_a, salon_b, login):
    before = snapshot()
    response = login(salon_a.owner).post(
        reverse("salons:service_new"), service_data(salon_a, category=salon_b.category.pk)
    )
    assert response.status_code == 400
    assert "Select a valid choice." in text(response)
    assert snapshot() == before


# --- Categories ------------------------------------------------------------------------------


def test_owner_creates_and_edits_a_category(salon_a, login):
    http = login(salon_a.owner)
    response = http.post(reverse("salons:category_new"), {"name": "Spa", "position": "3"})
    assert response.status_code == 302
    category = ServiceCategory.objects.get(business=salon_a.business, name="Spa")
    assert category.position == 3
    url = reverse("salons:category_edit", kwargs={"category_id": category.pk})
    assert 'value="Spa"' in text(http.get(url))
    assert http.post(url, {"name": "Spa & massage", "position": "0"}).status_code == 302
    category.refresh_from_db()
    assert (category.name, category.position) == ("Spa & massage", 0)


BAD_CATEGORIES = [
    ({"name": ""}, "This field is required."),
    ({"name": "c" * 101}, "at most 100 characters"),
    ({"position": "-1"}, "greater than or equal to 0"),
    ({"position": "first"}, "Enter a whole number."),
    ({"position": "10001"}, "less than or equal to 10000"),
]


@pytest.mark.parametrize("overrides,message", BAD_CATEGORIES)
def test_bad_category_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    data = {"name": "Spa", "position": "0", **overrides}
    http = login(salon_a.owner)
    before = snapshot()
    for url in (
        reverse("salons:category_new"),
        reverse("salons:category_edit", kwargs={"category_id": salon_a.category.pk}),
    ):
        response = http.post(url, data)
        assert response.status_code == 400
        assert message in text(response)
    assert snapshot() == before


# --- Products --------------------------------------------------------------------------------


def test_products_list(salon_a, salon_b, login):
    page = login(salon_a.owner).get(reverse("salons:products"))
    assert page.status_code == 200
    body = text(page)
    assert "Shampoo A" in body and "50 000 so'm" in body and "pcs" in body
    assert "Shampoo B" not in body


def test_owner_creates_and_edits_a_product(salon_a, login):
    http = login(salon_a.owner)
    response = http.post(reverse("salons:product_new"), product_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("salons:products")
    product = Product.objects.get(business=salon_a.business, name="Hair oil")
    assert product.price == 8_500_000
    assert product.unit == "ml"
    assert (product.ikpu_code, product.package_code, product.vat_percent) == (
        "30405001001000000",
        "7",
        15,
    )
    assert product.is_active is True
    url = reverse("salons:product_edit", kwargs={"product_id": product.pk})
    assert 'value="85000"' in text(http.get(url))
    response = http.post(url, product_data(price="90000.25", unit="pcs", is_active=None))
    assert response.status_code == 302
    product.refresh_from_db()
    assert (product.price, product.unit, product.is_active) == (9_000_025, "pcs", False)


BAD_PRODUCTS = [
    ({"name": ""}, "This field is required."),
    ({"name": "x" * 151}, "at most 150 characters"),
    ({"price": ""}, "This field is required."),
    ({"price": "-100"}, "The amount cannot be negative."),
    ({"price": "ten"}, "Enter an amount in so'm, for example 150000."),
    ({"price": "99999999999"}, "The amount is too large."),
    ({"unit": ""}, "This field is required."),
    ({"unit": "u" * 21}, "at most 20 characters"),
    ({"ikpu_code": "1234567890123456"}, "An IKPU (MXIK) code is exactly 17 digits."),
    ({"package_code": "-1"}, "A package code is up to 20 digits."),
    ({"vat_percent": "12.5"}, "Enter a whole number."),
    ({"vat_percent": "200"}, "less than or equal to 100"),
]


@pytest.mark.parametrize("overrides,message", BAD_PRODUCTS)
def test_bad_product_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    http = login(salon_a.owner)
    before = snapshot()
    for url in (
        reverse("salons:product_new"),
        reverse("salons:product_edit", kwargs={"product_id": salon_a.products[0].pk}),
    ):
        response = http.post(url, product_data(**overrides))
        assert response.status_code == 400
        assert message in text(response)
    assert snapshot() == before


# --- Permissions and other businesses --------------------------------------------------------


def test_specialist_user_is_refused(salon_a, login):
    http = login(salon_a.specialist_user)
    before = snapshot()
    urls = [
        reverse("salons:services"),
        reverse("salons:service_new"),
        reverse("salons:service_edit", kwargs={"service_id": salon_a.services[0].pk}),
        reverse("salons:category_new"),
        reverse("salons:category_edit", kwargs={"category_id": salon_a.category.pk}),
        reverse("salons:products"),
        reverse("salons:product_new"),
        reverse("salons:product_edit", kwargs={"product_id": salon_a.products[0].pk}),
    ]
    for url in urls:
        assert http.get(url).status_code == 403
    assert http.post(urls[1], service_data(salon_a)).status_code == 403
    assert http.post(urls[2], service_data(salon_a)).status_code == 403
    assert http.post(urls[4], {"name": "X", "position": "0"}).status_code == 403
    assert http.post(urls[7], product_data()).status_code == 403
    assert snapshot() == before


def test_another_business_catalog_is_not_found(salon_a, salon_b, login):
    http = login(salon_a.owner)
    before = snapshot()
    cases = [
        (
            reverse("salons:service_edit", kwargs={"service_id": salon_b.services[0].pk}),
            service_data(salon_a),
        ),
        (
            reverse("salons:category_edit", kwargs={"category_id": salon_b.category.pk}),
            {"name": "Taken", "position": "1"},
        ),
        (
            reverse("salons:product_edit", kwargs={"product_id": salon_b.products[0].pk}),
            product_data(),
        ),
    ]
    for url, data in cases:
        assert http.get(url).status_code == 404
        assert http.post(url, data).status_code == 404
    assert snapshot() == before
