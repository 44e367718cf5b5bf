"""Appointments: list and filters, read with money, book, change, status, cancel."""

from datetime import UTC, timedelta

import pytest

from navbat.booking.models import Appointment
from navbat.booking.services import LineInput, create_appointment, take_desk_payment
from navbat.kit.money import MAX_AMOUNT_TIYIN
from navbat.kit.timeutil import local_today

from .conftest import TZ_NAME, assert_error, counts


def haircut_line(salon, **changes):
    line = {
        "kind": "service",
        "item_id": salon.services[0].pk,
        "title": "Haircut A",
        "unit_price": 10_000_000,
        "quantity": 1,
        "discount_percent": 0,
        "amount": 10_000_000,
    }
    return {**line, **changes}


def first_json(salon, **changes):
    """The fixture's 10:00 visit tomorrow: specialist 0, client 0, one haircut."""
    appointment = salon.appointments[0]
    body = {
        "id": appointment.pk,
        "location_id": salon.location.pk,
        "specialist_id": salon.specialists[0].pk,
        "client_id": salon.clients[0].pk,
        "starts_at": salon.at(10).isoformat(),
        "ends_at": salon.at(11).isoformat(),
        "status": "booked",
        "comment": "",
        "lines": [haircut_line(salon)],
        "total": 10_000_000,
        "paid": 0,
        "due": 10_000_000,
        "payment_state": "unpaid",
    }
    return {**body, **changes}


def second_json(salon):
    appointment = salon.appointments[1]
    return {
        **first_json(salon),
        "id": appointment.pk,
        "specialist_id": salon.specialists[1].pk,
        "client_id": salon.clients[1].pk,
        "starts_at": salon.at(12).isoformat(),
        "ends_at": salon.at(13).isoformat(),
    }


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["items"]]


def booking(salon, hour=14, minute=0, days=1, **changes):
    body = {
        "specialist_id": salon.specialists[0].pk,
        "client_id": salon.clients[0].pk,
        "starts_at": salon.at(hour, minute, days).isoformat(),
        "lines": [{"kind": "service", "item_id": salon.services[0].pk}],
    }
    return {**body, **changes}


# ---- reading ----------------------------------------------------------------------------------


def test_list_and_read(api_a, salon_a):
    assert api_a.get("/appointments").json() == {
        "count": 2,
        "count_exact": True,
        "limit": 50,
        "offset": 0,
        "items": [first_json(salon_a), second_json(salon_a)],
    }
    response = api_a.get(f"/appointments/{salon_a.appointments[0].pk}")
    assert response.status_code == 200
    assert response.json() == first_json(salon_a)


def test_the_list_counts_only_a_bounded_way_past_the_page(api_a, salon_a, monkeypatch):
    """Counting every appointment of a long history was the one cost that grew with it."""
    from navbat.api import appointments

    monkeypatch.setattr(appointments, "APPOINTMENT_COUNT_LIMIT", 1)
    for hour in (14, 16, 18):
        salon_a.book(hour=hour)
    first, second, *_rest = sorted(salon_a.appointments, key=lambda a: a.starts_at)

    page = api_a.get("/appointments", {"limit": 1}).json()
    assert (page["count"], page["count_exact"], [row["id"] for row in page["items"]]) == (
        2,
        False,
        [first.pk],
    )
    page = api_a.get("/appointments", {"limit": 1, "offset": 1}).json()
    assert (page["count"], page["count_exact"], [row["id"] for row in page["items"]]) == (
        3,
        False,
        [second.pk],
    )
    page = api_a.get("/appointments", {"limit": 2, "offset": 2}).json()
    assert (page["count"], page["count_exact"]) == (5, True)  # the last page counts itself
    page = api_a.get("/appointments", {"limit": 2, "offset": 3}).json()
    assert (page["count"], page["count_exact"]) == (5, True)
    page = api_a.get("/appointments", {"limit": 2, "offset": 9}).json()
    assert (page["count"], page["count_exact"], page["items"]) == (5, True, [])


