"""The booking widget's steps through Django's test client (F6): services in the order
chosen, a specialist or any, a calendar of free days, a day's times, the details, and the
booking that leads to the client's booking page."""

import re
from datetime import time, timedelta

import pytest

from navbat.booking.models import Appointment, OnlineBooking, Source, Status
from navbat.kit.timeutil import local_datetime, local_today
from navbat.salons.models import Prepayment, PrepaymentAmount, Service, Specialist
from tests.booking.widget_helpers import TZ, day, pick, post_booking, turn_on_widget, url

pytestmark = pytest.mark.django_db


@pytest.fixture
def widget(salon_a):
    return turn_on_widget(salon_a)


def text(response) -> str:
    return response.content.decode()


def hrefs(page: str, selector_attr: str) -> list[str]:
    return [escape_back(h) for h in re.findall(rf'{selector_attr}[^>]*href="([^"]+)"', page)]


def escape_back(value: str) -> str:
    return value.replace("&amp;", "&")


def test_the_services_step_lists_what_can_be_booked_online_by_category(client, salon_a, widget):
    hidden = Service.objects.create(
        business=salon_a.business,
        name="Secret",
        price=1,
        duration_minutes=30,
        bookable_online=False,
    )
    salon_a.specialists[0].services.add(hidden)
    Service.objects.create(
        business=salon_a.business, name="Nobody does it", price=1, duration_minutes=30
    )
    page = client.get(url(salon_a))
    assert page.status_code == 200
    body = text(page)
    assert '<span class="salon-name" id="salon-name">Salon A</span>' in body
    assert "<h2>Hair A</h2>" in body
    assert re.findall(r'data-service="(\d+)"', body) == [
        str(salon_a.services[1].pk),
        str(salon_a.services[0].pk),
    ]
    assert "from 200 000 so&#x27;m to 500 000 so&#x27;m" in body
    assert '<span class="duration">30 min</span>' in body
    assert '<span class="duration">1 h</span>' in body
    assert "Secret" not in body and "Nobody does it" not in body
    assert 'id="next"' not in body  # nothing chosen yet


def test_services_are_kept_in_the_order_they_are_added(client, salon_a, widget):
    haircut, colouring = salon_a.services
    first = text(client.get(url(salon_a, s=colouring.pk)))
    add_haircut = re.search(
        rf'data-service="{haircut.pk}">.*?href="([^"]+)" data-action="add"', first, re.S
    )
    assert escape_back(add_haircut[1]) == url(salon_a, s=[colouring.pk, haircut.pk])
    both = text(client.get(url(salon_a, s=[colouring.pk, haircut.pk])))
    assert re.findall(r'<li data-service="(\d+)">', both) == [str(colouring.pk), str(haircut.pk)]
    assert '<dd id="summary-duration">1 h 30 min</dd>' in both
    assert '<dd id="summary-price">from 300 000 so&#x27;m to 600 000 so&#x27;m</dd>' in both
    remove = re.search(
        rf'data-service="{colouring.pk}">.*?href="([^"]+)" data-action="remove"', both, re.S
    )
    assert escape_back(remove[1]) == url(salon_a, s=haircut.pk)
    next_url = re.search(r'id="next" href="([^"]+)"', both)[1]
    assert escape_back(next_url) == url(salon_a, "specialist", s=[colouring.pk, haircut.pk])
    # A service added twice (a link followed twice) counts once.
    again = text(client.get(url(salon_a, s=[colouring.pk, haircut.pk, colouring.pk])))
    assert re.findall(r'<li data-service="(\d+)">', again) == [str(colouring.pk), str(haircut.pk)]


def test_the_specialist_step_offers_any_and_those_who_do_every_service(client, salon_a, widget):
    haircut, colouring = salon_a.services
    salon_a.specialists[1].services.remove(colouring)
    salon_a.specialists[0].position = ""
    salon_a.specialists[0].save()
    page = client.get(url(salon_a, "specialist", s=[haircut.pk, colouring.pk]))
    assert page.status_code == 200
    body = text(page)
    assert re.findall(r'data-specialist="(\d+)"', body) == [str(salon_a.specialists[0].pk)]
    assert '<span class="avatar" aria-hidden="true">SA</span>' in body  # "Specialist A0"
    any_url = re.search(r'id="any-specialist" href="([^"]+)"', body)[1]
    assert escape_back(any_url) == url(salon_a, "day", s=[haircut.pk, colouring.pk], p="any")
    only_haircut = text(client.get(url(salon_a, "specialist", s=haircut.pk)))
    assert re.findall(r'data-specialist="(\d+)"', only_haircut) == [
        str(salon_a.specialists[0].pk),
        str(salon_a.specialists[1].pk),
    ]
    assert '<small class="muted">Stylist</small>' in only_haircut


