"""The journal's cost does not grow with the salon's history or the day's bookings: a fixed
set of statements, each location read once; the grid's slots are the same links as before."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from navbat.kit.timeutil import local_today
from navbat.salons.services import create_location

pytestmark = pytest.mark.django_db

TZ = "Asia/Tashkent"


def day(offset: int) -> str:
    return (local_today(TZ) + timedelta(days=offset)).isoformat()


def selects(client, **params) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as seen:
        response = client.get(reverse("booking:journal"), params)
    assert response.status_code == 200
    # PostgreSQL's UNION ALL (hours with exceptions) starts with a parenthesis.
    statements = [q["sql"] for q in seen if q["sql"].startswith(("SELECT", "(SELECT"))]
    return len(statements), response.content.decode()


def test_the_journal_reads_the_same_statements_however_long_the_history(salon_a, login):
    client = login(salon_a.owner)
    client.get(reverse("booking:journal"))  # the session's first use
    before, _html = selects(client, date=day(1))
    for offset in range(2, 12):  # a history around the day
        for hour in (9, 11, 15):
            salon_a.book(hour=hour, days=offset)
            salon_a.book(hour=hour, days=-offset, specialist=salon_a.specialists[1])
    for hour in (14, 16, 18):  # and a busier day
        salon_a.book(hour=hour, days=1)
    after, html = selects(client, date=day(1))
    assert html.count('class="appt ') == 5
    # session, user, membership, locations, specialists, hours with exceptions, appointments
    assert (before, after) == (7, 7)


def test_slots_link_to_a_new_appointment_at_their_hour(salon_a, login):
    html = login(salon_a.owner).get(reverse("booking:journal"), {"date": day(1)}).content
    html = html.decode()
    new = reverse("booking:appointment_new")
    specialist = salon_a.specialists[0].pk
    slot = (
        f'<a class="slot" href="{new}?location={salon_a.location.pk}'
        f'&specialist={specialist}&start={day(1)}T09:00" aria-label="09:00"></a>'
    )
    assert slot in html
    assert '<div class="hour">09:00</div>' in html


def test_a_specialist_sees_plain_slots_without_links(salon_a, login):
    html = login(salon_a.specialist_user).get(reverse("booking:journal"), {"date": day(1)})
    html = html.content.decode()
    assert 'class="slot" style="display:block"' not in html
    assert reverse("booking:appointment_new") not in html
    hours = html.count('<div class="hour">')
    assert hours > 0 and html.count('<div class="slot"></div>') == hours  # one lane: their own


def test_another_location_of_the_business_is_shown_and_a_strangers_is_not(salon_a, salon_b, login):
    second = create_location(
        business=salon_a.business,
        name="Second",
        address="Tashkent",
        opening_hours={str(d): ["08:00", "22:00"] for d in range(7)},
    )
    client = login(salon_a.owner)
    page = client.get(reverse("booking:journal"), {"location": second.pk})
    assert page.status_code == 200
    assert "Second ·" in page.content.decode()
    for wanted in (salon_b.location.pk, "x1"):
        page = client.get(reverse("booking:journal"), {"location": wanted})
        assert page.status_code == 404
