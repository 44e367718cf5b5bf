"""The public booking API's reads: a location's services, who performs them, the days with
free time and one day's times. No token; a location by its public slug; exact bodies."""

from datetime import UTC, datetime, time, timedelta

import pytest

from navbat.booking.availability import MAX_DAYS
from navbat.salons.models import Prepayment, PrepaymentAmount, Service, Specialist
from navbat.salons.services import create_location, set_weekly_schedule

from .conftest import assert_error
from .public_helpers import ROOT, Public, day, local_iso, turn_on, written

pytestmark = pytest.mark.django_db

NOT_FOUND = {"code": "not_found", "message": "Not found.", "details": None}


@pytest.fixture(autouse=True)
def public_root(settings):
    settings.NAVBAT_PUBLIC_URL = ROOT


@pytest.fixture
def public(client):
    return Public(client)


@pytest.fixture
def on_a(salon_a):
    return turn_on(salon_a)


def slug(salon) -> str:
    return salon.location.public_slug


def service_json(service, mode="none", amount=0) -> dict:
    return {
        "id": service.pk,
        "name": service.name,
        "description": "",
        "price": service.price,
        "price_max": service.price_max,
        "duration_minutes": service.duration_minutes,
        "prepayment": {"mode": mode, "amount": amount},
    }


def location_json(**fields) -> dict:
    out = {
        "name": "Location A",
        "salon": "Salon A",
        "address": "Tashkent",
        "timezone": "Asia/Tashkent",
        "terms": "",
        "phone_confirmation": False,
        "hold_minutes": 15,
        "horizon_days": 60,
    }
    out.update(fields)
    return out


# ---- services -------------------------------------------------------------------------------


def test_services_by_category_with_prices_and_nothing_asked(public, salon_a, on_a):
    haircut, colouring = salon_a.services
    response = public.get(f"/{slug(salon_a)}/services")
    assert response.status_code == 200
    assert response.json() == {
        "location": location_json(),
        "categories": [
            {
                "id": salon_a.category.pk,
                "name": "Hair A",
                "services": [service_json(colouring), service_json(haircut)],
            }
        ],
    }


def test_services_say_what_each_asks_alone_once_the_salon_takes_payments(
    public, salon_a, on_a, connect_uzum
):
    connect_uzum(salon_a)
    haircut, colouring = salon_a.services
    haircut.prepayment = Prepayment.REQUIRED
    haircut.prepayment_amount = PrepaymentAmount.PERCENT
    haircut.prepayment_value = 30
    haircut.save()
    colouring.prepayment = Prepayment.OPTIONAL
    colouring.prepayment_amount = PrepaymentAmount.FIXED
    colouring.prepayment_value = 5_000_000
    colouring.save()
    # A specialist's own rule is theirs: the services list shows the service's alone.
    salon_a.specialists[0].prepayment = Prepayment.REQUIRED
    salon_a.specialists[0].save()
    body = public.get(f"/{slug(salon_a)}/services").json()
    assert body["categories"][0]["services"] == [
        service_json(colouring, "optional", 5_000_000),
        service_json(haircut, "required", 3_000_000),
    ]


def test_a_rule_the_salon_cannot_collect_asks_nothing(public, salon_a, on_a):
    haircut = salon_a.services[0]
    haircut.prepayment = Prepayment.REQUIRED
    haircut.save()
    body = public.get(f"/{slug(salon_a)}/services").json()
    assert body["categories"][0]["services"][1] == service_json(haircut)


def test_only_services_someone_here_performs_online_are_listed(public, salon_a, on_a):
    haircut, colouring = salon_a.services
    colouring.bookable_online = False
    colouring.save()
    Service.objects.create(
        business=salon_a.business, name="Nobody does it", price=100, duration_minutes=30
    )
    retired = Service.objects.create(
        business=salon_a.business, name="Retired", price=100, duration_minutes=30, is_active=False
    )
    salon_a.specialists[0].services.add(retired)
    # Uncategorised services come last, under a category without an id.
    loose = Service.objects.create(
        business=salon_a.business, name="Beard trim", price=4_000_000, duration_minutes=15
    )
    salon_a.specialists[1].services.add(loose)
    # A specialist who is not bookable online does not make a service bookable.
    hidden = Service.objects.create(
        business=salon_a.business, name="Hidden", price=100, duration_minutes=30
    )
    salon_a.specialists[0].services.add(hidden)
    salon_a.specialists[0].bookable_online = False
    salon_a.specialists[0].save()
    body = public.get(f"/{slug(salon_a)}/services").json()
    assert body["categories"] == [
        {"id": salon_a.category.pk, "name": "Hair A", "services": [service_json(haircut)]},
        {"id": None, "name": "", "services": [service_json(loose)]},
    ]