def test_no_one_doing_all_the_services_says_so(client, salon_a, widget):
    haircut, colouring = salon_a.services
    for specialist in salon_a.specialists:
        specialist.services.remove(colouring)
    page = client.get(url(salon_a, "specialist", s=[haircut.pk, colouring.pk]))
    assert page.status_code == 200
    assert 'id="no-specialists"' in text(page)
    assert 'id="any-specialist"' not in text(page)


def test_the_calendar_shows_only_days_with_free_time(client, salon_a, widget):
    today = local_today(TZ)
    # Specialist A1 is off in 30 days (the seed's exception); A0 is off on the day after.
    off = today + timedelta(days=3)
    from navbat.salons.models import ScheduleException

    ScheduleException.objects.create(
        business=salon_a.business, specialist=salon_a.specialists[0], day=off, is_day_off=True
    )
    month = off.replace(day=1)
    page = client.get(
        url(
            salon_a,
            "day",
            s=salon_a.services[0].pk,
            p=salon_a.specialists[0].pk,
            m=f"{month:%Y-%m}",
        )
    )
    assert page.status_code == 200
    body = text(page)
    days = re.findall(r'class="day free" href="[^"]+" data-day="([0-9-]+)"', body)
    assert off.isoformat() not in days
    first = max(today, month)
    expected = []
    current = first
    while current.month == month.month:
        if current != off and current <= today + timedelta(days=60):
            expected.append(current.isoformat())
        current += timedelta(days=1)
    assert days == expected
    link = re.search(rf'href="([^"]+)" data-day="{days[0]}"', body)[1]
    assert escape_back(link) == url(
        salon_a,
        "time",
        s=salon_a.services[0].pk,
        p=salon_a.specialists[0].pk,
        m=f"{month:%Y-%m}",
        d=days[0],
    )
    # No going back before this month.
    assert ('id="previous-month"' in body) == (month > today.replace(day=1))
    assert 'id="next-month"' in body


def test_the_calendar_goes_no_further_than_the_horizon(client, salon_a, widget):
    widget.horizon_days = 1
    widget.save()
    today = local_today(TZ)
    far = (today + timedelta(days=70)).replace(day=1)
    page = client.get(url(salon_a, "day", s=salon_a.services[0].pk, p="any", m=f"{far:%Y-%m}"))
    body = text(page)
    # Asked for a month past the horizon: the last month that can be booked is shown.
    last = (today + timedelta(days=1)).replace(day=1)
    assert f'data-day="{(today + timedelta(days=1)).isoformat()}"' in body
    assert 'id="next-month"' not in body
    assert f'<h2 id="month-name">{last:%B %Y}</h2>' in body


def test_the_time_step_lists_the_days_free_times(client, salon_a, widget):
    widget.slot_step_minutes = 60
    widget.save()
    specialist = salon_a.specialists[0]
    tomorrow = local_today(TZ) + timedelta(days=1)  # A0 has 10:00-11:00 booked
    page = client.get(
        url(salon_a, "time", s=salon_a.services[0].pk, p=specialist.pk, d=tomorrow.isoformat())
    )
    assert page.status_code == 200
    times = re.findall(r'class="time" href="[^"]+" data-time="([0-9:]+)"', text(page))
    assert times == ["09:00", *[f"{h:02d}:00" for h in range(11, 20)]]
    link = re.search(r'href="([^"]+)" data-time="11:00"', text(page))[1]
    assert escape_back(link) == url(
        salon_a,
        "details",
        s=salon_a.services[0].pk,
        p=specialist.pk,
        d=tomorrow.isoformat(),
        t="11:00",
    )


def test_the_details_step_shows_the_choice_and_the_prepayment(
    client, salon_a, widget, connect_uzum
):
    connect_uzum(salon_a)
    haircut = salon_a.services[0]
    haircut.prepayment = Prepayment.REQUIRED
    haircut.prepayment_amount = PrepaymentAmount.PERCENT
    haircut.prepayment_value = 30
    haircut.save()
    page = client.get(url(salon_a, "details", **pick(salon_a)))
    assert page.status_code == 200
    body = text(page)
    when = local_datetime(day(2), time(15), TZ)
    assert f'<dd id="summary-when">{when:%A}, {when.day} {when:%B}, 15:00–16:30</dd>' in body
    assert '<dd id="summary-specialist">Any specialist</dd>' in body
    assert "A prepayment of 30 000 so&#x27;m is required to book." in body
    assert "pay it within 15 minutes to keep this time" in body
    assert (
        '<p class="muted" id="refund-policy">If you cancel at least 24 hours before the visit, '
        "the prepayment is given back.</p>"
    ) in body
    assert 'name="website"' in body and 'class="hp"' in body
    for name, value in [
        ("s", haircut.pk),
        ("s", salon_a.services[1].pk),
        ("p", "any"),
        ("t", "15:00"),
    ]:
        assert f'<input type="hidden" name="{name}" value="{value}">' in body


