"""Checkout points on Finance → Online payments (F5): the page shows the bank connection
and each location's points with their QR address and downloads; owners and administrators
add, rename, give a new code and retire points; specialists never; a refusal changes
nothing."""

import pytest
from django.contrib.messages import get_messages

from navbat.kit.tenancy import scoped
from navbat.salons.checkout_points import code_in_use, create_checkout_point, retire_checkout_point
from navbat.salons.models import CheckoutPoint, CheckoutPointCode, Location

pytestmark = pytest.mark.django_db

ROOT = "https://navbat.example.uz"
ACTIONS = ("rename", "new-code", "retire")


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


def snapshot(business) -> list[tuple]:
    """Every point and code of the business, as they are stored."""
    points = list(
        scoped(CheckoutPoint, business)
        .order_by("pk")
        .values_list("pk", "location_id", "name", "retired_at")
    )
    codes = list(
        scoped(CheckoutPointCode, business)
        .order_by("pk")
        .values_list("pk", "point_id", "code", "retired_at")
    )
    return points + codes


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def action(client, point, what: str, **data):
    return client.post(f"/payments/points/{point.pk}/{what}", data)


# ---------------------------------------------------------------------------- the page


def test_the_page_shows_the_connection_and_the_points_with_their_downloads(
    salon_a, login, connect_uzum
):
    connect_uzum(
        salon_a,
        merchant_service_id=4242,
        merchant_login="salon-a",
        merchant_password="salon-a-password",
        app_payments=True,
        installments=True,
    )
    point = salon_a.checkout_point
    response = login(salon_a.admin).get("/payments/")
    assert response.status_code == 200
    connection = response.context["connection"]
    assert (connection.connected, connection.name) == (True, "Uzum Bank")
    assert connection.methods == ("Card payment", "Uzum Bank app", "Installments")
    assert connection.settings_url == "/integrations/uzum/"
    [(location, points)] = response.context["point_locations"]
    assert location == salon_a.location
    assert points == [point]
    assert points[0].qr_url == f"{ROOT}/q/{code_in_use(point).code}"
    html = response.content.decode()
    assert f'data-qr-url="{ROOT}/q/{code_in_use(point).code}"' in html
    for name in ("qr-colour.png", "qr-bw.png", "qr.svg", "poster-a5.pdf", "poster-a4.pdf"):
        assert f'href="/payments/points/{point.pk}/{name}"' in html
    # Above the totals and the list of payments.
    assert html.index('id="payment-connection"') < html.index('id="qr-points"')
    assert html.index('id="qr-points"') < html.index('id="totals"')


def test_the_page_says_not_connected_and_where_to_connect(salon_a, login):
    response = login(salon_a.owner).get("/payments/")
    connection = response.context["connection"]
    assert (connection.connected, connection.methods) == (False, ())
    assert connection.settings_url == "/integrations/uzum/"
    html = response.content.decode()
    assert "Not connected" in html
    assert 'id="connection-settings"' in html


def test_the_page_lists_only_this_business_active_points(salon_a, salon_b, login):
    second = create_checkout_point(business=salon_a.business, location=salon_a.location, name="Bar")
    retired = create_checkout_point(
        business=salon_a.business, location=salon_a.location, name="Old till"
    )
    retire_checkout_point(point=retired)
    response = login(salon_a.owner).get("/payments/")
    [(_location, points)] = response.context["point_locations"]
    assert points == [second, salon_a.checkout_point]  # by name: "Bar", "Desk"
    html = response.content.decode()
    assert f'id="point-{retired.pk}"' not in html
    assert f'id="point-{salon_b.checkout_point.pk}"' not in html


# ---------------------------------------------------------------------------- add


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_administrators_add_a_point_with_a_code(salon_a, login, role):
    before = scoped(CheckoutPoint, salon_a.business).count()
    response = login(getattr(salon_a, role)).post(
        "/payments/points/add", {"location": salon_a.location.pk, "name": "  Till   2 "}
    )
    assert response.status_code == 302
    assert response["Location"] == "/payments/"
    assert said(response) == ["Checkout point “Till 2” added."]
    assert scoped(CheckoutPoint, salon_a.business).count() == before + 1
    point = scoped(CheckoutPoint, salon_a.business).get(name="Till 2")
    assert (point.location_id, point.retired_at) == (salon_a.location.pk, None)
    [code] = scoped(CheckoutPointCode, salon_a.business).filter(point=point)
    assert code.retired_at is None
    assert len(code.code) == 22


@pytest.mark.parametrize(
    "data, message",
    [
        ({"name": "Till 2"}, "This field is required."),
        (
            {"location": "x", "name": "Till 2"},
            "Select a valid choice. That choice is not one of the available choices.",
        ),
        ({"location": "LOCATION", "name": "   "}, "This field is required."),
        (
            {"location": "LOCATION", "name": "x" * 101},
            "Ensure this value has at most 100 characters (it has 101).",
        ),
    ],
)
def test_a_bad_new_point_is_refused_and_nothing_changes(salon_a, login, data, message):
    data = {
        key: salon_a.location.pk if value == "LOCATION" else value for key, value in data.items()
    }
    before = snapshot(salon_a.business)
    response = login(salon_a.owner).post("/payments/points/add", data)
    assert response.status_code == 302
    assert said(response) == [message]
    assert snapshot(salon_a.business) == before