def test_the_location_tells_its_terms_and_rules(public, salon_a):
    turn_on(
        salon_a, terms="Come on time.", phone_confirmation=True, hold_minutes=30, horizon_days=14
    )
    body = public.get(f"/{slug(salon_a)}/services").json()
    assert body["location"] == location_json(
        terms="Come on time.", phone_confirmation=True, hold_minutes=30, horizon_days=14
    )


@pytest.mark.parametrize(
    "path",
    [
        "/{slug}/services",
        "/{slug}/specialists?services={service}",
        "/{slug}/days?services={service}&from={first}&to={first}",
        "/{slug}/times?services={service}&date={first}",
    ],
)
def test_an_unknown_location_or_a_widget_turned_off_is_not_found(public, salon_a, path):
    fill = {"service": salon_a.services[0].pk, "first": day(2).isoformat()}
    # Off: no settings at all (the default is off), then settings saying off.
    assert public.get(path.format(slug=slug(salon_a), **fill)).json() == NOT_FOUND
    turn_on(salon_a, enabled=False)
    for name in (slug(salon_a), "no-such-salon", "a" * 61, "bad%20slug", "%00", "x.y"):
        response = public.get(path.format(slug=name, **fill))
        assert response.status_code == 404, name
        assert response.json() == NOT_FOUND


def test_the_not_found_answer_speaks_the_clients_language(client, salon_a):
    assert Public(client, "ru").get("/nowhere/services").json()["message"] == "Не найдено."
    assert Public(client, "uz").get("/nowhere/services").json()["message"] == "Topilmadi."
    response = Public(client, "ru").get("/nowhere/services")
    assert response["Content-Language"] == "ru"


def test_reads_write_nothing_but_their_count(public, salon_a, on_a):
    before = written()
    public.get(f"/{slug(salon_a)}/services")
    public.get(f"/{slug(salon_a)}/times", {"services": salon_a.services[0].pk, "date": day(2)})
    assert written() == before


# ---- specialists ----------------------------------------------------------------------------


def specialist_json(specialist, *, photo_url=None, mode="none", amount=0) -> dict:
    return {
        "id": specialist.pk,
        "name": specialist.name,
        "position": "Stylist",
        "photo_url": photo_url,
        "prepayment": {"mode": mode, "amount": amount},
    }


def test_specialists_who_perform_every_service(public, salon_a, on_a):
    first, second = salon_a.specialists
    both = f"{salon_a.services[0].pk},{salon_a.services[1].pk}"
    response = public.get(f"/{slug(salon_a)}/specialists", {"services": both})
    assert response.status_code == 200
    assert response.json() == [specialist_json(first), specialist_json(second)]
    second.services.remove(salon_a.services[1])
    assert public.get(f"/{slug(salon_a)}/specialists", {"services": both}).json() == [
        specialist_json(first)
    ]
    only_haircut = {"services": str(salon_a.services[0].pk)}
    assert public.get(f"/{slug(salon_a)}/specialists", only_haircut).json() == [
        specialist_json(first),
        specialist_json(second),
    ]


def test_specialists_show_their_photo_and_what_they_ask(public, salon_a, on_a, connect_uzum):
    connect_uzum(salon_a)
    first, second = salon_a.specialists
    first.photo = b"\xff\xd8jpeg"
    first.photo_updated_at = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)
    first.prepayment = Prepayment.REQUIRED
    first.save()
    haircut, colouring = salon_a.services
    colouring.prepayment = Prepayment.OPTIONAL
    colouring.prepayment_amount = PrepaymentAmount.PERCENT
    colouring.prepayment_value = 50
    colouring.save()
    params = {"services": f"{haircut.pk},{colouring.pk}"}
    body = public.get(f"/{slug(salon_a)}/specialists", params).json()
    photo = f"{ROOT}/book/{slug(salon_a)}/specialists/{first.pk}/photo?v=1740823200"
    assert body == [
        # Required by the specialist: both services' whole (lowest) price.
        specialist_json(first, photo_url=photo, mode="required", amount=30_000_000),
        # Only the colouring's optional half of its lowest price.
        specialist_json(second, mode="optional", amount=10_000_000),
    ]


