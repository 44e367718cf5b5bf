from datetime import timedelta

import pytest
from django.urls import reverse

from navbat.booking.models import Appointment, AppointmentLine, Status
from navbat.finance.models import Transaction
from navbat.kit.timeutil import local_today
from navbat.salons.models import Client

pytestmark = pytest.mark.django_db


def counts():
    return (
        Appointment.objects.count(),
        AppointmentLine.objects.count(),
        Client.objects.count(),
        Transaction.objects.count(),
    )


def tomorrow():
    return (local_today("Asia/Tashkent") + timedelta(days=1)).isoformat()


def form_data(salon, **overrides):
    data = {
        "location": salon.location.pk,
        "client_phone": "+998 97 555 44 33",
        "client_name": "Yangi Mijoz",
        "specialist": salon.specialists[0].pk,
        "day": tomorrow(),
        "start_time": "15:00",
        "end_time": "",
        "comment": "",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "50",
        "lines-0-item": f"service:{salon.services[0].pk}",
        "lines-0-price": "",
        "lines-0-quantity": "1",
        "lines-0-discount_percent": "0",
        "lines-1-item": f"product:{salon.products[0].pk}",
        "lines-1-price": "",
        "lines-1-quantity": "2",
        "lines-1-discount_percent": "10",
    }
    data.update(overrides)
    return data


def test_journal_shows_the_days_appointments(salon_a, login):
    page = login(salon_a.owner).get(reverse("booking:journal"), {"date": tomorrow()})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('class="appt ') == 2
    assert "Client A0" in html and "Client A1" in html
    assert "100 000 so&#x27;m" in html or "100 000 so'm" in html
    assert "Specialist A0" in html and "Specialist A1" in html


def test_specialist_sees_only_own_column_and_appointments(salon_a, login):
    client = login(salon_a.specialist_user)
    html = client.get(reverse("booking:journal"), {"date": tomorrow()}).content.decode()
    assert html.count('class="appt ') == 1
    assert "Specialist A1" not in html
    own, other = salon_a.appointments
    assert client.get(reverse("booking:appointment", args=[own.pk])).status_code == 200
    assert client.get(reverse("booking:appointment", args=[other.pk])).status_code == 404
    assert client.get(reverse("booking:appointment_new")).status_code == 403
    before = counts()
    response = client.post(reverse("booking:appointment", args=[own.pk]), form_data(salon_a))
    assert response.status_code == 404
    assert (
        client.post(
            reverse("booking:appointment_status", args=[own.pk]), {"status": "cancelled"}
        ).status_code
        == 403
    )
    assert counts() == before


def test_create_appointment_for_a_new_client(salon_a, login):
    client = login(salon_a.admin)
    response = client.post(reverse("booking:appointment_new"), form_data(salon_a))
    assert response.status_code == 302
    appointment = Appointment.objects.latest("id")
    assert response["Location"] == reverse("booking:appointment", args=[appointment.pk])
    assert appointment.client.name == "Yangi Mijoz"
    assert appointment.client.phone == "+998975554433"
    # 100 000 + 2 × 50 000 − 10 % = 190 000 so'm
    assert appointment.total == 19_000_000
    assert appointment.created_by == salon_a.admin
    page = client.get(response["Location"]).content.decode()
    assert "190 000" in page


