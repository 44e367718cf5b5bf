"""The salon's view of online bookings (F6, issue 14 item 6): the journal marks their source,
shows a hold awaiting its prepayment in its own style with the time left, what was prepaid,
the client's comment, how one was cancelled and what became of a late prepayment, all in
the statements it read before; the appointment window shows the same and more."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from navbat.booking import cancellation, holds
from navbat.booking.models import RefundPolicy
from navbat.booking.selectors import minutes_left
from navbat.kit.timeutil import local_today, to_local
from tests.booking.prepaid import (
    HOLD,
    ask_thirty_percent,
    book,
    booked_in_the_past,
    card_page,
    card_pays,
    widget_on,
)

pytestmark = pytest.mark.django_db

TZ = "Asia/Tashkent"


@pytest.fixture
def salon(salon_a, connect_uzum):
    widget_on(salon_a, refund_policy=RefundPolicy.ALWAYS)
    ask_thirty_percent(salon_a)
    connect_uzum(salon_a)
    return salon_a


def the_day() -> str:
    return (local_today(TZ) + timedelta(days=2)).isoformat()


def journal(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as seen:
        response = client.get(reverse("booking:journal"), {"date": the_day()})
    assert response.status_code == 200
    statements = [q["sql"] for q in seen if q["sql"].startswith(("SELECT", "(SELECT"))]
    return len(statements), response.content.decode()


def block_of(html: str, appointment) -> str:
    start = html.index(f'data-appointment="{appointment.pk}">')
    return html[html.rindex("<a ", 0, start) : html.index("</a>", start)]


def test_minutes_left_round_up_and_stop_at_zero():
    now = timezone.now()
    assert minutes_left(now + timedelta(minutes=9, seconds=1), now) == 10
    assert minutes_left(now + timedelta(minutes=10), now) == 10
    assert minutes_left(now + timedelta(seconds=1), now) == 1
    assert minutes_left(now, now) == 0
    assert minutes_left(now - timedelta(minutes=3), now) == 0
    assert minutes_left(None, now) == 0


def test_the_journal_shows_online_bookings_in_the_statements_it_read_before(salon, login):
    client = login(salon.owner)
    client.get(reverse("booking:journal"))  # the session's first use
    before, _html = journal(client)
    desk = salon.book(hour=10, days=2)
    # Awaiting its prepayment, booked five minutes ago: ten minutes of its hold left.
    awaiting = booked_in_the_past(
        salon,
        ago=timedelta(minutes=5),
        starts_at=salon.at(11, 0, days=2),
        comment="Short, <b>please</b>",
    )
    prepaid = book(salon, starts_at=salon.at(13, 0, days=2), phone="+998905551230")
    card_pays(card_page(prepaid))
    by_client = book(salon, starts_at=salon.at(15, 0, days=2), phone="+998905551231")
    cancellation.cancel_by_client(online=by_client.online)
    ended = booked_in_the_past(
        salon,
        ago=HOLD + timedelta(minutes=1),
        starts_at=salon.at(17, 0, days=2),
        phone="+998905551232",
    )
    card_page(ended)  # the client went to the bank's page, then gave up
    holds.end_hold(appointment_id=ended.appointment.pk)
    again = booked_in_the_past(
        salon,
        ago=HOLD + timedelta(minutes=1),
        starts_at=salon.at(19, 0, days=2),
        phone="+998905551233",
    )
    late_order = card_page(again)
    holds.end_hold(appointment_id=again.appointment.pk)
    card_pays(late_order)  # late, its time still free: booked again

    after, html = journal(client)

    assert after == before == 7  # no statement per booking, nor for online ones
    assert html.count('class="appt ') == 6
    block = block_of(html, desk)
    assert 'class="src"' not in block and "prepaid" not in block

    block = block_of(html, awaiting.appointment)
    assert 'class="appt status-awaiting_payment online"' in block
    assert '<span class="src" title="Online booking">online</span>' in block
    assert "awaiting prepayment 30 000 so&#x27;m · 10 min left" in block
    assert "“Short, &lt;b&gt;please&lt;/b&gt;”" in block  # the client's words, escaped
    assert "Awaiting prepayment" in block  # the status badge

    block = block_of(html, prepaid.appointment)
    assert 'class="appt status-confirmed online"' in block
    assert '<span class="prepaid">prepaid 30 000 so&#x27;m</span>' in block
    assert "awaiting" not in block

    block = block_of(html, by_client.appointment)
    assert 'class="appt status-cancelled online"' in block
    assert "cancelled by the client" in block

    block = block_of(html, ended.appointment)
    assert "not prepaid in time" in block and "late prepayment" not in block

    block = block_of(html, again.appointment)
    assert 'class="appt status-confirmed online"' in block
    assert "booked again: late prepayment" in block
    assert '<span class="prepaid">prepaid 30 000 so&#x27;m</span>' in block


def test_a_hold_that_is_over_but_not_yet_ended_says_so(salon, login):
    over = booked_in_the_past(salon, ago=HOLD + timedelta(minutes=1))
    client = login(salon.owner)
    _count, html = journal(client)
    block = block_of(html, over.appointment)
    assert "awaiting prepayment 30 000 so&#x27;m · hold over" in block
    html = client.get(reverse("booking:appointment", args=[over.appointment.pk])).content
    until = to_local(over.appointment.hold_until, TZ)
    assert f"the hold ended at {until:%H:%M}, the booking is being cancelled." in html.decode()


def test_a_specialist_sees_their_own_online_bookings_marked(salon, login):
    mine = book(salon, specialist_id=salon.specialists[0].pk, comment="Quiet, please")
    _count, html = journal(login(salon.specialist_user))
    block = block_of(html, mine.appointment)
    assert "awaiting prepayment 30 000 so&#x27;m" in block
    assert "“Quiet, please”" in block


def test_the_window_shows_the_hold_the_prepayment_and_the_comment(salon, login):
    booked = booked_in_the_past(salon, ago=timedelta(minutes=5), comment="First visit")
    client = login(salon.owner)
    url = reverse("booking:appointment", args=[booked.appointment.pk])
    html = client.get(url).content.decode()
    assert 'class="card online-booking awaiting"' in html
    assert '<span class="badge source-online">online</span>' in html
    until = to_local(booked.appointment.hold_until, TZ)
    assert (
        "Awaiting a prepayment of 30 000 so&#x27;m: the time is held until "
        f"{until:%H:%M} (10 min left), then the booking cancels itself."
    ) in html
    assert "<strong>The client's comment:</strong> First visit</div>" in html
    assert "Book without prepayment" in html

    card_pays(card_page(booked))

    html = client.get(url).content.decode()
    assert 'class="card online-booking"' in html
    assert "Prepayment asked: 30 000 so&#x27;m (required)." in html
    assert '<p class="prepaid" id="prepaid">Prepaid 30 000 so&#x27;m</p>' in html
    assert "Book without prepayment" not in html


def test_the_window_of_a_desk_booking_has_no_online_card(salon, login):
    html = (
        login(salon.owner)
        .get(reverse("booking:appointment", args=[salon.appointments[0].pk]))
        .content.decode()
    )
    assert 'id="online-booking"' not in html


def test_the_money_refresh_brings_the_online_card_along(salon, login):
    booked = book(salon)
    card_pays(card_page(booked))
    html = (
        login(salon.owner)
        .get(reverse("booking:appointment_money", args=[booked.appointment.pk]))
        .content.decode()
    )
    assert 'id="online-booking" hx-swap-oob="true"' in html
    assert "Prepaid 30 000 so&#x27;m" in html
