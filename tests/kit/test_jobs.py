"""The seam over the job queue's tables (navbat/kit/jobs.py)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from navbat.kit import jobs
from navbat.payments.tasks import daily_reconciliation, purge_old_records

pytestmark = pytest.mark.django_db(transaction=False)


def test_waiting_jobs_are_those_of_the_task_not_yet_taken():
    assert not jobs.is_waiting(purge_old_records)
    purge_old_records.enqueue()
    assert jobs.is_waiting(purge_old_records)
    assert not jobs.is_waiting(daily_reconciliation)
    assert jobs.waiting(purge_old_records).count() == 1
    DBTaskResult.objects.update(status=TaskResultStatus.RUNNING, started_at=timezone.now())
    assert not jobs.is_waiting(purge_old_records)


def test_the_queue_says_since_when_it_is_behind():
    now = timezone.now()
    assert jobs.oldest_due_since(now=now) is None
    assert jobs.oldest_running_since() is None
    later = daily_reconciliation.using(run_after=now + timedelta(hours=1)).enqueue()
    assert jobs.oldest_due_since(now=now) is None  # deferred, not due yet
    purge_old_records.enqueue()
    queued = DBTaskResult.objects.exclude(id=later.id).get().enqueued_at
    assert jobs.oldest_due_since(now=now) == queued
    assert jobs.oldest_due_since(now=now + timedelta(hours=2)) == min(
        queued, now + timedelta(hours=1)
    )
    started = now - timedelta(minutes=5)
    DBTaskResult.objects.filter(id=later.id).update(
        status=TaskResultStatus.RUNNING, started_at=started
    )
    assert jobs.oldest_running_since() == started


def test_only_jobs_that_ended_before_the_cut_may_be_purged():
    now = timezone.now()
    old, recent, waiting = (purge_old_records.enqueue() for _ in range(3))
    DBTaskResult.objects.filter(id=old.id).update(
        status=TaskResultStatus.SUCCESSFUL, finished_at=now - timedelta(days=40)
    )
    DBTaskResult.objects.filter(id=recent.id).update(
        status=TaskResultStatus.FAILED, finished_at=now - timedelta(days=1)
    )
    cut = now - timedelta(days=30)
    assert [str(i) for i in jobs.finished_before(cut).values_list("id", flat=True)] == [old.id]
    assert waiting.id not in {
        str(i) for i in jobs.finished_before(now).values_list("id", flat=True)
    }
    assert jobs.finished_before(now).count() == 2
