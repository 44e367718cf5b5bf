"""Dates at and past the ends of the calendar, typed or put in an address: a clear answer
(400, or the form's error), never a 500, and nothing written."""

import pytest
from django.urls import reverse

from navbat.booking.models import Appointment
from tests.booking.test_views import counts, form_data

pytestmark = pytest.mark.django_db

# The ends of Python's calendar (a day either side overflows), and ends past ours.
FAR = ["9999-12-31", "0001-01-01", "2101-01-01", "1999-12-31"]


@pytest.mark.parametrize("day", FAR)
def test_the_journal_refuses_a_day_out_of_range(salon_a, login, day):
    response = login(salon_a.owner).get(reverse("booking:journal"), {"date": day})
    assert response.status_code == 400
    assert response.content.decode() == "Enter a date between 2000-01-01 and 2100-12-31."


@pytest.mark.parametrize("day", ["31.12.2025", "2025-02-30", "x" * 300])
def test_the_journal_refuses_what_is_not_a_date(salon_a, login, day):
    response = login(salon_a.owner).get(reverse("booking:journal"), {"date": day})
    assert response.status_code == 400


@pytest.mark.parametrize("day", ["2000-01-01", "2100-12-31"])
def test_the_journal_shows_the_first_and_last_days(salon_a, login, day):
    response = login(salon_a.owner).get(reverse("booking:journal"), {"date": day})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    [
        {"date": "9999-12-31"},
        {"date": "0001-01-01"},
        {"start": "9999-12-31T23:59"},
        {"start": "0001-01-01T00:00"},
        {"start": "9999-12-31T23:59:59-23:59"},
    ],
)
def test_a_new_appointment_form_opened_at_the_ends_of_time(salon_a, login, query):
    response = login(salon_a.owner).get(reverse("booking:appointment_new"), query)
    assert response.status_code == 200


@pytest.mark.parametrize("day", FAR)
def test_an_appointment_on_a_day_out_of_range_is_a_form_error(salon_a, login, day):
    client = login(salon_a.owner)
    before = counts()
    for start, end in (("23:30", ""), ("00:00", ""), ("10:00", "23:59")):
        data = form_data(salon_a, day=day, start_time=start, end_time=end)
        response = client.post(reverse("booking:appointment_new"), data)
        assert response.status_code == 400
        assert "Enter a date between 2000-01-01 and 2100-12-31." in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize("day", FAR)
def test_moving_an_appointment_out_of_range_is_a_form_error(salon_a, login, day):
    appointment = salon_a.appointments[0]
    client = login(salon_a.owner)
    starts_at = appointment.starts_at
    url = reverse("booking:appointment", kwargs={"appointment_id": appointment.pk})
    data = form_data(salon_a, day=day, start_time="23:30")
    response = client.post(url, data)
    assert response.status_code == 400
    assert "Enter a date between 2000-01-01 and 2100-12-31." in response.content.decode()
    assert Appointment.objects.get(pk=appointment.pk).starts_at == starts_at


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("path", ["/finance/transactions/", "/payments/"])
@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_the_list_filters_say_the_range(salon_a, login, path, name, day):
    response = login(salon_a.owner).get(path, {name: day})
    assert response.status_code == 400
    assert "Enter a date between 2000-01-01 and 2100-12-31." in response.content.decode()


@pytest.mark.parametrize("day", FAR)
@pytest.mark.parametrize("path", ["/appointments", "/payments"])
@pytest.mark.parametrize("name", ["date_from", "date_to"])
def test_the_api_filters_refuse_days_out_of_range(client, salon_a, path, name, day):
    response = client.get(
        f"/api/v1{path}", {name: day}, HTTP_AUTHORIZATION=f"Bearer {salon_a.api_token}"
    )
    assert response.status_code == 422
    assert list(response.json()["details"]) == [name]


@pytest.mark.parametrize(
    "moment",
    ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2101-01-01T00:00:00+00:00"],
)
def test_the_api_refuses_appointment_times_out_of_range(client, salon_a, moment):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {salon_a.api_token}"}
    appointment = salon_a.appointments[0]
    before = counts()
    body = {
        "location_id": salon_a.location.pk,
        "specialist_id": salon_a.specialists[0].pk,
        "client_id": salon_a.clients[0].pk,
        "starts_at": moment,
        "lines": [{"kind": "service", "item_id": salon_a.services[0].pk}],
    }
    created = client.post("/api/v1/appointments", body, content_type="application/json", **headers)
    moved = client.patch(
        f"/api/v1/appointments/{appointment.pk}",
        {"starts_at": moment},
        content_type="application/json",
        **headers,
    )
    assert (created.status_code, moved.status_code) == (422, 422)
    assert counts() == before
    assert Appointment.objects.get(pk=appointment.pk).starts_at == appointment.starts_at
