"""/healthz: liveness, database reachability, and whether background work is moving."""

from datetime import timedelta
from unittest import mock

import pytest
from django.db import DatabaseError, InterfaceError, OperationalError
from django.test import Client
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from navbat.kit.models import WorkerHeartbeat
from tests import worker_tasks

URL = "/healthz"
DOWN = {"status": "error", "database": "unavailable"}


@pytest.mark.django_db
def test_healthy(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker_heartbeat_age": None,
        "oldest_due_job_age": None,
        "oldest_running_job_age": None,
        "problems": [],
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_head_is_answered_for_load_balancers(client):
    response = client.head(URL)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("could not connect to server"),
        InterfaceError("connection already closed"),
        DatabaseError("disk I/O error"),
        RuntimeError("driver crashed"),
    ],
)
def test_database_down_is_503_never_500(client, error):
    with mock.patch("navbat.health.connection.cursor", side_effect=error) as cursor:
        response = client.get(URL)
    assert cursor.called
    assert response.status_code == 503
    assert response.json() == DOWN


def test_query_failing_is_503(client):
    broken = mock.MagicMock()
    broken.__enter__.return_value.execute.side_effect = OperationalError("server closed")
    with mock.patch("navbat.health.connection.cursor", return_value=broken):
        response = client.get(URL)
    assert response.status_code == 503
    assert response.json() == DOWN


def test_health_raises_nothing_to_the_client_even_when_raising_is_on():
    strict = Client(raise_request_exception=True)
    with mock.patch("navbat.health.connection.cursor", side_effect=OperationalError("down")):
        response = strict.get(URL)
    assert response.status_code == 503


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_only_reads(client, method):
    assert getattr(client, method)(URL).status_code == 405


@pytest.mark.django_db
def test_health_needs_no_login_and_sets_no_cookie(client):
    response = client.get(URL)
    assert response.status_code == 200
    assert not response.cookies


# ------------------------------------------------------------------ is work moving?

NOW = timezone.now().replace(microsecond=0)


def heartbeat(seconds_ago: int, worker_id: str = "w1"):
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        started_at=NOW - timedelta(hours=1),
        seen_at=NOW - timedelta(seconds=seconds_ago),
    )


def job(*, queued_ago: int, due_in: int | None = None):
    """A job queued ``queued_ago`` seconds before NOW; run at once, or ``due_in`` seconds
    from NOW (negative: due since then)."""
    task = worker_tasks.flaky
    if due_in is not None:
        task = task.using(run_after=NOW + timedelta(seconds=due_in))
    result = task.enqueue("health", failures=0)
    DBTaskResult.objects.filter(pk=result.id).update(
        enqueued_at=NOW - timedelta(seconds=queued_ago)
    )
    return result


def health(client, query="", **extra):
    with mock.patch("navbat.health.timezone.now", return_value=NOW):
        return client.get(URL + query, **extra)


@pytest.mark.django_db
def test_ok_names_the_heartbeat_and_the_oldest_due_job(client):
    heartbeat(3)
    heartbeat(40, worker_id="w2")
    job(queued_ago=7)
    job(queued_ago=500, due_in=-12)  # deferred, due for 12 s
    job(queued_ago=900, due_in=60)  # not due yet: not counted
    response = health(client)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker_heartbeat_age": 3,
        "oldest_due_job_age": 12,
        "oldest_running_job_age": None,
        "problems": [],
    }


@pytest.mark.django_db
def test_no_worker_and_nothing_due_is_ok(client):
    job(queued_ago=10, due_in=3600)  # tomorrow's reconciliation, say
    response = health(client)
    assert response.status_code == 200
    assert response.json()["problems"] == []


@pytest.mark.django_db
def test_silent_workers_while_jobs_are_due_is_503(client):
    heartbeat(61)
    job(queued_ago=5)
    response = health(client)
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "worker_heartbeat_age": 61,
        "oldest_due_job_age": 5,
        "oldest_running_job_age": None,
        "problems": ["worker_silent"],
    }


@pytest.mark.django_db
def test_no_worker_ever_while_jobs_are_due_is_503(client):
    job(queued_ago=0)
    response = health(client)
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "worker_heartbeat_age": None,
        "oldest_due_job_age": 0,
        "oldest_running_job_age": None,
        "problems": ["worker_silent"],
    }


@pytest.mark.django_db
def test_a_due_job_waiting_too_long_is_503_even_with_a_live_worker(client):
    heartbeat(1)
    job(queued_ago=301)
    response = health(client)
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "worker_heartbeat_age": 1,
        "oldest_due_job_age": 301,
        "oldest_running_job_age": None,
        "problems": ["queue_stalled"],
    }