def test_a_point_at_another_business_location_is_refused(salon_a, salon_b, login):
    before_a, before_b = snapshot(salon_a.business), snapshot(salon_b.business)
    response = login(salon_a.owner).post(
        "/payments/points/add", {"location": salon_b.location.pk, "name": "Till 2"}
    )
    assert said(response) == [
        "Select a valid choice. That choice is not one of the available choices."
    ]
    assert (snapshot(salon_a.business), snapshot(salon_b.business)) == (before_a, before_b)
    assert Location.objects.filter(pk=salon_b.location.pk, business=salon_b.business).exists()


# ---------------------------------------------------------------------------- rename


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_point_is_renamed_and_keeps_its_code(salon_a, login, role):
    point = salon_a.checkout_point
    code = code_in_use(point).code
    response = action(login(getattr(salon_a, role)), point, "rename", name=" Kassa  1 ")
    assert response.status_code == 302
    assert said(response) == ["Checkout point renamed to “Kassa 1”."]
    point.refresh_from_db()
    assert point.name == "Kassa 1"
    assert code_in_use(point).code == code


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "This field is required."),
        ("x" * 101, "Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_a_bad_name_is_refused_and_nothing_changes(salon_a, login, name, message):
    before = snapshot(salon_a.business)
    response = action(login(salon_a.owner), salon_a.checkout_point, "rename", name=name)
    assert said(response) == [message]
    assert snapshot(salon_a.business) == before


# ---------------------------------------------------------------------------- new code


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_new_code_retires_the_old_one(salon_a, login, role):
    point = salon_a.checkout_point
    old = code_in_use(point)
    response = action(login(getattr(salon_a, role)), point, "new-code")
    assert response.status_code == 302
    assert said(response) == [
        "“Desk” has a new code. Print it again: the old prints now say the code is no longer "
        "in use."
    ]
    old.refresh_from_db()
    assert old.retired_at is not None
    new = code_in_use(point)
    assert new.code != old.code
    assert scoped(CheckoutPointCode, salon_a.business).filter(point=point).count() == 2
    page = login(salon_a.owner).get("/payments/").content.decode()
    assert f'data-qr-url="{ROOT}/q/{new.code}"' in page
    assert old.code not in page


# ---------------------------------------------------------------------------- retire


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_a_retired_point_and_its_code_are_out_of_use(salon_a, login, role):
    point = salon_a.checkout_point
    code = code_in_use(point)
    response = action(login(getattr(salon_a, role)), point, "retire")
    assert response.status_code == 302
    assert said(response) == ["“Desk” is retired. Its prints now say the code is no longer in use."]
    point.refresh_from_db()
    code.refresh_from_db()
    assert point.retired_at is not None
    assert code.retired_at == point.retired_at
    assert code_in_use(point) is None


@pytest.mark.parametrize("name", ACTIONS)
def test_a_retired_point_cannot_be_managed(salon_a, login, name):
    retire_checkout_point(point=salon_a.checkout_point)
    before = snapshot(salon_a.business)
    response = action(login(salon_a.owner), salon_a.checkout_point, name, name="Back")
    assert response.status_code == 404
    assert snapshot(salon_a.business) == before


# ---------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("name", ACTIONS)
def test_another_business_point_is_not_found_and_unchanged(salon_a, salon_b, login, name):
    before = snapshot(salon_b.business)
    response = action(login(salon_a.owner), salon_b.checkout_point, name, name="Mine")
    assert response.status_code == 404
    assert snapshot(salon_b.business) == before


@pytest.mark.parametrize("name", ACTIONS)
def test_a_specialist_manages_no_point(salon_a, login, name):
    before = snapshot(salon_a.business)
    response = action(login(salon_a.specialist_user), salon_a.checkout_point, name, name="Mine")
    assert response.status_code == 403
    assert snapshot(salon_a.business) == before


def test_a_specialist_adds_no_point_and_does_not_see_the_page(salon_a, login):
    before = snapshot(salon_a.business)
    client = login(salon_a.specialist_user)
    response = client.post(
        "/payments/points/add", {"location": salon_a.location.pk, "name": "Till 2"}
    )
    assert response.status_code == 403
    assert client.get("/payments/").status_code == 403
    assert snapshot(salon_a.business) == before


@pytest.mark.parametrize("name", ACTIONS)
def test_point_actions_answer_post_only(salon_a, login, name):
    before = snapshot(salon_a.business)
    client = login(salon_a.owner)
    assert client.get(f"/payments/points/{salon_a.checkout_point.pk}/{name}").status_code == 405
    assert client.get("/payments/points/add").status_code == 405
    assert snapshot(salon_a.business) == before