def test_the_list_costs_the_same_queries_for_1_or_14_rows(api_a, salon_a):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries(limit: int) -> int:
        with CaptureQueriesContext(connection) as seen:
            assert len(ids(api_a.get("/appointments", {"limit": limit}))) == min(limit, 14)
        return len([q for q in seen if q["sql"].startswith("SELECT")])

    for hour in range(14, 20):
        for specialist in salon_a.specialists[:2]:
            salon_a.book(specialist=specialist, hour=hour, days=2)
    api_a.get("/appointments")  # the token's first use of the day is written once
    few, many = queries(1), queries(50)
    # The token, the rows, their lines, the locations' zones; a full page also counts
    # (bounded), the last page does not.
    assert (few, many) == (5, 4)


def test_money_after_a_desk_payment(api_a, salon_a):
    appointment = salon_a.appointments[0]
    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=4_000_000)
    body = api_a.get(f"/appointments/{appointment.pk}").json()
    assert (body["total"], body["paid"], body["due"], body["payment_state"]) == (
        10_000_000,
        4_000_000,
        6_000_000,
        "partly_paid",
    )
    take_desk_payment(appointment=appointment, register_id=salon_a.card.pk, amount=6_000_000)
    listed = api_a.get("/appointments", {"client_id": salon_a.clients[0].pk}).json()["items"]
    assert [(row["paid"], row["due"], row["payment_state"]) for row in listed] == [
        (10_000_000, 0, "paid")
    ]


def test_filters(api_a, salon_a):
    first, second = salon_a.appointments
    specialist = salon_a.specialists[1].pk
    assert ids(api_a.get("/appointments", {"specialist_id": specialist})) == [second.pk]
    assert ids(api_a.get("/appointments", {"client_id": salon_a.clients[0].pk})) == [first.pk]
    assert ids(api_a.get("/appointments", {"location_id": salon_a.location.pk})) == [
        first.pk,
        second.pk,
    ]
    assert ids(api_a.get("/appointments", {"status": "booked"})) == [first.pk, second.pk]
    assert ids(api_a.get("/appointments", {"status": "cancelled"})) == []
    assert_error(api_a.get("/appointments", {"status": "lost"}), 422, "invalid")


def test_date_filters_use_local_days(api_a, salon_a):
    tomorrow = local_today(TZ_NAME) + timedelta(days=1)
    # 00:30 in Tashkent is still the day before in UTC: a UTC filter would miss it.
    early = create_appointment(
        business=salon_a.business,
        location=salon_a.location,
        specialist=salon_a.specialists[0],
        client=salon_a.clients[1],
        starts_at=salon_a.at(0, 30),
        lines=[LineInput(kind="product", item_id=salon_a.products[0].pk)],
        skip_working_hours=True,
    )
    assert early.starts_at.astimezone(UTC).date() == tomorrow - timedelta(days=1)
    day = tomorrow.isoformat()
    expected = [early.pk, *(a.pk for a in salon_a.appointments)]
    assert ids(api_a.get("/appointments", {"date_from": day, "date_to": day})) == expected
    assert ids(api_a.get("/appointments", {"date_from": day})) == expected
    after = (tomorrow + timedelta(days=1)).isoformat()
    assert ids(api_a.get("/appointments", {"date_from": after})) == []
    before = (tomorrow - timedelta(days=1)).isoformat()
    assert ids(api_a.get("/appointments", {"date_to": before})) == []
    assert ids(api_a.get("/appointments", {"date_to": day, "limit": 1, "offset": 2})) == [
        salon_a.appointments[1].pk
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "tomorrow"},
        {"date_from": "9999-12-31"},
        {"date_to": "0001-01-01"},
        {"date_from": "2025-02-30"},
        {"specialist_id": "-4"},
        {"client_id": str(2**64)},
    ],
)
def test_bad_filters_are_422(api_a, salon_a, params):
    assert_error(api_a.get("/appointments", params), 422, "invalid")


# ---- booking ----------------------------------------------------------------------------------