@pytest.mark.django_db
def test_thresholds_are_settings(client, settings):
    settings.NAVBAT_HEALTH_WORKER_SILENCE_SECONDS = 5
    settings.NAVBAT_HEALTH_QUEUE_DELAY_SECONDS = 10
    heartbeat(6)
    job(queued_ago=11)
    response = health(client)
    assert response.status_code == 503
    assert response.json()["problems"] == ["worker_silent", "queue_stalled"]
    settings.NAVBAT_HEALTH_WORKER_SILENCE_SECONDS = 6
    settings.NAVBAT_HEALTH_QUEUE_DELAY_SECONDS = 11
    assert health(client).status_code == 200


@pytest.mark.django_db
def test_a_web_node_that_need_not_have_workers_reports_but_stays_up(client, settings):
    settings.NAVBAT_HEALTH_REQUIRE_WORKER = False
    job(queued_ago=400)
    response = health(client)
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "worker_heartbeat_age": None,
        "oldest_due_job_age": 400,
        "oldest_running_job_age": None,
        "problems": ["worker_silent", "queue_stalled"],
    }
    # A monitor asks for the strict answer from any node.
    strict = health(client, "?require=worker")
    assert strict.status_code == 503
    assert strict.json()["status"] == "error"


@pytest.mark.django_db
def test_finished_and_running_jobs_are_not_due(client):
    done = job(queued_ago=999)
    running = job(queued_ago=999)
    DBTaskResult.objects.filter(pk=done.id).update(status="SUCCESSFUL")
    DBTaskResult.objects.filter(pk=running.id).update(status="RUNNING")
    response = health(client)
    assert response.status_code == 200
    assert response.json()["oldest_due_job_age"] is None


# ------------------------------------------------------------------ jobs that hang


def running(*, started_ago: int):
    result = job(queued_ago=started_ago + 1)
    DBTaskResult.objects.filter(pk=result.id).update(
        status="RUNNING", worker_ids=["w1"], started_at=NOW - timedelta(seconds=started_ago)
    )
    return result


@pytest.mark.django_db
def test_a_job_running_past_its_time_limit_is_a_problem(client, settings):
    settings.NAVBAT_WORKER_JOB_TIMEOUT_SECONDS = 600
    heartbeat(2)
    running(started_ago=30)
    running(started_ago=601)
    response = health(client)
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "ok",
        "worker_heartbeat_age": 2,
        "oldest_due_job_age": None,
        "oldest_running_job_age": 601,
        "problems": ["job_overrunning"],
    }
    settings.NAVBAT_WORKER_JOB_TIMEOUT_SECONDS = 601
    within = health(client)
    assert within.status_code == 200
    assert within.json()["problems"] == []
    assert within.json()["oldest_running_job_age"] == 601


# ------------------------------------------------------------------ who sees the ages

PUBLIC = {"REMOTE_ADDR": "203.0.113.7"}


@pytest.mark.django_db
def test_strangers_see_the_status_and_problems_but_not_the_ages(client):
    heartbeat(61)
    job(queued_ago=5)
    response = health(client, **PUBLIC)
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "problems": ["worker_silent"]}
    relaxed = health(client, "?require=worker", **PUBLIC)
    assert relaxed.json() == {"status": "error", "database": "ok", "problems": ["worker_silent"]}


@pytest.mark.django_db
def test_a_monitor_with_the_health_token_sees_the_ages(client, settings):
    settings.NAVBAT_HEALTH_TOKEN = "monitor-secret-1234567890"
    heartbeat(4)
    job(queued_ago=9)
    full = health(client, HTTP_AUTHORIZATION="Bearer monitor-secret-1234567890", **PUBLIC)
    assert full.json() == {
        "status": "ok",
        "database": "ok",
        "worker_heartbeat_age": 4,
        "oldest_due_job_age": 9,
        "oldest_running_job_age": None,
        "problems": [],
    }
    for wrong in ("Bearer monitor-secret", "monitor-secret-1234567890", "Bearer ", ""):
        response = health(client, HTTP_AUTHORIZATION=wrong, **PUBLIC)
        assert response.json() == {"status": "ok", "database": "ok", "problems": []}, wrong


@pytest.mark.django_db
def test_no_token_set_means_no_token_works(client, settings):
    settings.NAVBAT_HEALTH_TOKEN = ""
    response = health(client, HTTP_AUTHORIZATION="Bearer ", **PUBLIC)
    assert response.json() == {"status": "ok", "database": "ok", "problems": []}


@pytest.mark.django_db
def test_behind_a_proxy_only_the_real_client_address_counts(client, settings):
    settings.NAVBAT_TRUSTED_PROXIES = 1
    local_proxy = {"REMOTE_ADDR": "127.0.0.1"}
    # A stranger claims to be loopback; our proxy appends the real address.
    spoofed = health(client, HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.7", **local_proxy)
    assert spoofed.json() == {"status": "ok", "database": "ok", "problems": []}
    # A monitor on the proxy's own machine.
    local = health(client, HTTP_X_FORWARDED_FOR="::1", **local_proxy)
    assert "worker_heartbeat_age" in local.json()
