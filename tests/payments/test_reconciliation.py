"""Reconciliation (F8): pending orders are asked about with a growing interval and expire
after the bank's session; the daily check lists differences and never changes money."""

import math
from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import F
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from navbat.kit.models import PublicCounter
from navbat.payments import checks, reconciliation, retention, services
from navbat.payments.models import Difference, PaymentOrder, State
from navbat.uzum_sandbox import bank
from navbat.uzum_sandbox.models import Terminal
from tests.payments.jobs import (
    CHECK_JOB,
    DAILY_JOB,
    books,
    run_due,
    start_payment,
    waiting,
)

pytestmark = pytest.mark.django_db


UZCARD = "8600000000000018"
HAIRCUT = 10_000_000
BANK_DOWN = {"payment/getOrderStatus": {"mode": "error_5xx", "status": 503}}


@pytest.fixture(autouse=True)
def quick(settings):
    settings.NAVBAT_SANDBOX_CALLBACK_DELAYS = 0


def offsets(order, *moments) -> list[int]:
    """Whole seconds after the order started."""
    return [round((moment - order.created_at).total_seconds()) for moment in moments]


def rewind(order, seconds: int) -> PaymentOrder:
    """Move the order's clock back instead of sleeping: as if it started ``seconds`` ago."""
    delta = timedelta(seconds=seconds)
    PaymentOrder.objects.filter(pk=order.pk).update(
        created_at=F("created_at") - delta,
        expires_at=F("expires_at") - delta,
        next_check_at=F("next_check_at") - delta,
    )
    waiting(CHECK_JOB).update(run_after=F("run_after") - delta)
    return PaymentOrder.objects.get(pk=order.pk)


def bank_down(connection, down: bool = True) -> None:
    Terminal.objects.filter(pk=connection.sandbox_terminal.pk).update(
        faults=BANK_DOWN if down else {}
    )


# ------------------------------------------------------------------------ pending orders


