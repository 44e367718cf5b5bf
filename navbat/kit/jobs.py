"""The one seam over the job queue's tables (django-tasks with its database backend).

Apps ask here the questions they have about queued jobs — is one of this task waiting,
since when is the queue behind, which finished jobs may go — so that only this module (and
the worker itself, ``navbat/worker.py`` and ``worker_db.py``) knows django_tasks_db's
models. Enqueueing stays ``some_task.enqueue()`` / ``.using(run_after=…)``: that is the
library's public interface.

The imports are inside the functions: the backend's models exist only once apps are loaded.
"""

from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.db.models import Min, Q, QuerySet


def _model():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult


def _status():
    from django_tasks.base import TaskResultStatus

    return TaskResultStatus


def _far_future() -> datetime:
    from django_tasks_db.models import get_date_max

    return get_date_max()


def waiting(task) -> QuerySet:
    """The jobs of ``task`` queued and not yet taken by a worker (due or deferred)."""
    return _model().objects.filter(task_path=task.module_path, status=_status().READY)


def is_waiting(task) -> bool:
    return waiting(task).exists()


def oldest_due_since(*, now: datetime) -> datetime | None:
    """Since when the oldest job that is due at ``now`` has been waiting; None when none is."""
    ready = _model().objects.filter(status=_status().READY)
    # A job queued to run at once carries the far-future date; it is due since it was queued.
    deferred = ready.filter(run_after__lte=now).aggregate(oldest=Min("run_after"))["oldest"]
    immediate = ready.filter(run_after=_far_future()).aggregate(oldest=Min("enqueued_at"))
    return min(
        (moment for moment in (deferred, immediate["oldest"]) if moment is not None),
        default=None,
    )


def oldest_running_since() -> datetime | None:
    """When the longest-running job started; None when none runs."""
    # Read through the partial index on RUNNING jobs' started_at (kit migration 0002).
    return (
        _model()
        .objects.filter(status=_status().RUNNING)
        .aggregate(oldest=Min("started_at"))["oldest"]
    )


def finished_before(before: datetime) -> QuerySet:
    """Jobs that ended (well or not) before ``before``: what retention may delete."""
    status = _status()
    return _model().objects.filter(
        status__in=[status.SUCCESSFUL, status.FAILED], finished_at__lt=before
    )


def run_due_here(task, *, now: Callable[[], datetime], worker_id: str, limit: int) -> int:
    """Claim and run the due jobs of ``task`` in this thread, one at a time, as a worker
    would (the retries they queue included, once due); how many ran. ``now`` is asked
    before each claim."""
    model, status = _model(), _status()
    ran = 0
    while ran < limit:
        with transaction.atomic():
            row = (
                model.objects.select_for_update(skip_locked=True)
                .filter(status=status.READY, task_path=task.module_path)
                .filter(Q(run_after=_far_future()) | Q(run_after__lte=now()))
                .first()
            )
            if row is None:
                break
            row.claim(worker_id)
        try:
            args = row.args_kwargs
            task.call(*args["args"], **args["kwargs"])
        except Exception as exc:
            row.set_failed(exc)
        else:
            row.set_successful(None)
        ran += 1
    return ran
