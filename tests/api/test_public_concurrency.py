"""Real threads, real sockets, real PostgreSQL locks: fifty clients book the same time
through the public API at once. With one specialist chosen, one booking is made and 49
hear 409 ``slot_taken``; with "any specialist" of two, two are made (one each). Nothing of
a refused booking stays: no appointment, no client, no online booking."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection

from navbat.booking.models import Appointment, OnlineBooking, Source
from navbat.salons.models import Client

from .public_helpers import booking_body, turn_on

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks and constraints"
    ),
]

# Fifty clients connect at once; Django's test server backlog is 10 (see test_concurrency).
ThreadedWSGIServer.request_queue_size = 256

ATTEMPTS = 50
TAKEN = {
    "code": "slot_taken",
    "message": "This time has just been taken. Choose another time.",
    "details": None,
}


def book_all_at_once(live_server, salon, *, specialist) -> list[tuple[int, dict]]:
    url = f"{live_server.url}/api/v1/public/{salon.location.public_slug}/bookings"
    barrier = threading.Barrier(ATTEMPTS)

    def send(index: int) -> tuple[int, dict]:
        body = booking_body(
            salon,
            specialist=specialist,
            name=f"Client {index}",
            phone=f"+9989055{index:05d}",
        )
        barrier.wait(timeout=30)
        response = httpx.post(url, json=body, headers={"Accept-Language": "en"}, timeout=120)
        return response.status_code, response.json()

    with ThreadPoolExecutor(ATTEMPTS) as pool:
        return list(pool.map(send, range(ATTEMPTS)))


def test_fifty_bookings_of_one_time_with_one_specialist_make_one(salon_a, live_server):
    turn_on(salon_a)
    clients = Client.objects.count()
    specialist = salon_a.specialists[0]

    answers = book_all_at_once(live_server, salon_a, specialist=specialist.pk)

    statuses = sorted(status for status, _body in answers)
    assert statuses == [201] + [409] * (ATTEMPTS - 1), answers
    assert [body for status, body in answers if status == 409] == [TAKEN] * (ATTEMPTS - 1)
    made = next(body for status, body in answers if status == 201)
    booked = Appointment.objects.filter(source=Source.ONLINE)
    assert list(booked.values_list("pk", "specialist_id", "starts_at")) == [
        (made["id"], specialist.pk, salon_a.at(15, 0, days=2))
    ]
    assert (
        Appointment.objects.filter(specialist=specialist, starts_at=salon_a.at(15, days=2)).count()
        == 1
    )
    assert OnlineBooking.objects.count() == 1
    assert Client.objects.count() == clients + 1


def test_fifty_bookings_of_one_time_with_any_of_two_specialists_make_two(salon_a, live_server):
    turn_on(salon_a)
    clients = Client.objects.count()

    answers = book_all_at_once(live_server, salon_a, specialist=None)

    statuses = sorted(status for status, _body in answers)
    assert statuses == [201, 201] + [409] * (ATTEMPTS - 2), answers
    made = sorted(body["specialist"] for status, body in answers if status == 201)
    assert made == sorted(s.pk for s in salon_a.specialists)
    booked = Appointment.objects.filter(source=Source.ONLINE, starts_at=salon_a.at(15, days=2))
    assert sorted(booked.values_list("specialist_id", flat=True)) == made
    assert OnlineBooking.objects.count() == 2
    assert Client.objects.count() == clients + 2