def test_a_new_order_is_first_checked_about_a_minute_after_it_started(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    assert order.state == State.PENDING
    assert offsets(order, order.next_check_at, order.expires_at) == [60, 1200]
    job = waiting(CHECK_JOB).get()
    assert job.run_after == order.next_check_at
    assert job.args_kwargs == {"args": [order.pk], "kwargs": {}}
    # Not due yet: the worker leaves it.
    assert run_due(CHECK_JOB) == 0


def test_checks_back_off_until_the_session_is_over_then_the_order_expires(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    seen = []
    moment = order.next_check_at
    for _step in range(10):
        order = reconciliation.check_pending(order_id=order.pk, now=moment)
        if order.state != State.PENDING:
            break
        seen.append(offsets(order, order.next_check_at)[0])
        moment = order.next_check_at
    # 1, 2, 4, 8, 16 minutes of age, then the deadline: the 20-minute session + 5 minutes.
    assert seen == [120, 240, 480, 960, 1500]
    assert order.state == State.EXPIRED
    assert order.failure_reason == "The payment was not completed in time."
    assert order.next_check_at is None
    assert order.checks == 6  # the bank was asked each time, the last one just before
    # One job per step, each at the time the step set; none after the expiry.
    jobs = waiting(CHECK_JOB).order_by("run_after")
    assert offsets(order, *jobs.values_list("run_after", flat=True)) == [60, *seen]
    assert books(salon_a.business)["transactions"] == {}


def test_a_late_success_settles_the_order_instead_of_expiring_it(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)  # its callback is never sent
    deadline = reconciliation.deadline_of(order)
    order = reconciliation.check_pending(order_id=order.pk, now=deadline + timedelta(hours=1))
    assert (order.state, order.paid_amount) == (State.PAID, HAIRCUT)
    assert books(salon_a.business)["transactions"] == {"sale_payment": 1, "bank_fee": 1}
    assert waiting(CHECK_JOB).count() == 1  # only the first, now stale: it does nothing
    assert run_due(CHECK_JOB, now=timezone.now() + timedelta(minutes=2)) == 1
    assert books(salon_a.business)["transactions"] == {"sale_payment": 1, "bank_fee": 1}


def test_a_bank_down_at_the_deadline_expires_nothing_and_is_asked_again(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank_down(connection)
    late = reconciliation.deadline_of(order) + timedelta(seconds=1)
    before = books(salon_a.business)

    order = reconciliation.check_pending(order_id=order.pk, now=late)

    assert (order.state, order.checks, order.failure_reason) == (State.PENDING, 0, "")
    assert books(salon_a.business) == before
    assert order.next_check_at == late + checks.MAX_CHECK_INTERVAL
    assert waiting(CHECK_JOB).filter(run_after=order.next_check_at).count() == 1

    bank_down(connection, False)
    order = reconciliation.check_pending(order_id=order.pk, now=order.next_check_at)
    assert order.state == State.EXPIRED


def test_a_bank_down_before_the_deadline_changes_nothing_but_the_next_check(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    bank_down(connection)
    order = rewind(order, 61)
    started = timezone.now()
    assert run_due(CHECK_JOB) == 1
    # The next check is a minute after the check ran: on a loaded machine the job itself
    # may start a second or two after the order's rewound clock said 61 s.
    running = math.ceil((timezone.now() - started).total_seconds())
    order.refresh_from_db()
    assert (order.state, order.paid_amount) == (State.PENDING, 0)
    assert books(salon_a.business)["transactions"] == {}
    assert 121 <= offsets(order, order.next_check_at)[0] <= 122 + running

    bank_down(connection, False)
    order = rewind(order, 70)
    assert run_due(CHECK_JOB) == 1
    order.refresh_from_db()
    assert order.state == State.PAID


def test_a_superseded_check_job_asks_nothing_and_schedules_nothing(salon_a, connect_uzum):
    """Two jobs for one order (say the first one ran late, after a later step was already
    scheduled): the one whose time is no longer the order's does nothing."""
    from navbat.payments.tasks import check_payment

    connect_uzum(salon_a)
    order = start_payment(salon_a)
    order = rewind(order, 61)
    stale_at = order.next_check_at - timedelta(seconds=30)
    check_payment.using(run_after=stale_at).enqueue(order.pk)
    assert waiting(CHECK_JOB).count() == 2

    assert run_due(CHECK_JOB, limit=1) == 1  # the stale one, due first
    order.refresh_from_db()
    assert (order.checks, order.checked_at) == (0, None)
    assert waiting(CHECK_JOB).count() == 1

    assert run_due(CHECK_JOB) == 1  # the order's own
    order.refresh_from_db()
    assert order.checks == 1
    assert waiting(CHECK_JOB).count() == 1  # the next step


def test_checks_of_settled_or_missing_orders_do_nothing(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    services.refresh(order=order)
    order = rewind(order, 61)
    assert run_due(CHECK_JOB) == 1
    assert waiting(CHECK_JOB).count() == 0
    assert reconciliation.check_pending(order_id=999_999) is None


def test_an_order_whose_register_never_finished_expires_after_its_deadline(salon_a, connect_uzum):
    """Stored, never registered (the process stopped between the two): no bank id to ask
    with, and no client could have reached the bank's page."""
    connect_uzum(salon_a)
    order = start_payment(salon_a)
    PaymentOrder.objects.filter(pk=order.pk).update(state=State.CREATED, bank_order_id="")
    order = reconciliation.check_pending(
        order_id=order.pk, now=reconciliation.deadline_of(order) + timedelta(seconds=1)
    )
    assert order.state == State.EXPIRED


# ---------------------------------------------------------------------- the daily check


def paid(salon, appointment=None):
    order = start_payment(salon, appointment=appointment)
    bank.pay(order_id=order.bank_order_id, card_number=UZCARD)
    return services.refresh(order=order)


def test_the_daily_check_lists_each_difference_and_changes_no_money(salon_a, connect_uzum, client):
    connection = connect_uzum(salon_a)
    agreed = paid(salon_a)
    lost = start_payment(salon_a, appointment=salon_a.appointments[1])
    bank.pay(order_id=lost.bank_order_id, card_number=UZCARD)  # we never heard of it
    third = salon_a.book(hour=15)
    tampered = paid(salon_a, appointment=third)
    PaymentOrder.objects.filter(pk=tampered.pk).update(paid_amount=HAIRCUT - 100)
    fourth = salon_a.book(hour=17)
    refunded = paid(salon_a, appointment=fourth)
    bank.refund(
        terminal=connection.sandbox_terminal,
        order_id=refunded.bank_order_id,
        amount=2_500_000,
        key="refund-key-1",
        cart=None,
    )
    before = books(salon_a.business)
    states_before = dict(PaymentOrder.objects.values_list("pk", "state"))

    assert reconciliation.run_daily() == 5

    rows = {
        (d.order_id, d.what): (d.ours, d.bank)
        for d in Difference.objects.filter(business=salon_a.business)
    }
    assert rows == {
        (lost.pk, "state"): ("pending", "paid"),
        (lost.pk, "paid_amount"): ("0", str(HAIRCUT)),
        (tampered.pk, "paid_amount"): (str(HAIRCUT - 100), str(HAIRCUT)),
        (refunded.pk, "state"): ("paid", "partly_refunded"),
        (refunded.pk, "refunded_amount"): ("0", "2500000"),
    }
    assert agreed.pk not in {order_id for order_id, _what in rows}
    assert books(salon_a.business) == before
    assert dict(PaymentOrder.objects.values_list("pk", "state")) == states_before
    # The same day again lists nothing new.
    assert reconciliation.run_daily() == 0
    assert Difference.objects.count() == 5


def test_a_bank_that_does_not_answer_is_listed_as_such(salon_a, connect_uzum):
    connection = connect_uzum(salon_a)
    order = paid(salon_a)
    bank_down(connection)
    before = books(salon_a.business)
    assert reconciliation.run_daily() == 1
    difference = Difference.objects.get()
    assert (difference.order_id, difference.what, difference.ours) == (
        order.pk,
        "unreachable",
        "paid",
    )
    assert difference.bank == "The bank is not answering. Try again in a minute."
    assert books(salon_a.business) == before


def test_the_check_of_one_business_asks_only_about_its_own_orders(salon_a, salon_b, connect_uzum):
    connect_uzum(salon_a)
    connect_uzum(salon_b)
    order_a = paid(salon_a)
    order_b = paid(salon_b)
    PaymentOrder.objects.filter(pk__in=[order_a.pk, order_b.pk]).update(paid_amount=1)
    assert reconciliation.run_daily(business=salon_b.business) == 1
    assert list(Difference.objects.values_list("business_id", "order_id")) == [
        (salon_b.business.pk, order_b.pk)
    ]


def test_orders_older_than_the_look_back_are_not_asked_about(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = paid(salon_a)
    PaymentOrder.objects.filter(pk=order.pk).update(
        paid_amount=1, created_at=timezone.now() - reconciliation.LOOK_BACK - timedelta(hours=1)
    )
    assert reconciliation.run_daily() == 0


def test_the_nightly_run_is_at_four_in_tashkent():
    # 2026-03-10 22:59 UTC is 03:59 in Tashkent: the run is a minute away.
    assert reconciliation.next_run_at(datetime(2026, 3, 10, 22, 59, tzinfo=UTC)) == datetime(
        2026, 3, 10, 23, 0, tzinfo=UTC
    )
    assert reconciliation.next_run_at(datetime(2026, 3, 10, 23, 0, tzinfo=UTC)) == datetime(
        2026, 3, 11, 23, 0, tzinfo=UTC
    )


def test_the_daily_job_is_seeded_once_and_reschedules_itself(salon_a, connect_uzum):
    connect_uzum(salon_a)
    order = paid(salon_a)
    PaymentOrder.objects.filter(pk=order.pk).update(paid_amount=1)
    assert reconciliation.ensure_daily_scheduled() is True
    assert reconciliation.ensure_daily_scheduled() is False
    first = waiting(DAILY_JOB).get()
    assert first.run_after == reconciliation.next_run_at()

    # limit=1: the next night's job is due by the same moment (the clock is not moved).
    assert run_due(DAILY_JOB, now=first.run_after, limit=1) == 1

    first.refresh_from_db()
    assert first.status == TaskResultStatus.SUCCESSFUL
    assert Difference.objects.filter(what="paid_amount").count() == 1
    second = waiting(DAILY_JOB).get()
    assert second.pk != first.pk
    assert second.run_after == reconciliation.next_run_at()


def test_two_seeded_chains_merge_back_into_one(salon_a):
    from navbat.payments.tasks import daily_reconciliation

    daily_reconciliation.using(run_after=timezone.now()).enqueue()
    daily_reconciliation.using(run_after=timezone.now()).enqueue()
    assert run_due(DAILY_JOB) == 2
    assert waiting(DAILY_JOB).count() == 1


def test_the_daily_job_reschedules_even_when_the_run_fails(salon_a, monkeypatch):
    from navbat.payments.tasks import daily_reconciliation

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(reconciliation, "run_daily", broken)
    daily_reconciliation.using(run_after=timezone.now()).enqueue()
    with pytest.raises(RuntimeError):
        run_due(DAILY_JOB)
    assert waiting(DAILY_JOB).count() == 1


# ------------------------------------------------------------------ retention


PURGE_JOB = "navbat.payments.tasks.purge_old_records"


def test_the_purge_job_is_seeded_with_the_nightly_check_and_reschedules_itself(db):
    assert reconciliation.ensure_daily_scheduled() is True
    assert reconciliation.ensure_daily_scheduled() is False
    first = waiting(PURGE_JOB).get()
    assert first.run_after == retention.next_run_at()
    assert waiting(DAILY_JOB).count() == 1

    assert run_due(PURGE_JOB, now=first.run_after, limit=1) == 1
    first.refresh_from_db()
    assert first.status == TaskResultStatus.SUCCESSFUL
    second = waiting(PURGE_JOB).get()
    assert second.pk != first.pk
    assert second.run_after == retention.next_run_at()


def test_the_purge_deletes_callbacks_and_finished_jobs_past_the_retention_period(
    salon_a, connect_uzum, client, settings
):
    from django_tasks_db.models import DBTaskResult

    from navbat.uzum.models import Callback, RateCounter
    from navbat.uzum.tasks import handle_callback

    settings.NAVBAT_RETENTION_DAYS = 10
    connection = connect_uzum(salon_a)
    order = start_payment(salon_a)
    bodies = [
        {"orderId": order.bank_order_id, "orderNumber": order.reference, "n": n} for n in range(4)
    ]
    for body in bodies:
        response = client.post(
            f"/uzum/checkout/{connection.public_id}/callback",
            data=body,
            content_type="application/json",
        )
        assert response.status_code == 200
    now = timezone.now()
    old, recent = (
        list(Callback.objects.order_by("pk"))[:2],
        list(Callback.objects.order_by("pk"))[2:],
    )
    Callback.objects.filter(pk__in=[c.pk for c in old]).update(
        received_at=now - timedelta(days=10, seconds=1)
    )
    Callback.objects.filter(pk__in=[c.pk for c in recent]).update(
        received_at=now - timedelta(days=9, hours=23)
    )
    # Finished jobs: two old (one failed), one recent; a job still waiting is never purged.
    jobs = list(
        DBTaskResult.objects.filter(task_path=handle_callback.module_path).order_by("enqueued_at")
    )
    statuses = [TaskResultStatus.SUCCESSFUL, TaskResultStatus.FAILED, TaskResultStatus.SUCCESSFUL]
    for job, status, age in zip(jobs, statuses, (11, 30, 2), strict=False):
        DBTaskResult.objects.filter(pk=job.pk).update(
            status=status, finished_at=now - timedelta(days=age)
        )
    ancient_wait = jobs[3]
    DBTaskResult.objects.filter(pk=ancient_wait.pk).update(enqueued_at=now - timedelta(days=90))
    other_jobs = DBTaskResult.objects.exclude(task_path=handle_callback.module_path).count()
    RateCounter.objects.create(
        key="cb:addr:old", window_start=int(now.timestamp()) - 90_000, count=5
    )
    counters = RateCounter.objects.count()
    # The public booking pages' counters go after a day too; this window's stays.
    PublicCounter.objects.create(
        key="book:widget:-:ip:10.0.0.1", window_start=int(now.timestamp()) - 90_000, count=9
    )
    PublicCounter.objects.create(
        key="book:widget:-:ip:10.0.0.2", window_start=int(now.timestamp()) - 30, count=1
    )
    before = books(salon_a.business)

    counts = retention.purge(now=now)

    assert counts == {
        "finished jobs": 2,
        "uzum callbacks": 2,
        "uzum status pulls": 0,
        "rate counters": 1,
        "public rate counters": 1,
    }
    assert list(PublicCounter.objects.values_list("key", flat=True)) == [
        "book:widget:-:ip:10.0.0.2"
    ]
    assert set(Callback.objects.values_list("pk", flat=True)) == {c.pk for c in recent}
    left = set(
        DBTaskResult.objects.filter(task_path=handle_callback.module_path).values_list(
            "pk", flat=True
        )
    )
    assert left == {jobs[2].pk, ancient_wait.pk}
    assert DBTaskResult.objects.exclude(task_path=handle_callback.module_path).count() == other_jobs
    assert RateCounter.objects.count() == counters - 1
    after = books(salon_a.business)
    assert (after["orders"], after["transactions"]) == (before["orders"], before["transactions"])
    assert retention.purge(now=now) == {
        "finished jobs": 0,
        "uzum callbacks": 0,
        "uzum status pulls": 0,
        "rate counters": 0,
        "public rate counters": 0,
    }