@pytest.mark.parametrize(
    ("services", "field", "message"),
    [
        ("", "services", None),
        ("abc", "services", None),
        ("1,,2", "services", None),
        ("0", "services", None),
        ("99999999999999999999", "services", None),
        ("{b}", "services", "One of the services cannot be booked online."),
        ("{a},{a}", "services", "A service is chosen twice."),
        ("1,2,3,4,5,6", "services", "Choose at most 5 services."),
    ],
)
def test_bad_service_lists_are_422(public, salon_a, salon_b, on_a, services, field, message):
    services = services.format(a=salon_a.services[0].pk, b=salon_b.services[0].pk)
    response = public.get(f"/{slug(salon_a)}/specialists", {"services": services})
    body = assert_error(response, 422, "invalid")
    assert list(body["details"]) == [field]
    if message is not None:
        assert body == {"code": "invalid", "message": message, "details": {field: [message]}}


def test_another_business_sees_nothing_of_a_location_through_its_own_ids(
    public, salon_a, salon_b, on_a
):
    turn_on(salon_b)
    # B's slug with A's services, and A's slug with B's specialist.
    response = public.get(f"/{slug(salon_b)}/specialists", {"services": salon_a.services[0].pk})
    assert_error(response, 422, "invalid")
    params = {
        "services": salon_a.services[0].pk,
        "specialist": salon_b.specialists[0].pk,
        "date": day(2),
    }
    body = assert_error(public.get(f"/{slug(salon_a)}/times", params), 422, "invalid")
    assert body["details"] == {
        "specialist": ["This specialist does not take these services online here."]
    }


# ---- days -----------------------------------------------------------------------------------


def test_days_with_free_time_for_any_specialist_and_for_one(public, salon_a, on_a):
    first, last = day(1), day(31)
    params = {"services": salon_a.services[0].pk, "from": first, "to": last}
    every_day = [(first + timedelta(days=n)).isoformat() for n in range(31)]
    response = public.get(f"/{slug(salon_a)}/days", params)
    assert response.status_code == 200
    assert response.json() == every_day
    # The second specialist has a day off 30 days from today.
    one = public.get(f"/{slug(salon_a)}/days", {**params, "specialist": salon_a.specialists[1].pk})
    assert one.json() == [d for d in every_day if d != day(30).isoformat()]


def test_days_end_at_the_horizon_and_never_before_today(public, salon_a):
    turn_on(salon_a, horizon_days=3)
    params = {"services": salon_a.services[0].pk, "from": day(-10), "to": day(10)}
    days = public.get(f"/{slug(salon_a)}/days", params).json()
    assert days[-3:] == [day(1).isoformat(), day(2).isoformat(), day(3).isoformat()]
    assert set(days) <= {day(n).isoformat() for n in range(4)}
    past = {"services": salon_a.services[0].pk, "from": "2020-01-01", "to": "2020-01-31"}
    assert public.get(f"/{slug(salon_a)}/days", past).json() == []


def test_a_window_longer_than_allowed_or_backwards_is_422(public, salon_a, on_a):
    service = salon_a.services[0].pk
    too_long = {"services": service, "from": day(1), "to": day(1 + MAX_DAYS)}
    body = assert_error(public.get(f"/{slug(salon_a)}/days", too_long), 422, "invalid")
    message = f"Ask for at most {MAX_DAYS} days at once."
    assert body == {"code": "invalid", "message": message, "details": {"to": [message]}}
    just = {"services": service, "from": day(1), "to": day(MAX_DAYS)}
    assert public.get(f"/{slug(salon_a)}/days", just).status_code == 200
    backwards = {"services": service, "from": day(5), "to": day(4)}
    body = assert_error(public.get(f"/{slug(salon_a)}/days", backwards), 422, "invalid")
    assert body["details"] == {"to": ["The last day comes before the first."]}
    for bad in ({"from": "tomorrow"}, {"to": "2025-02-30"}, {"from": "1999-12-31"}):
        params = {"services": service, "from": day(1), "to": day(2), **bad}
        body = assert_error(public.get(f"/{slug(salon_a)}/days", params), 422, "invalid")
        assert list(body["details"]) == list(bad)
    missing = assert_error(
        public.get(f"/{slug(salon_a)}/days", {"services": service}), 422, "invalid"
    )
    assert sorted(missing["details"]) == ["from", "to"]


