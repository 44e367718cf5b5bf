"""The owner's pages: Online payments (owners and administrators) and Reconciliation
(owners only). Each business sees its own payments and nothing else."""

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from navbat.payments import selectors, services
from navbat.payments.models import Difference, PaymentOrder, State
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Terminal
from tests.payments.jobs import books, start_payment

pytestmark = pytest.mark.django_db


HAIRCUT = 10_000_000
# The page shows this month unless told otherwise; these payments were made in March 2026.
MARCH = {"period": "custom", "date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def payments_a(salon_a, connect_uzum, settings):
    """Salon A: a Uzcard payment, a Humo payment, and one still waiting for the bank, each
    started at a known moment."""
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0
    connection = connect_uzum(salon_a)
    third = salon_a.book(hour=15)
    uzcard = start_payment(salon_a)
    humo = start_payment(salon_a, appointment=salon_a.appointments[1])
    waiting = start_payment(salon_a, appointment=third)
    bank.pay(order_id=uzcard.bank_order_id, card_number="8600000000000018")
    bank.pay(order_id=humo.bank_order_id, card_number="9860000000000016")
    uzcard, humo = services.refresh(order=uzcard), services.refresh(order=humo)
    # 2026-03-10 20:30 UTC is already 11 March in Tashkent.
    moments = {
        uzcard.pk: datetime(2026, 3, 10, 20, 30, tzinfo=UTC),
        humo.pk: datetime(2026, 3, 9, 7, 5, tzinfo=UTC),
        waiting.pk: datetime(2026, 3, 12, 9, 0, tzinfo=UTC),
    }
    for pk, moment in moments.items():
        PaymentOrder.objects.filter(pk=pk).update(created_at=moment)
    PaymentOrder.objects.filter(pk=humo.pk).update(paid_at=datetime(2026, 3, 9, 7, 6, tzinfo=UTC))
    return connection, {
        "uzcard": PaymentOrder.objects.get(pk=uzcard.pk),
        "humo": PaymentOrder.objects.get(pk=humo.pk),
        "waiting": PaymentOrder.objects.get(pk=waiting.pk),
    }


def listed(response) -> list[int]:
    return [order.pk for order in response.context["page"]]


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_administrators_see_every_payment_with_its_details(
    payments_a, salon_a, login, role
):
    _connection, orders = payments_a
    response = login(getattr(salon_a, role)).get("/payments/", MARCH)
    assert response.status_code == 200
    assert listed(response) == [orders["waiting"].pk, orders["uzcard"].pk, orders["humo"].pk]
    totals = response.context["totals"]
    assert (totals.count, totals.paid, totals.fees) == (3, 2 * HAIRCUT, 2 * 100_000)
    html = response.content.decode()
    assert '<strong id="total-paid">200 000 so&#x27;m</strong>' in html
    assert '<strong id="total-fees">2 000 so&#x27;m</strong>' in html
    humo = orders["humo"]
    row = html[html.index(f'id="payment-{humo.pk}"') :]
    row = row[: row.index("</tr>")]
    assert "9 Mar 2026, 12:06" in row  # paid at 07:06 UTC, shown in Tashkent time
    assert "Card payment" in row
    assert "Humo" in row and "HUMO" in row
    assert "986000******0016" in row
    assert "100 000 so&#x27;m" in row and "1 000 so&#x27;m" in row
    assert ">Paid<" in row
    appointment = salon_a.appointments[1]
    assert f'href="/appointments/{appointment.pk}/"' in row
    assert salon_a.clients[1].name in row
    waiting = orders["waiting"]
    row = html[html.index(f'id="payment-{waiting.pk}"') :]
    row = row[: row.index("</tr>")]
    assert ">Waiting for the bank<" in row
    assert "—" in row  # no fee before it is paid
    assert "12 Mar 2026, 14:00" in row


def test_filters_by_local_day_and_state_with_their_totals(payments_a, salon_a, login):
    _connection, orders = payments_a
    client = login(salon_a.owner)
    response = client.get("/payments/", {"date_from": "2026-03-11", "date_to": "2026-03-11"})
    assert listed(response) == [orders["uzcard"].pk]
    totals = response.context["totals"]
    assert (totals.count, totals.paid, totals.fees) == (1, HAIRCUT, 100_000)

    response = client.get("/payments/", {"date_from": "2026-03-01", "date_to": "2026-03-10"})
    assert listed(response) == [orders["humo"].pk]

    response = client.get("/payments/", {**MARCH, "state": "pending"})
    assert listed(response) == [orders["waiting"].pk]
    totals = response.context["totals"]
    assert (totals.count, totals.paid, totals.fees) == (1, 0, 0)

    response = client.get(
        "/payments/", {"state": "paid", "date_from": "2026-03-09", "date_to": "2026-03-31"}
    )
    assert listed(response) == [orders["uzcard"].pk, orders["humo"].pk]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"state": "stolen"}, "Select a valid choice."),
        ({"date_from": "yesterday"}, "Enter a valid date."),
        ({"date_from": "2026-03-12", "date_to": "2026-03-11"}, "The end date cannot be before"),
    ],
)
def test_bad_filters_are_a_clear_400_listing_nothing(payments_a, salon_a, login, query, message):
    response = login(salon_a.owner).get("/payments/", query)
    assert response.status_code == 400
    assert listed(response) == []
    assert message in response.content.decode()


