"""Whatever an address or a form of the booking widget carries, the answer is a page or a
redirect (200, 301, 302, 303, 400, 404, 409 or 429), never a 500, and nothing is booked from
garbage."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from navbat.booking.models import OnlineBooking
from tests.booking.widget_helpers import turn_on_widget

pytestmark = pytest.mark.django_db

PAGES = {200, 301, 302, 303, 400, 404, 409, 429}
text = st.text(max_size=40)
ids = st.one_of(text, st.integers(-5, 10**15).map(str))
values = {
    "s": st.lists(ids, max_size=8),
    "p": st.one_of(st.just("any"), ids),
    "d": st.one_of(text, st.dates().map(lambda d: d.isoformat())),
    "m": st.one_of(text, st.dates().map(lambda d: d.strftime("%Y-%m"))),
    "t": st.one_of(text, st.times().map(lambda t: t.strftime("%H:%M"))),
    "lang": st.sampled_from(["uz", "ru", "en", "xx", ""]),
    "embed": st.sampled_from(["1", "0", ""]),
    "name": text,
    "phone": text,
    "comment": text,
    "action": st.sampled_from(["book", "code", "confirm", "x"]),
    "code": text,
    "phone_check": text,
}
params = st.fixed_dictionaries({}, optional=values)


@pytest.fixture
def widget(salon_a):
    return turn_on_widget(salon_a)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(step=st.sampled_from(["", "specialist", "day", "time", "details"]), data=params)
def test_no_address_gets_a_500(client, salon_a, widget, step, data):
    response = client.get(f"/book/{salon_a.location.public_slug}/{step}", data)
    assert response.status_code in PAGES


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=params)
def test_no_form_gets_a_500(client, salon_a, widget, data):
    before = OnlineBooking.objects.count()
    response = client.post(f"/book/{salon_a.location.public_slug}/details", data)
    assert response.status_code in PAGES
    if response.status_code != 303:
        assert OnlineBooking.objects.count() == before


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(token=st.text(min_size=1, max_size=80).filter(lambda t: "/" not in t), data=params)
def test_no_booking_address_gets_a_500(client, salon_a, widget, token, data):
    for path in ("", "calendar.ics", "move"):
        response = client.get(f"/book/b/{token}/{path}", data)
        assert response.status_code in PAGES
