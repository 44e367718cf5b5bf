"""/healthz: the database is reachable and background work is moving.

Work is not moving when jobs are due and no worker has beaten for
``NAVBAT_HEALTH_WORKER_SILENCE_SECONDS`` ("worker_silent"), when the oldest due job (READY
with its time come) has waited longer than ``NAVBAT_HEALTH_QUEUE_DELAY_SECONDS``
("queue_stalled"), or when a job has been RUNNING longer than
``NAVBAT_WORKER_JOB_TIMEOUT_SECONDS`` ("job_overrunning": hung). That is a 503 unless
``NAVBAT_HEALTH_REQUIRE_WORKER`` is off (then the problems are listed with a 200), and
``?require=worker`` asks for the strict answer whatever the setting.

Everyone gets the status, the database and the problem codes (a load balancer needs no
more). The ages in whole seconds (newest heartbeat, oldest due job, oldest running job;
``null`` when there is none) tell how busy and how late the platform is, so only a caller
on this machine (after the trusted proxies: ``navbat.kit.net.client_ip``) or one sending
``Authorization: Bearer <NAVBAT_HEALTH_TOKEN>`` sees them.
"""

import ipaddress
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.http import JsonResponse
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from navbat.kit import jobs
from navbat.kit.net import client_ip

DOWN = {"status": "error", "database": "unavailable"}


def _age(now: datetime, moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return max(0, int((now - moment).total_seconds()))


def work_report(*, now: datetime) -> dict:
    from navbat.kit.models import WorkerHeartbeat

    newest_beat = WorkerHeartbeat.objects.aggregate(newest=Max("seen_at"))["newest"]
    due_since = jobs.oldest_due_since(now=now)
    running_since = jobs.oldest_running_since()
    beat_age, due_age = _age(now, newest_beat), _age(now, due_since)
    running_age = _age(now, running_since)
    problems = []
    silence = settings.NAVBAT_HEALTH_WORKER_SILENCE_SECONDS
    if due_since is not None and (beat_age is None or beat_age > silence):
        problems.append("worker_silent")
    if due_age is not None and due_age > settings.NAVBAT_HEALTH_QUEUE_DELAY_SECONDS:
        problems.append("queue_stalled")
    if running_age is not None and running_age > settings.NAVBAT_WORKER_JOB_TIMEOUT_SECONDS:
        problems.append("job_overrunning")
    return {
        "worker_heartbeat_age": beat_age,
        "oldest_due_job_age": due_age,
        "oldest_running_job_age": running_age,
        "problems": problems,
    }


def may_see_ages(request) -> bool:
    token = settings.NAVBAT_HEALTH_TOKEN
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if token and scheme == "Bearer" and constant_time_compare(given.strip(), token):
        return True
    try:
        address = ipaddress.ip_address(client_ip(request))
    except ValueError:  # "?": nothing trustworthy names the client
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


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
    if not may_see_ages(request):
        report = {"problems": report["problems"]}
    body = {"status": "error" if failing else "ok", "database": "ok", **report}
    return JsonResponse(body, status=503 if failing else 200)