def test_existing_client_is_found_by_phone(salon_a, login):
    client = login(salon_a.owner)
    existing = salon_a.clients[0]
    data = form_data(salon_a, client_phone=existing.phone, client_name="")
    assert client.post(reverse("booking:appointment_new"), data).status_code == 302
    assert Appointment.objects.latest("id").client == existing
    assert Client.objects.filter(business=salon_a.business).count() == 2
    lookup = client.get(reverse("booking:client_lookup"), {"client_phone": existing.phone})
    assert "Client A0" in lookup.content.decode()


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"client_phone": ""}, "This field is required"),
        ({"client_phone": "12"}, "valid phone number"),
        ({"client_phone": "9" * 40}, "at most 32 characters"),
        ({"client_name": ""}, "new client"),
        ({"client_name": "x" * 151}, "at most 150 characters"),
        ({"day": "2026-02-31"}, "valid date"),
        ({"start_time": "25:00"}, "valid time"),
        ({"start_time": "06:00"}, "working hours"),
        ({"start_time": "19:30"}, "working hours"),
        ({"start_time": "10:30"}, "already has an appointment"),
        ({"end_time": "14:00"}, "end after it starts"),
        ({"specialist": "999999"}, "valid choice"),
        ({"specialist": "abc"}, "valid choice"),
        ({"lines-0-item": "service:999999"}, "valid choice"),
        ({"lines-0-item": "", "lines-1-item": ""}, "at least one service"),
        ({"lines-0-price": "-5"}, "cannot be negative"),
        ({"lines-0-price": "1e30"}, "too large"),
        ({"lines-0-price": "abc"}, "so'm"),
        ({"lines-0-quantity": "0"}, "greater than or equal to 1"),
        ({"lines-0-quantity": "99999999999999999999"}, "less than or equal to 999"),
        ({"lines-0-discount_percent": "101"}, "less than or equal to 100"),
        ({"lines-TOTAL_FORMS": "5000"}, "50"),
        ({"comment": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_stores_nothing(salon_a, login, overrides, message):
    client = login(salon_a.owner)
    before = counts()
    response = client.post(reverse("booking:appointment_new"), form_data(salon_a, **overrides))
    assert response.status_code == 400
    assert message in response.content.decode().replace("&#x27;", "'")
    assert counts() == before


def test_edit_moves_to_another_day(salon_a, login):
    client = login(salon_a.owner)
    appointment = salon_a.appointments[0]
    day_after = (local_today("Asia/Tashkent") + timedelta(days=2)).isoformat()
    data = form_data(
        salon_a,
        client_phone=appointment.client.phone,
        client_name="",
        day=day_after,
        start_time="11:00",
        **{"lines-TOTAL_FORMS": "1"},
    )
    response = client.post(reverse("booking:appointment", args=[appointment.pk]), data)
    assert response.status_code == 302
    appointment.refresh_from_db()
    assert appointment.starts_at == salon_a.at(11, days=2)
    assert appointment.ends_at == salon_a.at(12, days=2)


def test_status_change_and_desk_payment(salon_a, login):
    client = login(salon_a.owner)
    appointment = salon_a.appointments[0]
    url = reverse("booking:appointment_status", args=[appointment.pk])
    assert client.post(url, {"status": "arrived"}).status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == Status.ARRIVED
    assert client.post(url, {"status": "bogus"}).status_code == 400
    pay = reverse("booking:appointment_payment", args=[appointment.pk])
    assert client.post(pay, {"register": salon_a.cash.pk, "amount": "60 000"}).status_code == 302
    page = client.get(reverse("booking:appointment", args=[appointment.pk])).content.decode()
    assert "60 000 so" in page and "40 000 so" in page  # paid and due
    assert 'id="payment-state">Partly paid' in page
    before = counts()
    for bad in (
        {"register": salon_a.cash.pk, "amount": "-1"},
        {"register": salon_a.cash.pk, "amount": "0"},
        {"register": "x", "amount": "100"},
        {"register": salon_a.cash.pk, "amount": "9" * 30},
    ):
        client.post(pay, bad)
    assert counts() == before


def test_anonymous_is_sent_to_login(client, salon_a):
    response = client.get(reverse("booking:journal"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_pages_in_three_languages(salon_a, login):
    client = login(salon_a.owner)
    expected = {"uz": "Jurnal", "ru": "Журнал", "en": "Journal"}
    for code, word in expected.items():
        client.cookies["django_language"] = code
        html = client.get(reverse("booking:journal"), {"date": tomorrow()}).content.decode()
        assert f'<html lang="{code}">' in html
        assert word in html


def test_pressing_record_payment_twice_records_once(salon_a, login):
    client = login(salon_a.owner)
    appointment = salon_a.appointments[0]
    page = client.get(reverse("booking:appointment", args=[appointment.pk])).content.decode()
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    pay = reverse("booking:appointment_payment", args=[appointment.pk])
    data = {"register": salon_a.cash.pk, "amount": "100 000", "idempotency_key": key}
    assert client.post(pay, data).status_code == 302
    assert client.post(pay, data).status_code == 302
    rows = Transaction.objects.filter(document=appointment.document)
    assert [(t.amount, t.idempotency_key) for t in rows] == [(10_000_000, key)]
