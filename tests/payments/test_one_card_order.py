"""One bank order per link at a time, on SQLite and PostgreSQL: the database refuses a second
open card order of a link, a press that loses the insert goes to the winner's order, and a
card order still open at the bank keeps the link until its session (plus the margin) ends."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from navbat.booking.services import take_desk_payment
from navbat.kit.timeutil import to_local
from navbat.payments import services
from navbat.payments.models import Method, PaymentOrder, State
from navbat.payments.providers import BankView
from navbat.payments.states import EXPIRY_MARGIN
from navbat.uzum_sandbox.models import Order as BankOrder

pytestmark = pytest.mark.django_db

RETURN = "http://127.0.0.1:8000/pay/t/return/REFERENCE"


def start(link):
    return services.start_card_payment(
        link=link, language="en", success_url=RETURN, failure_url=RETURN
    )


def link_of(salon, appointment=None):
    appointment = appointment or salon.appointments[0]
    return services.link_for(business=salon.business, kind="appointment", payable_id=appointment.pk)


def another(order, model=PaymentOrder, **fields) -> PaymentOrder:
    """A second order of the same link, as a racing insert would write it (through
    ``model``: a migration's historical model writes only the columns it had)."""
    values = {
        "business_id": order.business_id,
        "link_id": order.link_id,
        "payable_kind": order.payable_kind,
        "payable_id": order.payable_id,
        "document_id": order.document_id,
        "client_id": order.client_id,
        "provider": order.provider,
        "account_id": order.account_id,
        "method": Method.CARD,
        "amount": order.amount,
        "reference": f"00000000-0000-4000-8000-{PaymentOrder.objects.count():012d}",
        "state": State.CREATED,
    }
    values.update(fields)
    return model.objects.create(**values)


def test_the_database_keeps_one_open_card_order_per_link(salon_a, connect_uzum):
    connect_uzum(salon_a)
    first = start(link_of(salon_a))
    assert first.state == State.PENDING
    for state in (State.CREATED, State.PENDING):
        with pytest.raises(IntegrityError), transaction.atomic():
            another(first, state=state)
    assert PaymentOrder.objects.count() == 1

    # Ended orders, the app's own orders and another link's orders are not held back by it.
    for state in (State.DECLINED, State.EXPIRED, State.CANCELLED, State.PAID):
        another(first, state=state)
    another(first, method=Method.APP, state=State.PENDING, bank_order_id="77")
    second_link = link_of(salon_a, salon_a.book(hour=15))
    start(second_link)
    assert PaymentOrder.objects.filter(link=first.link).count() == 6
    assert PaymentOrder.objects.filter(link=second_link, state=State.PENDING).count() == 1


def test_a_press_that_loses_the_insert_goes_to_the_winners_order(
    salon_a, connect_uzum, monkeypatch
):
    """The link's lock keeps presses in line; should one slip past it, the database's rule
    stops its insert and it is sent to the order that won, not to a second bank order."""
    connect_uzum(salon_a)
    link = link_of(salon_a)
    winner = start(link)
    real = services.open_card_order
    misses = iter([None])
    monkeypatch.setattr(services, "open_card_order", lambda **kw: next(misses, None) or real(**kw))

    again = start(link)

    assert again.pk == winner.pk
    assert again.redirect_url == winner.redirect_url
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1


def _hold_message(salon, order) -> str:
    until = to_local(order.expires_at + EXPIRY_MARGIN, salon.business.timezone)
    return (
        "A card payment started earlier may still be completed on the bank's page. "
        f"You can start a new one after {until:%H:%M}."
    )


def test_an_order_whose_session_is_ending_keeps_the_link(salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(link)
    PaymentOrder.objects.filter(pk=first.pk).update(
        expires_at=timezone.now() + timedelta(seconds=60)
    )
    first.refresh_from_db()

    with pytest.raises(services.PaymentRefused) as refused:
        start(link)

    assert refused.value.messages == [_hold_message(salon_a, first)]
    assert refused.value.reason == "holds_link"
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1


def test_an_order_for_another_amount_keeps_the_link_until_it_ends(salon_a, connect_uzum):
    """Paid in part at the desk while the bank's page was open: that page still asks the old
    amount, and a second bank order beside it could take the money twice."""
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(link)
    take_desk_payment(
        appointment=salon_a.appointments[0], register_id=salon_a.cash.pk, amount=3_000_000
    )

    with pytest.raises(services.PaymentRefused) as refused:
        start(link)

    assert refused.value.messages == [_hold_message(salon_a, first)]
    assert refused.value.reason == "holds_link"
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1


def test_past_its_deadline_the_bank_is_asked_and_a_new_order_starts(salon_a, connect_uzum):
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(link)
    over = timezone.now() - EXPIRY_MARGIN - timedelta(seconds=1)
    PaymentOrder.objects.filter(pk=first.pk).update(expires_at=over)

    second = start(link)

    first.refresh_from_db()
    assert (first.state, first.checks) == (State.EXPIRED, 1)
    assert second.pk != first.pk
    assert (second.state, second.amount) == (State.PENDING, 10_000_000)
    assert BankOrder.objects.count() == 2


def test_an_order_left_half_started_keeps_the_link_without_waiting(
    salon_a, connect_uzum, monkeypatch
):
    """Stored, but its register call never came back (the process died mid-call): it may be
    at the bank, so it holds the link until reconciliation closes it; no press waits on it."""
    monkeypatch.setattr(services.time, "sleep", lambda seconds: pytest.fail("waited"))
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(link)
    long_ago = timezone.now() - services.IN_FLIGHT_FOR - timedelta(seconds=1)
    PaymentOrder.objects.filter(pk=first.pk).update(
        state=State.CREATED, redirect_url="", created_at=long_ago
    )
    first.refresh_from_db()

    with pytest.raises(services.PaymentRefused) as refused:
        start(link)

    assert refused.value.messages == [_hold_message(salon_a, first)]
    assert refused.value.reason == "holds_link"
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1


def test_a_declined_order_the_bank_reopens_stays_declined_beside_a_newer_one(salon_a, connect_uzum):
    """The bank may say an order it had declined is waiting again; when a newer order holds
    the link meanwhile, the old one stays declined (a payment on it is still recorded)."""
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(link)
    PaymentOrder.objects.filter(pk=first.pk).update(state=State.DECLINED)
    second = start(link)
    assert second.pk != first.pk

    view = BankView(
        state=State.PENDING,
        bank_order_id=first.bank_order_id,
        reference=first.reference,
        amount=first.amount,
        failure_reason="Try another card",
    )
    kept = services.apply_bank_view(order_id=first.pk, view=view)

    assert (kept.state, kept.failure_reason) == (State.DECLINED, "Try another card")
    first.refresh_from_db()
    assert (first.state, first.checks) == (State.DECLINED, 1)
    second.refresh_from_db()
    assert second.state == State.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_migration_closes_older_duplicates_before_the_rule(salon_a, connect_uzum, request):
    """Links that got several open card orders before the rule keep the newest open."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from tests.schema import migrate_to_latest

    request.addfinalizer(migrate_to_latest)

    connect_uzum(salon_a)
    link = link_of(salon_a)
    newest_first = start(link)
    before = ("payments", "0002_paymentlink_code")
    after = ("payments", "0003_one_open_card_order_per_link")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    executor.loader.build_graph()
    old = executor.loader.project_state([before]).apps.get_model("payments", "PaymentOrder")
    for index in range(2):
        another(
            newest_first,
            old,
            state=State.PENDING,
            reference=f"00000000-0000-4000-8000-00000000000{index}",
        )
    app_order = another(
        newest_first, old, method=Method.APP, state=State.PENDING, bank_order_id="9"
    )
    newest = another(
        newest_first, old, state=State.CREATED, reference="00000000-0000-4000-8000-000000000009"
    )

    executor = MigrationExecutor(connection)
    executor.migrate([after])
    executor.loader.build_graph()
    migrated = executor.loader.project_state([after]).apps.get_model("payments", "PaymentOrder")

    open_cards = migrated.objects.filter(
        link_id=link.pk, method=Method.CARD, state__in=["created", "pending"]
    )
    assert list(open_cards.values_list("pk", flat=True)) == [newest.pk]
    cancelled = migrated.objects.filter(link_id=link.pk, state=State.CANCELLED)
    assert cancelled.count() == 3
    assert set(cancelled.values_list("failure_reason", flat=True)) == {
        "Replaced by a newer card payment of the same link."
    }
    assert migrated.objects.get(pk=app_order.pk).state == State.PENDING
    with pytest.raises(IntegrityError), transaction.atomic():
        another(newest_first, migrated, state=State.PENDING)


def test_a_press_during_another_press_bank_call_waits_and_reuses_it(
    salon_a, connect_uzum, monkeypatch
):
    """Another press stored its order and is calling the bank: this press waits (holding
    nothing) until that call is answered, then goes to the same bank page."""
    connect_uzum(salon_a)
    link = link_of(salon_a)
    first = start(link)
    PaymentOrder.objects.filter(pk=first.pk).update(state=State.CREATED, redirect_url="")
    pauses = []

    def other_press_finishes(seconds):
        pauses.append(seconds)
        if len(pauses) == 2:
            PaymentOrder.objects.filter(pk=first.pk).update(
                state=State.PENDING, redirect_url=first.redirect_url
            )

    monkeypatch.setattr(services.time, "sleep", other_press_finishes)

    again = start(link)

    assert (again.pk, again.redirect_url) == (first.pk, first.redirect_url)
    assert pauses == [0.05, 0.1]
    assert PaymentOrder.objects.count() == 1 and BankOrder.objects.count() == 1