def test_book(api_a, salon_a):
    before = counts()
    body = booking(
        salon_a,
        comment="First visit",
        status="confirmed",
        lines=[
            {"kind": "service", "item_id": salon_a.services[0].pk, "discount_percent": 10},
            {"kind": "service", "item_id": salon_a.services[1].pk, "unit_price": 30_000_000},
            {"kind": "product", "item_id": salon_a.products[0].pk, "quantity": 2},
        ],
    )
    response = api_a.post("/appointments", body)
    assert response.status_code == 201, response.content
    created = Appointment.objects.get(pk=response.json()["id"])
    assert response.json() == {
        "id": created.pk,
        "location_id": salon_a.location.pk,
        "specialist_id": salon_a.specialists[0].pk,
        "client_id": salon_a.clients[0].pk,
        "starts_at": salon_a.at(14).isoformat(),
        "ends_at": salon_a.at(15, 30).isoformat(),
        "status": "confirmed",
        "comment": "First visit",
        "lines": [
            haircut_line(salon_a, discount_percent=10, amount=9_000_000),
            {
                "kind": "service",
                "item_id": salon_a.services[1].pk,
                "title": "Colouring A",
                "unit_price": 30_000_000,
                "quantity": 1,
                "discount_percent": 0,
                "amount": 30_000_000,
            },
            {
                "kind": "product",
                "item_id": salon_a.products[0].pk,
                "title": "Shampoo A",
                "unit_price": 5_000_000,
                "quantity": 2,
                "discount_percent": 0,
                "amount": 10_000_000,
            },
        ],
        "total": 49_000_000,
        "paid": 0,
        "due": 49_000_000,
        "payment_state": "unpaid",
    }
    assert created.business_id == salon_a.business.pk
    assert created.document.amount_due == 49_000_000
    after = counts()
    assert after["Appointment"] == before["Appointment"] + 1
    assert after["AppointmentLine"] == before["AppointmentLine"] + 3


def test_book_in_utc_answers_in_local_time(api_a, salon_a):
    starts = salon_a.at(15).astimezone(UTC)
    body = booking(salon_a, starts_at=starts.strftime("%Y-%m-%dT%H:%M:%SZ"))
    body["ends_at"] = salon_a.at(15, 45).isoformat()
    response = api_a.post("/appointments", body)
    assert response.status_code == 201, response.content
    assert response.json()["starts_at"] == salon_a.at(15).isoformat()
    assert response.json()["ends_at"] == salon_a.at(15, 45).isoformat()


def test_overlap_is_a_conflict_and_nothing_is_stored(api_a, salon_a):
    before = counts()
    response = api_a.post("/appointments", booking(salon_a, hour=10, minute=30))
    body = assert_error(response, 409, "conflict")
    assert "already has an appointment" in body["message"]
    assert counts() == before


def test_the_other_specialist_is_free_then(api_a, salon_a):
    body = booking(salon_a, hour=10, minute=30, specialist_id=salon_a.specialists[1].pk)
    assert api_a.post("/appointments", body).status_code == 201


S = "service"