def test_the_api_selector_filters_the_same_way(payments_a, salon_a):
    _connection, orders = payments_a
    rows = selectors.payments(
        business=salon_a.business, date_from=date(2026, 3, 9), date_to=date(2026, 3, 11)
    )
    assert list(rows.values_list("pk", flat=True)) == [orders["uzcard"].pk, orders["humo"].pk]
    assert list(
        selectors.payments(business=salon_a.business, state="paid").values_list("pk", flat=True)
    ) == [orders["uzcard"].pk, orders["humo"].pk]


def test_another_business_never_sees_these_payments(payments_a, salon_a, salon_b, login):
    response = login(salon_b.owner).get("/payments/")
    assert response.status_code == 200
    assert listed(response) == []
    assert response.context["totals"].paid == 0
    assert "No online payments." in response.content.decode()
    assert selectors.payments(business=salon_b.business).count() == 0


def test_specialists_and_strangers_are_kept_out(payments_a, salon_a, login, client):
    assert client.get("/payments/").status_code == 302  # to the login page
    assert client.get("/payments/reconciliation").status_code == 302
    specialist = login(salon_a.specialist_user)
    assert specialist.get("/payments/").status_code == 403
    assert specialist.get("/payments/reconciliation").status_code == 403


def test_the_list_answers_get_only(payments_a, salon_a, login):
    response = login(salon_a.owner).post("/payments/")
    assert response.status_code == 405


def differences_for(payments_a):
    """A's Uzcard payment recorded for less than the bank took; every order started just
    now (the daily check looks at the last days only)."""
    _connection, orders = payments_a
    PaymentOrder.objects.update(created_at=timezone.now())
    PaymentOrder.objects.filter(pk=orders["uzcard"].pk).update(paid_amount=HAIRCUT - 500)
    return orders


def test_reconciliation_is_for_owners_only(payments_a, salon_a, login):
    admin = login(salon_a.admin)
    assert admin.get("/payments/reconciliation").status_code == 403
    assert admin.post("/payments/reconciliation").status_code == 403
    assert Difference.objects.count() == 0
    # The administrator's list has no link to it; the owner's has.
    assert 'id="nav-reconciliation"' not in admin.get("/payments/").content.decode()
    owner = login(salon_a.owner)
    assert 'id="nav-reconciliation"' in owner.get("/payments/").content.decode()
    # Provider-neutral words: the report is the same whichever bank the salon uses.
    report = owner.get("/payments/reconciliation").content.decode()
    assert "with what the bank says about them" in report
    assert "what Uzum Bank says" not in report


def test_check_now_lists_the_differences_of_this_business_and_changes_no_money(
    payments_a, salon_a, salon_b, connect_uzum, login
):
    orders = differences_for(payments_a)
    connect_uzum(salon_b)
    order_b = start_payment(salon_b)
    bank.pay(order_id=order_b.bank_order_id, card_number="8600000000000018")
    before = books(salon_a.business), books(salon_b.business)
    client = login(salon_a.owner)
    response = client.get("/payments/reconciliation")
    assert response.status_code == 200
    assert "No differences. Our books agree with the bank." in response.content.decode()

    response = client.post("/payments/reconciliation", follow=True)

    assert response.redirect_chain == [("/payments/reconciliation", 302)]
    html = response.content.decode()
    assert "The check found 1 new difference." in html
    rows = response.context["rows"]
    assert [(r["order"].pk, str(r["what"]), r["ours"], r["bank"]) for r in rows] == [
        (orders["uzcard"].pk, "Paid amount", "99 995 so'm", "100 000 so'm")
    ]
    assert f'href="/appointments/{salon_a.appointments[0].pk}/"' in html
    # B's order, paid at the bank but not in B's books, was not asked about.
    assert list(Difference.objects.values_list("business_id", flat=True)) == [salon_a.business.pk]
    assert (books(salon_a.business), books(salon_b.business)) == before

    response = client.post("/payments/reconciliation", follow=True)
    assert "The check found no new differences." in response.content.decode()
    assert Difference.objects.count() == 1


def test_a_bank_that_does_not_answer_is_shown_as_such(payments_a, salon_a, login):
    connection, _orders = payments_a
    PaymentOrder.objects.update(created_at=timezone.now())
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(
        faults={"payment/getOrderStatus": {"mode": "error_5xx"}}
    )
    client = login(salon_a.owner)
    response = client.post("/payments/reconciliation", follow=True)
    assert "The check found 3 new differences." in response.content.decode()
    rows = response.context["rows"]
    assert {str(r["what"]) for r in rows} == {"The bank did not answer"}
    assert sorted(r["ours"] for r in rows) == ["Paid", "Paid", "Waiting for the bank"]
    assert {r["bank"] for r in rows} == {"The bank is not answering. Try again in a minute."}


def test_another_owner_never_sees_these_differences(payments_a, salon_a, salon_b, login):
    differences_for(payments_a)
    login(salon_a.owner).post("/payments/reconciliation")
    assert Difference.objects.count() == 1
    response = login(salon_b.owner).get("/payments/reconciliation")
    assert response.status_code == 200
    assert response.context["rows"] == []
    assert selectors.differences(business=salon_b.business).count() == 0


def test_differences_older_than_thirty_days_are_not_shown(payments_a, salon_a, login):
    orders = differences_for(payments_a)
    Difference.objects.create(
        business=salon_a.business,
        order=orders["humo"],
        found_on=date(2020, 1, 1),
        what="state",
        ours=State.PAID,
        bank=State.REFUNDED,
    )
    response = login(salon_a.owner).get("/payments/reconciliation")
    assert response.context["rows"] == []
