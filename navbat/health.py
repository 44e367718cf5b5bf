"""/healthz: the database is reachable and background work is moving.

The answer names the age (whole seconds) of the newest worker heartbeat and of the oldest
due job (READY with its time come); ``null`` when there is none. Work is not moving when
jobs are due and no worker has beaten for ``NAVBAT_HEALTH_WORKER_SILENCE_SECONDS``
("worker_silent"), or when the oldest due job has waited longer than
``NAVBAT_HEALTH_QUEUE_DELAY_SECONDS`` ("queue_stalled"). That is a 503 unless
``NAVBAT_HEALTH_REQUIRE_WORKER`` is off (then the problems are listed with a 200), and
``?require=worker`` asks for the strict answer whatever the setting.
"""

from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max, Min
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

DOWN = {"status": "error", "database": "unavailable"}


def _age(now: datetime, moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def work_report(*, now: datetime) -> dict:
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    from navbat.kit.models import WorkerHeartbeat

    newest_beat = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    ready = DBTaskResult.objects.filter(status=TaskResultStatus.READY)
    # A job queued to run at once carries the far-future date; it is due since it was queued.
    deferred = ready.filter(run_after__lte=now).aggregate(oldest=Min("run_after"))["oldest"]
    immediate = ready.filter(run_after=get_date_max()).aggregate(oldest=Min("enqueued_at"))
    due_since = min(
        (moment for moment in (deferred, immediate["oldest"]) if moment is not None),
        default=None,
    )
    beat_age, due_age = _age(now, newest_beat), _age(now, due_since)
    problems = []
    silence = settings.NAVBAT_HEALTH_WORKER_SILENCE_SECONDS
    if due_since is not None and (beat_age is None or beat_age > silence):
        problems.append("worker_silent")
    if due_age is not None and due_age > settings.NAVBAT_HEALTH_QUEUE_DELAY_SECONDS:
        problems.append("queue_stalled")
    return {
        "worker_heartbeat_age": beat_age,
        "oldest_due_job_age": due_age,
        "problems": problems,
    }


@transaction.non_atomic_requests
@never_cache
@require_safe  # GET and HEAD: load balancers probe with either
def healthz(request):
    """For load balancers, monitors and `make run` checks."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        report = work_report(now=timezone.now())
    except Exception:  # any database failure means "not healthy", whatever its type
        return JsonResponse(DOWN, status=503)
    strict = settings.NAVBAT_HEALTH_REQUIRE_WORKER or request.GET.get("require") == "worker"
    failing = bool(strict and report["problems"])
    body = {"status": "error" if failing else "ok", "database": "ok", **report}
    return JsonResponse(body, status=503 if failing else 200)