def bad_bookings(salon_a, salon_b):
    """(description, body) pairs that must all be refused with 4xx and store nothing."""
    service = salon_a.services[0].pk
    colouring = salon_a.services[1].pk

    def lines(**line):
        return {"lines": [{"kind": S, "item_id": service, **line}]}

    return [
        ("outside working hours (evening)", booking(salon_a, hour=20, minute=30)),
        ("outside working hours (morning)", booking(salon_a, hour=7)),
        ("day off", booking(salon_a, hour=10, days=30, specialist_id=salon_a.specialists[1].pk)),
        ("ends before it starts", booking(salon_a, ends_at=salon_a.at(13).isoformat())),
        ("longer than 12 hours", booking(salon_a, ends_at=salon_a.at(9, days=2).isoformat())),
        ("no lines", booking(salon_a, lines=[])),
        ("too many lines", booking(salon_a, lines=[{"kind": S, "item_id": service}] * 51)),
        ("unknown kind", booking(salon_a, lines=[{"kind": "gift", "item_id": service}])),
        ("zero quantity", booking(salon_a, **lines(quantity=0))),
        ("huge quantity", booking(salon_a, **lines(quantity=1000))),
        ("negative discount", booking(salon_a, **lines(discount_percent=-1))),
        ("discount over 100", booking(salon_a, **lines(discount_percent=101))),
        ("negative price", booking(salon_a, **lines(unit_price=-100))),
        ("price over the limit", booking(salon_a, **lines(unit_price=MAX_AMOUNT_TIYIN + 1))),
        ("price beyond 64 bits", booking(salon_a, **lines(unit_price=2**64))),
        ("price as a float", booking(salon_a, **lines(unit_price=100.5))),
        ("price as a string", booking(salon_a, **lines(unit_price="lots"))),
        (
            "total over the limit",
            booking(salon_a, **lines(unit_price=MAX_AMOUNT_TIYIN // 2 + 1, quantity=2)),
        ),
        (
            "price outside the range",
            booking(salon_a, lines=[{"kind": S, "item_id": colouring, "unit_price": 60_000_000}]),
        ),
        (
            "another business's service",
            booking(salon_a, lines=[{"kind": S, "item_id": salon_b.services[0].pk}]),
        ),
        ("no such service", booking(salon_a, lines=[{"kind": S, "item_id": 10**9}])),
        (
            "another business's specialist",
            booking(salon_a, specialist_id=salon_b.specialists[0].pk),
        ),
        ("another business's client", booking(salon_a, client_id=salon_b.clients[0].pk)),
        ("another business's location", booking(salon_a, location_id=salon_b.location.pk)),
        ("id beyond 64 bits", booking(salon_a, client_id=2**64)),
        ("id zero", booking(salon_a, client_id=0)),
        ("id as text", booking(salon_a, client_id="one")),
        ("no time zone", booking(salon_a, starts_at="2030-01-01T10:00:00")),
        ("not a time", booking(salon_a, starts_at="tomorrow at ten")),
        ("year 9999", booking(salon_a, starts_at="9999-12-31T23:59:59-23:59")),
        ("year 1", booking(salon_a, starts_at="0001-01-01T00:00:00+14:00")),
        ("finished status", booking(salon_a, status="completed")),
        ("unknown status", booking(salon_a, status="teleported")),
        ("comment too long", booking(salon_a, comment="c" * 2001)),
        ("comment of 10k", booking(salon_a, comment="c" * 10_000)),
        ("empty object", {}),
        ("a list", [booking(salon_a)]),
        ("null", None),
    ]


def test_bad_bookings_are_refused_and_nothing_is_stored(api_a, salon_a, salon_b):
    before = counts()
    for description, body in bad_bookings(salon_a, salon_b):
        raw = "null" if body is None else None
        response = api_a.post("/appointments", body, raw=raw)
        assert 400 <= response.status_code < 500, (description, response.content)
        assert response.json()["code"] in ("invalid", "malformed"), description
        assert response.json()["details"], description
        assert counts() == before, description


def test_refusals_name_the_field(api_a, salon_a, salon_b):
    def details(body):
        return assert_error(api_a.post("/appointments", body), 422, "invalid")["details"]

    assert list(details(booking(salon_a, hour=21))) == ["starts_at"]
    assert list(details(booking(salon_a, client_id=salon_b.clients[0].pk))) == ["client_id"]
    assert list(details(booking(salon_a, lines=[]))) == ["lines"]
    quantity = booking(salon_a, lines=[{"kind": S, "item_id": 1, "quantity": 0}])
    assert list(details(quantity)) == ["lines.0.quantity"]


# ---- changing ---------------------------------------------------------------------------------


def test_move_keeps_the_length(api_a, salon_a):
    appointment = salon_a.appointments[0]
    response = api_a.patch(
        f"/appointments/{appointment.pk}", {"starts_at": salon_a.at(16, days=2).isoformat()}
    )
    assert response.status_code == 200, response.content
    assert response.json() == first_json(
        salon_a,
        starts_at=salon_a.at(16, days=2).isoformat(),
        ends_at=salon_a.at(17, days=2).isoformat(),
    )


def test_change_specialist_lines_and_comment(api_a, salon_a):
    appointment = salon_a.appointments[0]
    response = api_a.patch(
        f"/appointments/{appointment.pk}",
        {
            "specialist_id": salon_a.specialists[1].pk,
            "comment": "Moved to the other chair",
            "lines": [{"kind": "product", "item_id": salon_a.products[0].pk, "quantity": 3}],
        },
    )
    assert response.status_code == 200, response.content
    assert response.json() == first_json(
        salon_a,
        specialist_id=salon_a.specialists[1].pk,
        comment="Moved to the other chair",
        lines=[
            {
                "kind": "product",
                "item_id": salon_a.products[0].pk,
                "title": "Shampoo A",
                "unit_price": 5_000_000,
                "quantity": 3,
                "discount_percent": 0,
                "amount": 15_000_000,
            }
        ],
        total=15_000_000,
        due=15_000_000,
    )
    appointment.refresh_from_db()
    assert appointment.document.amount_due == 15_000_000


def test_change_client(api_a, salon_a):
    appointment = salon_a.appointments[0]
    body = api_a.patch(
        f"/appointments/{appointment.pk}", {"client_id": salon_a.clients[1].pk}
    ).json()
    assert body["client_id"] == salon_a.clients[1].pk


def test_moving_onto_another_visit_is_a_conflict(api_a, salon_a):
    appointment = salon_a.appointments[1]
    before = counts(), first_json(salon_a), second_json(salon_a)
    response = api_a.patch(
        f"/appointments/{appointment.pk}",
        {"specialist_id": salon_a.specialists[0].pk, "starts_at": salon_a.at(10, 30).isoformat()},
    )
    assert_error(response, 409, "conflict")
    assert api_a.get(f"/appointments/{appointment.pk}").json() == second_json(salon_a)
    assert (counts(), first_json(salon_a), second_json(salon_a)) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"starts_at": "2030-01-01T23:00:00+05:00"}, "starts_at"),
        ({"lines": []}, "lines"),
        ({"lines": [{"kind": "service", "item_id": 10**9}]}, "lines"),
        ({"comment": "c" * 2001}, "comment"),
        ({"specialist_id": 10**12}, "specialist_id"),
        ({"ends_at": "yesterday"}, "ends_at"),
    ],
)
def test_bad_changes_change_nothing(api_a, salon_a, change, field):
    appointment = salon_a.appointments[0]
    before = counts()
    response = api_a.patch(f"/appointments/{appointment.pk}", change)
    assert field in assert_error(response, 422, "invalid")["details"]
    assert api_a.get(f"/appointments/{appointment.pk}").json() == first_json(salon_a)
    assert counts() == before


