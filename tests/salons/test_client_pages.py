import pytest
from django.urls import reverse

from navbat.finance.services import record_sale_payment
from navbat.salons.models import Client
from navbat.salons.services import create_client

from .pages import snapshot, text

pytestmark = pytest.mark.django_db


def client_data(**overrides):
    data = {
        "name": "Dilnoza Karimova",
        "phone": "+998 97 555 44 33",
        "email": "dilnoza@example.uz",
        "preferred_language": "ru",
        "notes": "Prefers mornings",
    }
    data.update(overrides)
    return data


# --- List and search -------------------------------------------------------------------------


def test_list_shows_the_business_clients_only(salon_a, salon_b, login):
    page = login(salon_a.owner).get(reverse("salons:clients"))
    assert page.status_code == 200
    body = text(page)
    assert "Client A0" in body and "Client A1" in body
    assert "+998 90 100 00 00" in body and "+998 90 100 00 01" in body
    assert "Client B0" not in body and "+998 90 200 00 00" not in body


def test_administrator_sees_the_list_too(salon_a, login):
    assert login(salon_a.admin).get(reverse("salons:clients")).status_code == 200


@pytest.mark.parametrize(
    "query,found,missing",
    [
        ("A1", ["Client A1"], ["Client A0"]),
        ("client a0", ["Client A0"], ["Client A1"]),
        ("90 100 00 01", ["Client A1"], ["Client A0"]),
        ("lola@", ["Lola"], ["Client A0", "Client A1"]),
        ("B0", [], ["Client A0", "Client A1", "Client B0"]),
    ],
)
def test_search_by_name_phone_and_email(salon_a, salon_b, login, query, found, missing):
    create_client(
        business=salon_a.business, name="Lola", phone="+998935550000", email="lola@example.uz"
    )
    body = text(login(salon_a.owner).get(reverse("salons:clients"), {"q": query}))
    for name in found:
        assert name in body
    for name in missing:
        assert name not in body
    if not found:
        assert f"No clients match “{query}”." in body


def test_list_is_paginated_and_keeps_the_search(salon_a, login):
    for index in range(60):
        create_client(
            business=salon_a.business, name=f"Paged {index:02d}", phone=f"+9989355{index:05d}"
        )
    http = login(salon_a.owner)
    first = text(http.get(reverse("salons:clients"), {"q": "Paged"}))
    assert first.count("Paged ") == 50
    assert "Page 1 of 2" in first
    assert "?q=Paged&page=2" in first
    second = text(http.get(reverse("salons:clients"), {"q": "Paged", "page": "2"}))
    assert second.count("Paged ") == 10
    assert "Paged 59" in second and "Paged 00" not in second
    # A page number that makes no sense shows a page, never an error.
    assert http.get(reverse("salons:clients"), {"page": "zzz"}).status_code == 200
    assert http.get(reverse("salons:clients"), {"page": "999"}).status_code == 200


# --- Create and edit -------------------------------------------------------------------------


def test_owner_creates_a_client_with_a_normalised_phone(salon_a, login):
    response = login(salon_a.owner).post(reverse("salons:client_new"), client_data())
    client = Client.objects.get(business=salon_a.business, name="Dilnoza Karimova")
    assert response.status_code == 302
    assert response["Location"] == reverse("salons:client", kwargs={"client_id": client.pk})
    assert client.phone == "+998975554433"
    assert client.email == "dilnoza@example.uz"
    assert client.preferred_language == "ru"
    assert client.notes == "Prefers mornings"


def test_the_same_phone_may_be_a_client_of_another_business(salon_a, salon_b, login):
    response = login(salon_a.owner).post(
        reverse("salons:client_new"), client_data(phone=salon_b.clients[0].phone)
    )
    assert response.status_code == 302
    assert Client.objects.filter(phone=salon_b.clients[0].phone).count() == 2


