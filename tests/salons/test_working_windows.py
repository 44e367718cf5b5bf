"""Each specialist's hours on a day, read in one statement (the journal and every booking
check ask it): the regular shift, overridden by that day's exception."""

from datetime import date, time, timedelta

import pytest

from navbat.salons.models import ScheduleException
from navbat.salons.selectors import working_windows
from navbat.salons.services import set_schedule_exception, set_weekly_schedule

pytestmark = pytest.mark.django_db

MONDAY = date(2030, 1, 7)


def test_shifts_exceptions_and_days_off_in_one_statement(salon_a, django_assert_num_queries):
    first, second = salon_a.specialists
    set_weekly_schedule(specialist=first, week={0: (time(9), time(18)), 1: (time(10), time(19))})
    set_weekly_schedule(specialist=second, week={0: (time(8), time(12))})
    ids = [first.pk, second.pk, 999_999]

    with django_assert_num_queries(1):
        assert working_windows(business=salon_a.business, specialist_ids=ids, day=MONDAY) == {
            first.pk: (time(9), time(18)),
            second.pk: (time(8), time(12)),
            999_999: None,
        }
    tuesday = MONDAY + timedelta(days=1)
    assert working_windows(business=salon_a.business, specialist_ids=ids, day=tuesday) == {
        first.pk: (time(10), time(19)),
        second.pk: None,
        999_999: None,
    }

    set_schedule_exception(specialist=first, day=MONDAY, is_day_off=True)
    set_schedule_exception(
        specialist=second, day=tuesday, is_day_off=False, starts=time(14), ends=time(16)
    )
    with django_assert_num_queries(1):
        monday = working_windows(business=salon_a.business, specialist_ids=ids, day=MONDAY)
    assert monday == {first.pk: None, second.pk: (time(8), time(12)), 999_999: None}
    assert working_windows(business=salon_a.business, specialist_ids=ids, day=tuesday) == {
        first.pk: (time(10), time(19)),
        second.pk: (time(14), time(16)),
        999_999: None,
    }


def test_an_exception_without_hours_is_a_day_off(salon_a):
    first = salon_a.specialists[0]
    set_weekly_schedule(specialist=first, week={0: (time(9), time(18))})
    ScheduleException.objects.create(
        business=salon_a.business, specialist=first, day=MONDAY, is_day_off=False
    )
    windows = working_windows(business=salon_a.business, specialist_ids=[first.pk], day=MONDAY)
    assert windows == {first.pk: None}


def test_another_business_hours_are_not_read(salon_a, salon_b):
    foreign = salon_b.specialists[0]
    set_weekly_schedule(specialist=foreign, week={0: (time(9), time(18))})
    windows = working_windows(business=salon_a.business, specialist_ids=[foreign.pk], day=MONDAY)
    assert windows == {foreign.pk: None}
