"""The catalog's online booking fields (F6): what a service asks in advance (none, optional or
required; the full price, a percent or a fixed amount in so'm), whether it is booked online,
and the same for a specialist (required = the services' whole price). Saved exactly; bad
input refused with a clear error and nothing changed."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from navbat.salons import services
from navbat.salons.models import Prepayment, PrepaymentAmount, Service, Specialist

from .pages import snapshot, text
from .test_catalog_pages import service_data
from .test_specialist_pages import specialist_data

pytestmark = pytest.mark.django_db

ONLINE_FIELDS = ("prepayment", "prepayment_amount", "prepayment_value", "bookable_online")


def online(row) -> tuple:
    row.refresh_from_db()
    return tuple(getattr(row, name) for name in ONLINE_FIELDS)


def edit_url(service) -> str:
    return reverse("salons:service_edit", kwargs={"service_id": service.pk})


def specialist_url(specialist) -> str:
    return reverse("salons:specialist_edit", kwargs={"specialist_id": specialist.pk})


# --- services ----------------------------------------------------------------------------------


def test_a_new_service_with_a_required_30_percent(salon_a, login):
    response = login(salon_a.owner).post(
        reverse("salons:service_new"),
        service_data(
            salon_a,
            bookable_online="on",
            prepayment="required",
            prepayment_amount="percent",
            prepayment_percent="30",
            prepayment_fixed="",
        ),
    )
    assert response.status_code == 302
    service = Service.objects.get(business=salon_a.business, name="Manicure")
    assert online(service) == ("required", "percent", 30, True)
    assert service.price == 15_000_000


def test_an_optional_fixed_amount_in_som_is_stored_in_tiyin(salon_a, login):
    service = salon_a.services[0]  # 100 000 so'm
    response = login(salon_a.admin).post(
        edit_url(service),
        service_data(
            salon_a,
            price="100 000",
            price_max="",
            bookable_online="on",
            prepayment="optional",
            prepayment_amount="fixed",
            prepayment_fixed="25 000.50",
        ),
    )
    assert response.status_code == 302
    assert online(service) == ("optional", "fixed", 2_500_050, True)


def test_the_full_price_stores_no_value(salon_a, login):
    service = salon_a.services[0]
    response = login(salon_a.owner).post(
        edit_url(service),
        service_data(
            salon_a,
            bookable_online="on",
            prepayment="required",
            prepayment_amount="full",
            prepayment_percent="40",
        ),
    )
    assert response.status_code == 302
    assert online(service) == ("required", "full", 0, True)


def test_not_bookable_online_and_no_prepayment(salon_a, login):
    service = salon_a.services[0]
    response = login(salon_a.owner).post(
        edit_url(service), service_data(salon_a, prepayment="none", prepayment_amount="percent")
    )
    assert response.status_code == 302
    assert online(service) == ("none", "percent", 0, False)


def test_a_form_without_the_online_fields_asks_nothing_in_advance(salon_a, login):
    response = login(salon_a.owner).post(reverse("salons:service_new"), service_data(salon_a))
    assert response.status_code == 302
    service = Service.objects.get(business=salon_a.business, name="Manicure")
    assert online(service) == ("none", "full", 0, False)


def test_the_edit_form_shows_what_is_stored(salon_a, login):
    service = salon_a.services[1]
    services.save_service(
        service=service,
        name=service.name,
        price=service.price,
        price_max=service.price_max,
        duration_minutes=service.duration_minutes,
        prepayment="required",
        prepayment_amount="fixed",
        prepayment_value=5_000_000,
        bookable_online=True,
    )
    body = text(login(salon_a.owner).get(edit_url(service)))
    assert '<option value="required" selected>' in body
    assert '<option value="fixed" selected>' in body
    assert 'name="prepayment_fixed" value="50000"' in body
    assert 'name="bookable_online" id="id_bookable_online" checked' in body


BAD = [
    (
        {"prepayment": "required", "prepayment_amount": "percent", "prepayment_percent": ""},
        "prepayment_percent",
        "Give the percent, from 1 to 100.",
    ),
    (
        {"prepayment": "optional", "prepayment_amount": "percent", "prepayment_percent": "0"},
        "prepayment_percent",
        "Give the percent, from 1 to 100.",
    ),
    (
        {"prepayment": "required", "prepayment_amount": "percent", "prepayment_percent": "101"},
        "prepayment_percent",
        "Give the percent, from 1 to 100.",
    ),
    (
        {"prepayment": "required", "prepayment_amount": "percent", "prepayment_percent": "3.5"},
        "prepayment_percent",
        "Enter a whole number.",
    ),
    (
        {"prepayment": "required", "prepayment_amount": "fixed", "prepayment_fixed": ""},
        "prepayment_fixed",
        "Give the amount.",
    ),
    (
        {"prepayment": "required", "prepayment_amount": "fixed", "prepayment_fixed": "0"},
        "prepayment_fixed",
        "The amount must be more than zero.",
    ),
    (
        # More than the starting price of a range (200 000 – 500 000 so'm).
        {"prepayment": "required", "prepayment_amount": "fixed", "prepayment_fixed": "200 001"},
        "prepayment_fixed",
        "The amount cannot be more than the (starting) price.",
    ),
    (
        {"prepayment": "optional", "prepayment_amount": "fixed", "prepayment_fixed": "ten"},
        "prepayment_fixed",
        "so'm",
    ),
    ({"prepayment": "always"}, "prepayment", "Select a valid choice."),
    ({"prepayment_amount": "half"}, "prepayment_amount", "Select a valid choice."),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD)
def test_bad_prepayment_input_is_refused_and_nothing_changes(
    salon_a, login, overrides, field, message
):
    service = salon_a.services[1]
    before = snapshot()
    response = login(salon_a.owner).post(
        edit_url(service),
        service_data(
            salon_a, price="200 000", price_max="500 000", bookable_online="on", **overrides
        ),
    )
    assert response.status_code == 400
    assert message in response.context["form"].errors[field][0]
    assert message in text(response)
    assert snapshot() == before


def test_the_service_checks_the_rule_itself(salon_a):
    service = salon_a.services[0]  # 100 000 so'm
    before = online(service)
    base = {
        "name": service.name,
        "price": service.price,
        "duration_minutes": service.duration_minutes,
    }
    for rule, field in [
        (
            {"prepayment": "required", "prepayment_amount": "percent", "prepayment_value": 0},
            "prepayment_percent",
        ),
        (
            {"prepayment": "optional", "prepayment_amount": "percent", "prepayment_value": 101},
            "prepayment_percent",
        ),
        (
            {"prepayment": "required", "prepayment_amount": "fixed", "prepayment_value": 0},
            "prepayment_fixed",
        ),
        (
            {
                "prepayment": "required",
                "prepayment_amount": "fixed",
                "prepayment_value": 10_000_001,
            },
            "prepayment_fixed",
        ),
        ({"prepayment": "sometimes"}, "prepayment"),
        ({"prepayment_amount": "half"}, "prepayment_amount"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.save_service(service=service, **base, **rule)
        assert field in refused.value.error_dict
        assert online(service) == before


def test_the_service_keeps_the_online_fields_it_is_not_given(salon_a):
    service = salon_a.services[0]
    services.save_service(
        service=service,
        name=service.name,
        price=service.price,
        duration_minutes=service.duration_minutes,
        prepayment="optional",
        prepayment_amount="percent",
        prepayment_value=50,
        bookable_online=False,
    )
    services.save_service(service=service, name="Renamed", price=service.price, duration_minutes=30)
    assert online(service) == ("optional", "percent", 50, False)
    assert service.name == "Renamed"


def test_the_list_shows_each_services_rule(salon_a, login):
    first, second = salon_a.services
    Service.objects.filter(pk=first.pk).update(
        prepayment=Prepayment.REQUIRED,
        prepayment_amount=PrepaymentAmount.PERCENT,
        prepayment_value=30,
    )
    Service.objects.filter(pk=second.pk).update(
        prepayment=Prepayment.OPTIONAL,
        prepayment_amount=PrepaymentAmount.FIXED,
        prepayment_value=5_000_000,
    )
    body = text(login(salon_a.owner).get(reverse("salons:services")))
    assert "Required: 30 %" in body
    assert "Optional: 50 000 so'm" in body


def test_a_specialist_user_cannot_change_a_rule(salon_a, login):
    service = salon_a.services[0]
    before = online(service)
    response = login(salon_a.specialist_user).post(
        edit_url(service), service_data(salon_a, prepayment="required", prepayment_amount="full")
    )
    assert response.status_code == 403
    assert online(service) == before


# --- specialists -------------------------------------------------------------------------------


def specialist_online(specialist) -> tuple:
    specialist.refresh_from_db()
    return specialist.prepayment, specialist.bookable_online


def test_a_specialists_required_prepayment_and_online_booking_are_saved(salon_a, login):
    specialist = salon_a.specialists[1]
    response = login(salon_a.owner).post(
        specialist_url(specialist),
        specialist_data(salon_a, prepayment="required", bookable_online="on"),
    )
    assert response.status_code == 302
    assert specialist_online(specialist) == ("required", True)
    body = text(login(salon_a.owner).get(specialist_url(specialist)))
    assert '<option value="required" selected>' in body


def test_a_specialist_off_the_widget(salon_a, login):
    specialist = salon_a.specialists[1]
    response = login(salon_a.owner).post(
        specialist_url(specialist), specialist_data(salon_a, prepayment="optional")
    )
    assert response.status_code == 302
    assert specialist_online(specialist) == ("optional", False)


def test_a_new_specialist_is_bookable_online_by_default(salon_a, login):
    http = login(salon_a.owner)
    body = text(http.get(reverse("salons:specialist_new")))
    assert 'name="bookable_online" id="id_bookable_online" checked' in body
    response = http.post(
        reverse("salons:specialist_new"), specialist_data(salon_a, bookable_online="on")
    )
    assert response.status_code == 302
    created = Specialist.objects.get(business=salon_a.business, name="Madina Yusupova")
    assert specialist_online(created) == ("none", True)


def test_a_bad_specialist_rule_changes_nothing(salon_a, login):
    specialist = salon_a.specialists[1]
    before = snapshot()
    response = login(salon_a.owner).post(
        specialist_url(specialist), specialist_data(salon_a, prepayment="half")
    )
    assert response.status_code == 400
    assert "Select a valid choice." in response.context["form"].errors["prepayment"][0]
    assert snapshot() == before
    with pytest.raises(ValidationError):
        services.save_specialist(
            specialist=specialist, name="X", location=salon_a.location, prepayment="half"
        )
    assert specialist_online(specialist) == ("none", True)


def test_the_specialist_list_shows_each_rule(salon_a, login):
    Specialist.objects.filter(pk=salon_a.specialists[0].pk).update(prepayment="required")
    Specialist.objects.filter(pk=salon_a.specialists[1].pk).update(bookable_online=False)
    body = text(login(salon_a.owner).get(reverse("salons:specialists")))
    assert "Required: the services' price" in body
    assert "Not online" in body