# ---- status and cancelling --------------------------------------------------------------------


def test_status_changes(api_a, salon_a):
    url = f"/appointments/{salon_a.appointments[0].pk}/status"
    assert api_a.post(url, {"status": "confirmed"}).json() == first_json(
        salon_a, status="confirmed"
    )
    assert api_a.post(url, {"status": "arrived"}).json()["status"] == "arrived"
    assert api_a.post(url, {"status": "completed"}).json()["status"] == "completed"
    refused = assert_error(api_a.post(url, {"status": "no_show"}), 422, "invalid")
    assert list(refused["details"]) == ["status"]
    assert_error(api_a.post(url, {"status": "teleported"}), 422, "invalid")
    assert_error(api_a.post(url, {}), 422, "invalid")
    salon_a.appointments[0].refresh_from_db()
    assert salon_a.appointments[0].status == "completed"


def test_cancel_frees_the_slot_and_restoring_needs_it_free(api_a, salon_a):
    appointment = salon_a.appointments[0]
    response = api_a.post(f"/appointments/{appointment.pk}/cancel")
    assert response.status_code == 200
    assert response.json() == first_json(salon_a, status="cancelled")
    taken = api_a.post("/appointments", booking(salon_a, hour=10))
    assert taken.status_code == 201
    restore = api_a.post(f"/appointments/{appointment.pk}/status", {"status": "booked"})
    assert_error(restore, 409, "conflict")
    appointment.refresh_from_db()
    assert appointment.status == "cancelled"
    moving = api_a.patch(
        f"/appointments/{appointment.pk}", {"starts_at": salon_a.at(17).isoformat()}
    )
    assert_error(moving, 422, "invalid")


def test_cancelling_twice_is_harmless(api_a, salon_a):
    url = f"/appointments/{salon_a.appointments[0].pk}/cancel"
    assert api_a.post(url).json()["status"] == "cancelled"
    assert api_a.post(url).json()["status"] == "cancelled"


def test_missing_appointment_is_404(api_a, salon_a):
    for method, path, body in [
        ("GET", "/appointments/424242", None),
        ("PATCH", "/appointments/424242", {"comment": "x"}),
        ("POST", "/appointments/424242/status", {"status": "confirmed"}),
        ("POST", "/appointments/424242/cancel", None),
    ]:
        assert_error(api_a.send(method, path, body), 404, "not_found")


def test_the_api_takes_the_same_days_as_the_forms():
    import datetime

    from navbat.api import schemas
    from navbat.kit import forms as kit_forms

    assert datetime.date(2000, 1, 1) == schemas.FIRST_DAY
    assert datetime.date(2100, 12, 31) == schemas.LAST_DAY
    assert schemas.FIRST_DAY is kit_forms.FIRST_DAY and schemas.LAST_DAY is kit_forms.LAST_DAY
