from datetime import date, time, timedelta

import pytest
from django.urls import reverse

from navbat.kit.timeutil import local_today
from navbat.salons.models import ScheduleException, Specialist
from navbat.salons.selectors import weekly_schedule

from .pages import snapshot, text

pytestmark = pytest.mark.django_db

TZ = "Asia/Tashkent"


def week_data(**overrides):
    """Monday to Friday 10:00–19:00, Saturday 11:00–16:00, Sunday off."""
    data = {}
    for weekday in range(5):
        data[f"day{weekday}_starts"] = "10:00"
        data[f"day{weekday}_ends"] = "19:00"
    data.update(day5_starts="11:00", day5_ends="16:00", day6_off="on")
    data.update(overrides)
    return data


def specialist_data(salon, **overrides):
    data = {
        "name": "Madina Yusupova",
        "position": "Colourist",
        "location": salon.location.pk,
        "is_active": "on",
        "services": [salon.services[1].pk],
        **week_data(),
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


EXPECTED_WEEK = {
    **{weekday: (time(10), time(19)) for weekday in range(5)},
    5: (time(11), time(16)),
    6: None,
}


def edit_url(specialist) -> str:
    return reverse("salons:specialist_edit", kwargs={"specialist_id": specialist.pk})


# --- List ------------------------------------------------------------------------------------


def test_list_shows_the_business_specialists(salon_a, salon_b, login):
    page = login(salon_a.owner).get(reverse("salons:specialists"))
    assert page.status_code == 200
    body = text(page)
    assert "Specialist A0" in body and "Specialist A1" in body
    assert "Stylist" in body and "Location A" in body
    assert '<td class="num">2</td>' in body  # each performs both services
    assert "Specialist B0" not in body
    # The catalog's sub-navigation, with this page marked.
    assert 'class="subnav"' in body
    assert f'href="{reverse("salons:services")}"' in body
    assert f'href="{reverse("salons:products")}"' in body


# --- Create and edit -------------------------------------------------------------------------


def test_new_specialist_form_offers_a_default_week(salon_a, login):
    page = login(salon_a.owner).get(reverse("salons:specialist_new"))
    assert page.status_code == 200
    body = text(page)
    assert "Monday" in body and "Sunday" in body
    assert 'name="day0_starts" value="09:00"' in body
    assert "Haircut A" in body and "Colouring A" in body and "Haircut B" not in body


def test_owner_creates_a_specialist_with_services_and_week(salon_a, login):
    response = login(salon_a.owner).post(reverse("salons:specialist_new"), specialist_data(salon_a))
    specialist = Specialist.objects.get(business=salon_a.business, name="Madina Yusupova")
    assert response.status_code == 302
    assert response["Location"] == edit_url(specialist)
    assert specialist.position == "Colourist"
    assert specialist.location == salon_a.location
    assert specialist.is_active is True
    assert list(specialist.services.all()) == [salon_a.services[1]]
    assert weekly_schedule(specialist=specialist) == EXPECTED_WEEK


def test_owner_edits_a_specialist(salon_a, login):
    specialist = salon_a.specialists[0]
    data = specialist_data(
        salon_a,
        name="Specialist A0 renamed",
        position="",
        is_active=None,
        services=[],
        day0_off="on",
        day2_starts="08:30",
        day2_ends="12:15",
    )
    response = login(salon_a.owner).post(edit_url(specialist), data)
    assert response.status_code == 302
    specialist.refresh_from_db()
    assert specialist.name == "Specialist A0 renamed"
    assert specialist.position == ""
    assert specialist.is_active is False
    assert specialist.services.count() == 0
    week = weekly_schedule(specialist=specialist)
    assert week[0] is None
    assert week[2] == (time(8, 30), time(12, 15))
    assert week[6] is None


def test_edit_page_shows_the_stored_week_and_exceptions(salon_a, login):
    specialist = salon_a.specialists[1]
    page = login(salon_a.owner).get(edit_url(specialist))
    assert page.status_code == 200
    body = text(page)
    assert 'value="Specialist A1"' in body
    assert 'name="day3_starts" value="09:00"' in body
    assert 'name="day3_ends" value="20:00"' in body
    assert salon_a.exception.day.strftime("%-d %b %Y") in body
    assert "Day off" in body


BAD_SPECIALISTS = [
    ({"name": ""}, "This field is required."),
    ({"name": "x" * 151}, "at most 150 characters"),
    ({"position": "p" * 101}, "at most 100 characters"),
    ({"location": ""}, "This field is required."),
    ({"location": "abc"}, "Select a valid choice."),
    ({"day1_starts": "25:00"}, "Enter a valid time."),
    ({"day1_ends": "noon"}, "Enter a valid time."),
    ({"day1_starts": "19:00", "day1_ends": "10:00"}, "A shift must end after it starts."),
    ({"day1_starts": "10:00", "day1_ends": "10:00"}, "A shift must end after it starts."),
    ({"day4_starts": ""}, "Give the start and end of the shift, or mark a day off."),
    ({"services": ["abc"]}, "is not a valid value"),
]


@pytest.mark.parametrize("overrides,message", BAD_SPECIALISTS)
def test_bad_new_specialist_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    before = snapshot()
    response = login(salon_a.owner).post(
        reverse("salons:specialist_new"), specialist_data(salon_a, **overrides)
    )
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


@pytest.mark.parametrize("overrides,message", BAD_SPECIALISTS)
def test_bad_specialist_edit_changes_nothing(salon_a, login, overrides, message):
    before = snapshot()
    response = login(salon_a.owner).post(
        edit_url(salon_a.specialists[0]), specialist_data(salon_a, **overrides)
    )
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


def test_another_business_location_and_services_are_refused(salon_a, salon_b, login):
    http = login(salon_a.owner)
    before = snapshot()
    for overrides in (
        {"location": salon_b.location.pk},
        {"services": [salon_a.services[0].pk, salon_b.services[0].pk]},
    ):
        response = http.post(
            edit_url(salon_a.specialists[0]), specialist_data(salon_a, **overrides)
        )
        assert response.status_code == 400
        assert "Select a valid choice." in text(response)
        response = http.post(
            reverse("salons:specialist_new"), specialist_data(salon_a, **overrides)
        )
        assert response.status_code == 400
    assert snapshot() == before


# --- Schedule exceptions ---------------------------------------------------------------------


def exception_url(specialist) -> str:
    return reverse("salons:schedule_exception_add", kwargs={"specialist_id": specialist.pk})


def remove_url(exception) -> str:
    return reverse("salons:schedule_exception_remove", kwargs={"exception_id": exception.pk})


def in_days(days: int) -> date:
    return local_today(TZ) + timedelta(days=days)


def test_owner_adds_a_day_off(salon_a, login):
    specialist = salon_a.specialists[0]
    day = in_days(10)
    response = login(salon_a.owner).post(
        exception_url(specialist),
        {"exception-day": day.isoformat(), "exception-is_day_off": "on", "exception-note": "Ill"},
    )
    assert response.status_code == 302
    assert response["Location"] == edit_url(specialist)
    row = ScheduleException.objects.get(specialist=specialist, day=day)
    assert (row.is_day_off, row.starts, row.ends, row.note) == (True, None, None, "Ill")
    assert row.business == salon_a.business


def test_owner_sets_other_hours_and_a_second_time_replaces_them(salon_a, login):
    specialist = salon_a.specialists[0]
    day = in_days(11)
    http = login(salon_a.owner)
    for starts, ends in (("12:00", "15:00"), ("13:30", "18:45")):
        response = http.post(
            exception_url(specialist),
            {"exception-day": day.isoformat(), "exception-starts": starts, "exception-ends": ends},
        )
        assert response.status_code == 302
    row = ScheduleException.objects.get(specialist=specialist, day=day)
    assert (row.is_day_off, row.starts, row.ends) == (False, time(13, 30), time(18, 45))
    body = text(http.get(edit_url(specialist)))
    assert "13:30–18:45" in body


BAD_EXCEPTIONS = [
    ({"exception-day": ""}, "This field is required."),
    ({"exception-day": "2025-02-30"}, "Enter a valid date."),
    ({"exception-day": "1999-12-31"}, "Enter a date between 2000-01-01 and 2100-12-31."),
    ({"exception-day": "9999-12-31"}, "Enter a date between 2000-01-01 and 2100-12-31."),
    ({"exception-is_day_off": ""}, "Give the hours of that day, or mark it a day off."),
    (
        {"exception-is_day_off": "", "exception-starts": "18:00", "exception-ends": "09:00"},
        "The hours must end after they start.",
    ),
    ({"exception-is_day_off": "", "exception-starts": "9am"}, "Enter a valid time."),
    ({"exception-note": "n" * 201}, "at most 200 characters"),
]


@pytest.mark.parametrize("overrides,message", BAD_EXCEPTIONS)
def test_bad_exception_is_refused_and_stores_nothing(salon_a, login, overrides, message):
    data = {"exception-day": in_days(12).isoformat(), "exception-is_day_off": "on"}
    data.update(overrides)
    before = snapshot()
    response = login(salon_a.owner).post(exception_url(salon_a.specialists[0]), data)
    assert response.status_code == 400
    assert message in text(response)
    assert snapshot() == before


def test_owner_removes_an_exception(salon_a, login):
    specialist, exception = salon_a.specialists[1], salon_a.exception
    response = login(salon_a.owner).post(remove_url(exception))
    assert response.status_code == 302
    assert response["Location"] == edit_url(specialist)
    assert not ScheduleException.objects.filter(pk=exception.pk).exists()


def test_removing_needs_a_post(salon_a, login):
    response = login(salon_a.owner).get(remove_url(salon_a.exception))
    assert response.status_code == 405
    assert ScheduleException.objects.filter(pk=salon_a.exception.pk).exists()


# --- Permissions and other businesses --------------------------------------------------------


def test_specialist_user_is_refused(salon_a, login):
    http = login(salon_a.specialist_user)
    own = salon_a.specialists[0]
    before = snapshot()
    assert http.get(reverse("salons:specialists")).status_code == 403
    assert http.get(reverse("salons:specialist_new")).status_code == 403
    assert http.get(edit_url(own)).status_code == 403
    assert http.post(edit_url(own), specialist_data(salon_a)).status_code == 403
    assert (
        http.post(
            exception_url(own),
            {"exception-day": in_days(3).isoformat(), "exception-is_day_off": "on"},
        ).status_code
        == 403
    )
    assert http.post(remove_url(salon_a.exception)).status_code == 403
    assert snapshot() == before


def test_another_business_specialist_is_not_found(salon_a, salon_b, login):
    http = login(salon_a.owner)
    foreign = salon_b.specialists[1]
    before = snapshot()
    assert http.get(edit_url(foreign)).status_code == 404
    assert http.post(edit_url(foreign), specialist_data(salon_a)).status_code == 404
    data = {"exception-day": in_days(3).isoformat(), "exception-is_day_off": "on"}
    assert http.post(exception_url(foreign), data).status_code == 404
    assert http.get(remove_url(salon_b.exception)).status_code == 404
    assert http.post(remove_url(salon_b.exception)).status_code == 404
    assert snapshot() == before
