"""What the Quick Payment page and its watch cost in statements (issue 10: they are what
clients' phones poll), and that the watch's short answer agrees with the full description."""

import pytest

from navbat.booking.services import cancel_appointment, take_desk_payment
from navbat.payments import payables
from tests.uzum.merchant import connect_app, link_of

pytestmark = pytest.mark.django_db

DUE = 10_000_000  # the first appointment of a built salon


def test_the_watch_reads_the_link_then_one_statement_about_the_visit(
    client, salon_a, connect_uzum, django_assert_num_queries
):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    with django_assert_num_queries(2):  # the link; status, total and paid of the visit
        assert client.get(f"/pay/{link.token}/watch").status_code == 204
    take_desk_payment(appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=DUE)
    with django_assert_num_queries(2):
        response = client.get(f"/pay/{link.token}/watch")
    assert (response.status_code, response["HX-Refresh"]) == (200, "true")


def test_the_page_reads_the_connection_once(
    client, salon_a, connect_uzum, django_assert_num_queries
):
    connect_app(connect_uzum, salon_a)
    link = link_of(salon_a)
    # The link; the visit with what was paid; its lines; the connection.
    with django_assert_num_queries(4):
        page = client.get(f"/pay/{link.token}").content.decode()
    assert 'id="pay-app"' in page and 'id="app-qr"' in page


def _both(salon, link):
    view = payables.describe(
        business=salon.business, kind=link.payable_kind, payable_id=link.payable_id
    )
    state = payables.due_state(
        business=salon.business, kind=link.payable_kind, payable_id=link.payable_id
    )
    return (view.is_open, view.due), (state.is_open, state.due)


def test_the_due_state_says_what_the_description_says(salon_a):
    link = link_of(salon_a)
    appointment = salon_a.appointments[0]
    described, short = _both(salon_a, link)
    assert described == short == (True, DUE)

    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=DUE - 4_000)
    described, short = _both(salon_a, link)
    assert described == short == (True, 4_000)

    take_desk_payment(appointment=appointment, register_id=salon_a.cash.pk, amount=4_000)
    described, short = _both(salon_a, link)
    assert described == short == (True, 0)


def test_the_due_state_of_a_cancelled_visit_is_closed(salon_a):
    link = link_of(salon_a)
    cancel_appointment(appointment=salon_a.appointments[0])
    described, short = _both(salon_a, link)
    assert described == short == (False, DUE)


def test_the_due_state_of_another_business_payable_is_none(salon_a, salon_b):
    foreign = salon_b.appointments[0]
    kind = link_of(salon_a).payable_kind
    assert payables.due_state(business=salon_a.business, kind=kind, payable_id=foreign.pk) is None
    assert payables.describe(business=salon_a.business, kind=kind, payable_id=foreign.pk) is None


def test_the_page_with_a_card_order_open_reads_as_many_statements_and_offers_the_app(
    client, salon_a, connect_uzum, settings, django_assert_num_queries
):
    """Nothing about open card orders is read any more: they hold nothing back (issue 12)."""
    from datetime import timedelta

    from django.utils import timezone

    from navbat.payments import services
    from navbat.payments.models import PaymentOrder
    from tests.payments.test_quick_payment_app import connect_app as connect_app_here

    settings.NAVBAT_PUBLIC_URL = "http://testserver-root"
    connect_app_here(connect_uzum, salon_a)
    link = link_of(salon_a)
    card = services.start_card_payment(
        link=link, language="en", success_url="http://x/ok", failure_url="http://x/no"
    )
    PaymentOrder.objects.filter(pk=card.pk).update(expires_at=timezone.now() + timedelta(minutes=7))
    with django_assert_num_queries(4):  # the link; the visit; its lines; the connection
        page = client.get(f"/pay/{link.token}").content.decode()
    assert 'id="app-waits"' not in page and 'id="pay-app"' in page and 'id="app-qr"' in page