# ---- times ----------------------------------------------------------------------------------


def starts(salon, hours: list[tuple[int, int]], specialist, days: int = 2) -> list[dict]:
    return [{"start": local_iso(salon, h, m, days), "specialist": specialist.pk} for h, m in hours]


def quarter_hours(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    out, minutes = [], first[0] * 60 + first[1]
    while minutes <= last[0] * 60 + last[1]:
        out.append(divmod(minutes, 60))
        minutes += 15
    return out


def test_times_of_a_day_with_the_locations_offset(public, salon_a, on_a):
    first = salon_a.specialists[0]
    params = {"services": salon_a.services[0].pk, "specialist": first.pk, "date": day(2)}
    response = public.get(f"/{slug(salon_a)}/times", params)
    assert response.status_code == 200
    # Works 9:00-20:00; a 60-minute haircut starts at 19:00 at the latest.
    assert response.json() == starts(salon_a, quarter_hours((9, 0), (19, 0)), first)
    assert response.json()[0]["start"].endswith("T09:00:00+05:00")
    # Tomorrow the first specialist has a haircut at 10:00.
    tomorrow = public.get(f"/{slug(salon_a)}/times", {**params, "date": day(1)}).json()
    assert tomorrow == starts(salon_a, [(9, 0), *quarter_hours((11, 0), (19, 0))], first, days=1)


def test_any_specialist_fills_a_time_with_whoever_is_free(public, salon_a, on_a):
    first, second = salon_a.specialists
    params = {"services": salon_a.services[0].pk, "date": day(1)}
    times = public.get(f"/{slug(salon_a)}/times", params).json()
    by_start = {row["start"]: row["specialist"] for row in times}
    # 10:00 tomorrow: the first has a haircut, the second is free.
    assert by_start[local_iso(salon_a, 10, 0, days=1)] == second.pk
    assert by_start[local_iso(salon_a, 9, 0, days=1)] == first.pk
    assert len(times) == len(quarter_hours((9, 0), (19, 0)))


def test_several_services_take_their_summed_length(public, salon_a, on_a):
    first = salon_a.specialists[0]
    both = f"{salon_a.services[0].pk},{salon_a.services[1].pk}"
    params = {"services": both, "specialist": first.pk, "date": day(2)}
    times = public.get(f"/{slug(salon_a)}/times", params).json()
    assert times == starts(salon_a, quarter_hours((9, 0), (18, 30)), first)


def test_another_locations_specialist_is_422(public, salon_a, on_a):
    elsewhere = create_location(business=salon_a.business, name="Yunusobod", address="Tashkent")
    stranger = Specialist.objects.create(
        business=salon_a.business, location=elsewhere, name="Elsewhere"
    )
    stranger.services.set(salon_a.services)
    set_weekly_schedule(specialist=stranger, week={d: (time(9), time(20)) for d in range(7)})
    params = {"services": salon_a.services[0].pk, "specialist": stranger.pk, "date": day(2)}
    body = assert_error(public.get(f"/{slug(salon_a)}/times", params), 422, "invalid")
    assert body["details"] == {
        "specialist": ["This specialist does not take these services online here."]
    }


def test_a_time_taken_is_no_longer_offered(public, salon_a, on_a):
    first = salon_a.specialists[0]
    salon_a.book(specialist=first, hour=15, days=2)
    params = {"services": salon_a.services[0].pk, "specialist": first.pk, "date": day(2)}
    times = [row["start"] for row in public.get(f"/{slug(salon_a)}/times", params).json()]
    assert local_iso(salon_a, 14, 0) in times
    for hour, minute in quarter_hours((14, 15), (15, 45)):
        assert local_iso(salon_a, hour, minute) not in times
    assert local_iso(salon_a, 16, 0) in times


def test_times_need_a_date(public, salon_a, on_a):
    body = assert_error(
        public.get(f"/{slug(salon_a)}/times", {"services": salon_a.services[0].pk}),
        422,
        "invalid",
    )
    assert list(body["details"]) == ["date"]
