"""Specialists' photos on the widget (F6): served from the database as JPEG, cached by the
browser, only for the location's own specialists who take online bookings."""

import re

import pytest
from django.utils import timezone

from navbat.salons.models import Specialist
from tests.booking.widget_helpers import turn_on_widget, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(salon_a):
    return turn_on_widget(salon_a)


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


def with_photo(specialist):
    Specialist.objects.filter(pk=specialist.pk).update(photo=JPEG, photo_updated_at=timezone.now())
    specialist.refresh_from_db()
    return specialist


def photo_path(salon, specialist) -> str:
    return f"/book/{salon.location.public_slug}/specialists/{specialist.pk}/photo"


def test_the_photo_is_served_and_cached(client, salon_a, widget):
    specialist = with_photo(salon_a.specialists[0])
    response = client.get(photo_path(salon_a, specialist))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response.content == JPEG
    assert response["Cache-Control"] == "public, max-age=86400"
    etag = response["ETag"]
    assert etag == f'"{specialist.pk}-{int(specialist.photo_updated_at.timestamp())}"'
    again = client.get(photo_path(salon_a, specialist), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304
    assert again.content == b""


def test_the_specialist_step_shows_the_photo_or_initials(client, salon_a, widget):
    specialist = with_photo(salon_a.specialists[0])
    body = client.get(url(salon_a, "specialist", s=salon_a.services[0].pk)).content.decode()
    version = int(specialist.photo_updated_at.timestamp())
    assert re.search(
        rf'<img class="avatar" src="{photo_path(salon_a, specialist)}\?v={version}"', body
    )
    assert '<span class="avatar" aria-hidden="true">SA</span>' in body  # the other one


def test_no_photo_and_other_places_specialists_are_not_found(client, salon_a, salon_b, widget):
    assert client.get(photo_path(salon_a, salon_a.specialists[1])).status_code == 404
    theirs = with_photo(salon_b.specialists[0])
    assert client.get(photo_path(salon_a, theirs)).status_code == 404
    hidden = with_photo(salon_a.specialists[0])
    Specialist.objects.filter(pk=hidden.pk).update(bookable_online=False)
    assert client.get(photo_path(salon_a, hidden)).status_code == 404
    assert client.get("/book/no-such-salon/specialists/1/photo").status_code == 404