def test_booking_leads_to_the_clients_booking_page(client, salon_a, widget):
    colouring, haircut = salon_a.services[1], salon_a.services[0]
    response = post_booking(
        client, salon_a, services=[colouring, haircut], fields={"comment": "Window seat"}
    )
    assert response.status_code == 303
    online = OnlineBooking.objects.get()
    assert response["Location"] == f"/book/b/{online.manage_token}/?new=1"
    appointment = online.appointment
    assert appointment.source == Source.ONLINE
    assert appointment.status == Status.BOOKED
    assert appointment.comment == "Window seat"
    assert appointment.client.phone == "+998905551234"
    assert appointment.starts_at == local_datetime(day(2), time(15), TZ)
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=90)
    assert list(appointment.lines.values_list("service_id", flat=True)) == [
        colouring.pk,
        haircut.pk,
    ]
    assert online.language == "en"
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert '<h1 id="status-title">You are booked!</h1>' in text(page)


def test_htmx_gets_the_steps_content_and_the_history_the_whole_page(client, salon_a, widget):
    partial = client.get(url(salon_a, s=salon_a.services[0].pk), HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert text(partial).startswith('<div id="widget" class="widget" data-step="services"')
    assert "<html" not in text(partial)
    assert "HX-Request" in partial["Vary"]
    restored = client.get(
        url(salon_a, s=salon_a.services[0].pk),
        HTTP_HX_REQUEST="true",
        HTTP_HX_HISTORY_RESTORE_REQUEST="true",
    )
    assert text(restored).startswith("<!doctype html>")


def test_the_widget_may_be_framed_by_the_salons_site(client, salon_a, widget):
    page = client.get(url(salon_a, "details", **pick(salon_a), embed=1))
    assert "X-Frame-Options" not in page
    assert "frame-ancestors *" in page["Content-Security-Policy"]
    # Booking leaves the frame: the payment and booking pages are never framed.
    assert 'id="book" formtarget="_top"' in text(page)
    assert '<input type="hidden" name="embed" value="1">' in text(page)
    assert "formtarget" not in text(client.get(url(salon_a, "details", **pick(salon_a))))


def test_the_clients_booking_page_is_never_framed(client, salon_a, widget):
    post_booking(client, salon_a)
    page = client.get(f"/book/b/{OnlineBooking.objects.get().manage_token}/")
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]


def test_an_unknown_place_or_a_widget_turned_off_is_not_found(client, salon_a, widget):
    assert client.get("/book/no-such-salon/").status_code == 404
    widget.enabled = False
    widget.save()
    for step in ("", "specialist", "day", "time", "details"):
        response = client.get(url(salon_a, step, **pick(salon_a)))
        assert response.status_code == 404, step
        assert "Booking page not found" in text(response)
    assert post_booking(client, salon_a).status_code == 404
    assert Appointment.objects.filter(source=Source.ONLINE).count() == 0


def test_the_browsers_language_first_then_the_switcher_sticks(client, salon_a, widget):
    russian = client.get(url(salon_a), HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="ru">' in text(russian)
    # (Texts new with the widget are translated at the end; these ones are already.)
    assert '<span class="label">Услуги</span>' in text(russian)
    assert 'data-action="add" aria-label="Добавить: Haircut A">Добавить</a>' in text(russian)
    switched = client.get(url(salon_a, lang="uz"), HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="uz">' in text(switched)
    assert '<span class="label">Xizmatlar</span>' in text(switched)
    assert switched.cookies["django_language"].value == "uz"
    # Links carry the choice (a frame may get no cookie).
    assert "lang=uz" in re.search(r'data-service="\d+">.*?href="([^"]+)"', text(switched), re.S)[1]
    again = client.get(url(salon_a), HTTP_ACCEPT_LANGUAGE="ru")
    assert '<html lang="uz">' in text(again)


def test_not_found_speaks_the_clients_language(client):
    page = client.get("/book/no-such-salon/?lang=ru")
    assert page.status_code == 404
    assert '<html lang="ru">' in text(page)


def test_a_deactivated_specialist_is_not_offered(client, salon_a, widget):
    Specialist.objects.filter(pk=salon_a.specialists[1].pk).update(is_active=False)
    body = text(client.get(url(salon_a, "specialist", s=salon_a.services[0].pk)))
    assert re.findall(r'data-specialist="(\d+)"', body) == [str(salon_a.specialists[0].pk)]