def test_owner_edits_a_client(salon_a, login):
    client = salon_a.clients[0]
    response = login(salon_a.owner).post(
        reverse("salons:client_edit", kwargs={"client_id": client.pk}),
        client_data(name="Client A0 renamed", phone="93 111 22 33", email="", notes=""),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Client A0 renamed"
    assert client.phone == "+998931112233"
    assert client.email == ""
    assert client.preferred_language == "ru"


def test_edit_form_shows_the_stored_values(salon_a, login):
    client = salon_a.clients[1]
    body = text(
        login(salon_a.owner).get(reverse("salons:client_edit", kwargs={"client_id": client.pk}))
    )
    assert 'value="Client A1"' in body
    assert 'value="+998901000001"' in body


def test_keeping_the_own_phone_is_not_a_duplicate(salon_a, login):
    client = salon_a.clients[0]
    response = login(salon_a.owner).post(
        reverse("salons:client_edit", kwargs={"client_id": client.pk}),
        client_data(name="Same phone", phone="90 100 00 00"),
    )
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.name == "Same phone"


BAD_CLIENTS = [
    ({"name": ""}, "This field is required."),
    ({"name": "   "}, "This field is required."),
    ({"name": "x" * 151}, "at most 150 characters"),
    ({"phone": ""}, "This field is required."),
    ({"phone": "12345"}, "Enter a valid phone number"),
    ({"phone": "+998 90 abc 45 67"}, "Enter a valid phone number"),
    ({"phone": "+1 555"}, "Enter a valid phone number"),
    ({"phone": "9" * 33}, "at most 32 characters"),
    ({"phone": "+998 90 100 00 01"}, "A client with this phone number already exists."),
    ({"phone": "90 100-00-01"}, "A client with this phone number already exists."),
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"email": "a" * 250 + "@x.uz"}, "at most 254 characters"),
    ({"preferred_language": "xx"}, "Select a valid choice."),
    ({"notes": "n" * 2001}, "at most 2000 characters"),
]


@pytest.mark.parametrize("overrides,message", BAD_CLIENTS)
def test_bad_client_input_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    before = snapshot()
    response = login(salon_a.owner).post(reverse("salons:client_new"), client_data(**overrides))
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("overrides,message", BAD_CLIENTS)
def test_bad_client_edit_is_refused_and_changes_nothing(salon_a, login, overrides, message):
    client = salon_a.clients[0]
    before = snapshot()
    response = login(salon_a.owner).post(
        reverse("salons:client_edit", kwargs={"client_id": client.pk}), client_data(**overrides)
    )
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


# --- The client's page -----------------------------------------------------------------------


def test_client_page_shows_visits_and_payments(salon_a, salon_b, login):
    visit = salon_a.appointments[0]  # Client A0, Haircut A, 100 000 so'm
    record_sale_payment(document=visit.document, register=salon_a.cash, amount=4_000_000)
    record_sale_payment(
        document=salon_b.appointments[0].document, register=salon_b.cash, amount=7_700_000
    )
    client = salon_a.clients[0]
    page = login(salon_a.owner).get(reverse("salons:client", kwargs={"client_id": client.pk}))
    assert page.status_code == 200
    body = text(page)
    assert "Client A0" in body and "+998 90 100 00 00" in body
    assert reverse("booking:appointment", kwargs={"appointment_id": visit.pk}) in body
    assert "Specialist A0" in body
    assert "100 000 so'm" in body  # the visit's total
    assert "40 000 so'm" in body  # paid, in the visit and in the payments
    assert "Cash" in body and "Payment for a sale" in body
    # Client A1's visit and business B's money are not shown.
    assert "Specialist A1" not in body
    assert "77 000 so'm" not in body
    assert f"?client={client.pk}" in body


def test_client_page_without_history(salon_a, login):
    client = create_client(business=salon_a.business, name="New one", phone="+998935551122")
    body = text(login(salon_a.owner).get(reverse("salons:client", kwargs={"client_id": client.pk})))
    assert "No visits yet." in body and "No payments yet." in body


# --- Permissions and other businesses --------------------------------------------------------


def test_specialist_user_is_refused(salon_a, login):
    http = login(salon_a.specialist_user)
    client_id = salon_a.clients[0].pk
    before = snapshot()
    assert http.get(reverse("salons:clients")).status_code == 403
    assert http.get(reverse("salons:client_new")).status_code == 403
    assert http.post(reverse("salons:client_new"), client_data()).status_code == 403
    for name in ("salons:client", "salons:client_edit"):
        assert http.get(reverse(name, kwargs={"client_id": client_id})).status_code == 403
    edit = reverse("salons:client_edit", kwargs={"client_id": client_id})
    assert http.post(edit, client_data()).status_code == 403
    assert snapshot() == before


def test_anonymous_is_sent_to_login(client, salon_a):
    response = client.get(reverse("salons:clients"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_another_business_client_is_not_found(salon_a, salon_b, login):
    http = login(salon_a.owner)
    foreign = salon_b.clients[0]
    before = snapshot()
    for name in ("salons:client", "salons:client_edit"):
        url = reverse(name, kwargs={"client_id": foreign.pk})
        assert http.get(url).status_code == 404
        assert http.post(url, client_data()).status_code == 404
    assert snapshot() == before
    foreign.refresh_from_db()
    assert foreign.name == "Client B0"
