"""navbat.worker: the supervised worker thread, transient database errors retried, and the
jobs of dead workers picked up again."""

import logging
import threading
import time
from datetime import timedelta

import psycopg
import pytest
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection
from django.utils import timezone
from django_tasks import task
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from navbat.cli import _make_worker
from navbat.kit.models import WorkerHeartbeat
from navbat.worker import Supervisor, is_transient_db_error, reclaim, reclaim_orphans
from navbat.worker_db import job_lock_key
from tests import worker_tasks

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.NAVBAT_WORKER_RETRY_DELAYS = [0]
    settings.NAVBAT_WORKER_MAX_ATTEMPTS = 3
    worker_tasks.CALLS.clear()


def drain(worker_id="test-worker"):
    """Run every due job once through the worker `navbat run` and `navbat worker` use."""
    worker = _make_worker(interval=0, worker_id=worker_id)
    worker.batch = True
    worker.run()
    return worker


def job_of(result) -> DBTaskResult:
    return DBTaskResult.objects.get(pk=result.id)


def wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except OperationalError as error:
            # The tests' in-memory SQLite shares one cache between threads: a reader meets
            # a busy writer's table lock at once instead of waiting as on a file.
            assert "locked" in str(error)
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


# ------------------------------------------------------------ transient database errors


def test_a_job_failing_on_a_locked_database_is_retried_and_succeeds(caplog):
    result = worker_tasks.flaky.enqueue("k1", failures=2)
    with caplog.at_level(logging.WARNING, logger="navbat.worker"):
        drain()
    job = job_of(result)
    assert job.status == TaskResultStatus.SUCCESSFUL
    assert job.return_value == "k1 done after 3"
    assert worker_tasks.CALLS == {"k1": 3}
    assert job.worker_ids == ["test-worker"] * 3
    assert job.exception_class_path == ""
    retries = [r.getMessage() for r in caplog.records if "transient" in r.getMessage()]
    assert len(retries) == 2
    assert "attempt 1 of 3, again in 0 s" in retries[0]
    assert "attempt 2 of 3, again in 0 s" in retries[1]


def test_a_retry_waits_its_delay(settings):
    settings.NAVBAT_WORKER_RETRY_DELAYS = [30, 60]
    result = worker_tasks.flaky.enqueue("k2", failures=1, error="server closed the connection")
    before = timezone.now()
    drain()
    job = job_of(result)
    assert job.status == TaskResultStatus.READY
    assert worker_tasks.CALLS == {"k2": 1}
    assert before + timedelta(seconds=30) <= job.run_after <= timezone.now() + timedelta(seconds=30)
    assert job.exception_class_path == "django.db.utils.OperationalError"
    assert job.started_at is None


def test_retries_are_bounded():
    result = worker_tasks.flaky.enqueue("k3", failures=10)
    drain()
    job = job_of(result)
    assert job.status == TaskResultStatus.FAILED
    assert worker_tasks.CALLS == {"k3": 3}
    assert job.exception_class_path == "django.db.utils.OperationalError"
    assert "database is locked" in job.traceback


def test_a_bug_fails_at_once():
    result = worker_tasks.broken.enqueue("k4")
    drain()
    job = job_of(result)
    assert job.status == TaskResultStatus.FAILED
    assert worker_tasks.CALLS == {"k4": 1}
    assert job.exception_class_path == "builtins.ValueError"


def wrapped(driver_error):
    """A driver error as Django raises it (its own class, the driver's as the cause)."""
    try:
        try:
            raise driver_error
        except Exception as exc:
            raise OperationalError(str(exc)) from exc
    except OperationalError as outer:
        return outer


# No database work: the nearest mark spares these the module's flush.
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (OperationalError("database is locked"), True),
        (OperationalError("database table is locked: x"), True),
        (InterfaceError("connection already closed"), True),
        (OperationalError("server closed the connection unexpectedly"), True),
        (wrapped(psycopg.errors.SerializationFailure("could not serialize")), True),
        (wrapped(psycopg.errors.DeadlockDetected("deadlock")), True),
        (wrapped(psycopg.errors.AdminShutdown("terminating")), True),
        (wrapped(psycopg.OperationalError("consuming input failed")), True),
        (OperationalError("no such table: salons_business"), False),
        (IntegrityError("duplicate key value violates unique constraint"), False),
        (DatabaseError("value too long"), False),
        (ValueError("database is locked"), False),
    ],
)
def test_which_errors_are_transient(error, transient):
    assert is_transient_db_error(error) is transient


# ------------------------------------------------------------------ the supervised thread


class Crashing:
    """make_worker for a Supervisor: the first worker dies of a bug, later ones work."""

    def __init__(self):
        self.made = 0

    def __call__(self):
        self.made += 1
        if self.made == 1:
            raise RuntimeError("worker bug")
        return _make_worker(interval=0.02, worker_id="ignored")


def test_a_dead_worker_thread_is_started_again_with_a_log_line(caplog):
    make = Crashing()
    supervisor = Supervisor(
        make_worker=make, worker_id="sup-1", heartbeat_seconds=0.05, backoff=(0.01, 0.01)
    )
    with caplog.at_level(logging.INFO, logger="navbat.worker"):
        supervisor.start()
        result = worker_tasks.flaky.enqueue("after-restart", failures=0)
        wait_for(lambda: job_of(result).status == TaskResultStatus.SUCCESSFUL)
        assert supervisor.stop(timeout=5)
    assert make.made == 2
    assert supervisor.restarts == 1
    messages = [r.getMessage() for r in caplog.records]
    crash = next(r for r in caplog.records if r.getMessage() == "background worker sup-1 crashed")
    assert crash.exc_info[0] is RuntimeError
    assert "background worker sup-1 died; starting it again in 0.01 s (restart 1)" in messages
    # The restarted worker ran under the supervisor's id and stopped cleanly.
    assert job_of(result).worker_ids == ["sup-1"]
    assert not WorkerHeartbeat.objects.filter(worker_id="sup-1").exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("navbat-worker")]


def test_a_job_whose_thread_died_is_run_again_by_the_new_thread(caplog):
    supervisor = Supervisor(
        make_worker=lambda: _make_worker(interval=0.02, worker_id="x"),
        worker_id="sup-2",
        heartbeat_seconds=0.05,
        backoff=(0.01, 0.01),
    )
    result = worker_tasks.dies_once.enqueue("d1")
    with caplog.at_level(logging.WARNING, logger="navbat.worker"):
        supervisor.start()
        wait_for(lambda: job_of(result).status == TaskResultStatus.SUCCESSFUL)
        supervisor.stop(timeout=5)
    job = job_of(result)
    assert job.return_value == "d1 done"
    assert worker_tasks.CALLS == {"d1": 2}
    assert job.worker_ids == ["sup-2", "sup-2"]
    assert supervisor.restarts == 1
    assert any("queued again: worker sup-2 died" in r.getMessage() for r in caplog.records)


def test_the_supervisor_beats_while_the_worker_lives():
    supervisor = Supervisor(
        make_worker=lambda: _make_worker(interval=0.02, worker_id="x"),
        worker_id="sup-3",
        heartbeat_seconds=0.05,
    )
    supervisor.start()
    try:
        wait_for(lambda: WorkerHeartbeat.objects.filter(worker_id="sup-3").exists())
        first = WorkerHeartbeat.objects.get(worker_id="sup-3").seen_at
        wait_for(lambda: WorkerHeartbeat.objects.get(worker_id="sup-3").seen_at > first)
    finally:
        supervisor.stop(timeout=5)
    assert not WorkerHeartbeat.objects.filter(worker_id="sup-3").exists()


# --------------------------------------------------------------- jobs of dead workers


def beat_of(worker_id):
    return WorkerHeartbeat.objects.get(worker_id=worker_id).seen_at


def held_by(worker_id, *, seen_ago, started_ago, result=None):
    """A RUNNING job claimed by ``worker_id``, whose heartbeat was last seen ``seen_ago``."""
    result = result or worker_tasks.flaky.enqueue(f"held-{worker_id}", failures=0)
    now = timezone.now()
    job = job_of(result)
    job.claim(worker_id)
    DBTaskResult.objects.filter(pk=job.pk).update(started_at=now - timedelta(seconds=started_ago))
    WorkerHeartbeat.objects.create(
        worker_id=worker_id,
        started_at=now - timedelta(seconds=started_ago),
        seen_at=now - timedelta(seconds=seen_ago),
        job_id=job.pk,
    )
    return result


def test_a_running_job_of_a_dead_worker_is_reclaimed_and_done_once(settings, caplog):
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    result = held_by("dead-worker", seen_ago=45, started_ago=50)
    with caplog.at_level(logging.WARNING, logger="navbat.worker"):
        assert reclaim_orphans() == 1
    job = job_of(result)
    assert job.status == TaskResultStatus.READY
    assert job.exception_class_path == "navbat.worker.WorkerLost"
    assert any(
        "queued again: worker dead-worker stopped beating" in r.getMessage() for r in caplog.records
    )
    assert reclaim_orphans() == 0  # once
    drain()
    job = job_of(result)
    assert job.status == TaskResultStatus.SUCCESSFUL
    assert job.worker_ids == ["dead-worker", "test-worker"]
    assert worker_tasks.CALLS == {"held-dead-worker": 1}


def test_a_job_of_a_live_worker_is_left_alone(settings):
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    result = held_by("live-worker", seen_ago=2, started_ago=600)
    assert reclaim_orphans() == 0
    assert job_of(result).status == TaskResultStatus.RUNNING


def test_a_job_just_claimed_is_left_alone_even_without_a_heartbeat(settings):
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    result = held_by("new-worker", seen_ago=100, started_ago=5)
    assert reclaim_orphans() == 0
    assert job_of(result).status == TaskResultStatus.RUNNING


def test_a_job_that_keeps_killing_workers_fails_at_the_limit(settings):
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    result = worker_tasks.flaky.enqueue("poison", failures=0)
    DBTaskResult.objects.filter(pk=result.id).update(worker_ids=["w1", "w2"])
    held_by("w3", seen_ago=60, started_ago=60, result=result)
    assert reclaim_orphans() == 1
    job = job_of(result)
    assert job.status == TaskResultStatus.FAILED
    assert job.exception_class_path == "navbat.worker.WorkerLost"
    assert "worker w3 stopped beating while running this job (attempt 3 of 3)" in job.traceback


def test_claiming_names_the_job_in_the_heartbeat():
    result = worker_tasks.flaky.enqueue("named", failures=0)
    worker = _make_worker(interval=0, worker_id="namer")
    job, read = worker.claim_next()
    assert read and job.pk == job_of(result).pk
    beat = WorkerHeartbeat.objects.get(worker_id="namer")
    assert beat.job_id == job.pk
    assert job_of(result).status == TaskResultStatus.RUNNING


# ------------------------------------------------ a slow worker's job is never run twice

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL advisory locks and timeouts"
)
STARTED = threading.Event()
GO = threading.Event()


@pytest.fixture(autouse=True)
def gate():
    STARTED.clear()
    GO.clear()
    yield
    GO.set()  # a test that failed half-way leaves no job waiting


@task()
def gated(key: str, outcome: str = "ok") -> str:
    """Its first run waits for the test to say GO; then ends as ``outcome`` says."""
    worker_tasks.CALLS[key] = worker_tasks.CALLS.get(key, 0) + 1
    if worker_tasks.CALLS[key] == 1:
        STARTED.set()
        assert GO.wait(10)
    if outcome == "broken":
        raise ValueError("a bug")
    if outcome == "transient":
        raise OperationalError("database is locked")
    return f"{key} run {worker_tasks.CALLS[key]}"


def start_worker(worker_id: str) -> threading.Thread:
    """A worker in its own thread that runs what is due, then returns."""
    worker = _make_worker(interval=0, worker_id=worker_id)
    worker.batch = True
    thread = threading.Thread(target=worker.run, name=f"test-{worker_id}")
    thread.start()
    return thread


@postgres_only
@pytest.mark.postgres
def test_a_slow_job_whose_worker_stops_beating_is_not_run_twice(settings, caplog):
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    result = gated.enqueue("slow")
    first = start_worker("slow-worker")
    try:
        assert STARTED.wait(10)
        # Two minutes on: the job is past the stale limit and the heartbeat naming it is
        # silent, but the worker's connection still holds the job.
        later = timezone.now() + timedelta(seconds=120)
        with caplog.at_level(logging.WARNING, logger="navbat.worker"):
            assert reclaim_orphans(now=later) == 0
        assert job_of(result).status == TaskResultStatus.RUNNING
        drain("second-worker")
        assert worker_tasks.CALLS == {"slow": 1}
    finally:
        GO.set()
        first.join(10)
    job = job_of(result)
    assert job.status == TaskResultStatus.SUCCESSFUL
    assert job.return_value == "slow run 1"
    assert job.worker_ids == ["slow-worker"]
    assert worker_tasks.CALLS == {"slow": 1}
    assert any("still held by a live database session" in r.getMessage() for r in caplog.records)


@postgres_only
@pytest.mark.postgres
def test_a_worker_locks_its_job_once_a_reclaimer_lets_go_and_frees_it_after():
    result = gated.enqueue("locked")
    key = job_lock_key(result.id)

    def try_lock() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            return cursor.fetchone()[0]

    def worker_waits() -> bool:
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                " AND classid = %s::oid AND objid = %s::oid AND objsubid = 1",
                [unsigned >> 32, unsigned & 0xFFFFFFFF],
            )
            return cursor.fetchone()[0] == 1

    assert try_lock()  # as a reclaimer does for an instant after queuing the job again
    first = start_worker("locker")
    try:
        wait_for(worker_waits)
        assert not STARTED.is_set()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
        assert STARTED.wait(10)
        assert not try_lock()  # the worker's session holds it while the job runs
    finally:
        GO.set()
        first.join(10)
    assert job_of(result).status == TaskResultStatus.SUCCESSFUL
    assert try_lock()  # and lets go when it is done
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


@pytest.mark.parametrize("outcome", ["ok", "broken", "transient"])
@pytest.mark.parametrize("taken_over", [TaskResultStatus.RUNNING, TaskResultStatus.SUCCESSFUL])
def test_a_late_finish_of_a_job_taken_over_changes_nothing(outcome, taken_over, caplog):
    result = gated.enqueue("late", outcome=outcome)
    first = start_worker("late-worker")
    assert STARTED.wait(10)
    # Meanwhile the job was queued again and claimed (or done) by another worker.
    DBTaskResult.objects.filter(pk=result.id).update(
        status=taken_over,
        worker_ids=["late-worker", "other-worker"],
        return_value="the other's" if taken_over == TaskResultStatus.SUCCESSFUL else None,
    )
    before = DBTaskResult.objects.filter(pk=result.id).values().get()
    with caplog.at_level(logging.WARNING, logger="navbat.worker"):
        GO.set()
        first.join(10)
    assert not first.is_alive()
    assert DBTaskResult.objects.filter(pk=result.id).values().get() == before
    assert worker_tasks.CALLS == {"late": 1}
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert dropped == [
        f"job {result.id} (tests.test_worker.gated) is no longer this worker's "
        f"(late-worker): its outcome is dropped"
    ]


def test_reclaim_rechecks_the_heartbeat_with_the_row_locked(settings):
    """A sweep read the job as an orphan; by the time it reclaims it, a live worker holds
    it (another sweep queued it again and a worker claimed it)."""
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    result = held_by("live-claimer", seen_ago=1, started_ago=1)
    assert reclaim(job_id=result.id, holder=None, reason="worker dead stopped beating") is False
    job = job_of(result)
    assert job.status == TaskResultStatus.RUNNING
    assert job.worker_ids == ["live-claimer"]


def test_a_sweep_takes_the_oldest_orphans_first(settings):
    settings.NAVBAT_WORKER_STALE_SECONDS = 30
    now = timezone.now()
    # 101 orphans; the one that has waited longest was queued last.
    jobs = [worker_tasks.flaky.enqueue(f"orphan-{n}", failures=0) for n in range(101)]
    for n, result in enumerate(jobs):
        DBTaskResult.objects.filter(pk=result.id).update(
            status=TaskResultStatus.RUNNING,
            worker_ids=["gone"],
            started_at=now - timedelta(seconds=100 + n),
        )
    assert reclaim_orphans(now=now) == 100
    assert job_of(jobs[-1]).status == TaskResultStatus.READY
    assert job_of(jobs[0]).status == TaskResultStatus.RUNNING  # the youngest waits its turn
    assert reclaim_orphans(now=now) == 1
    assert job_of(jobs[0]).status == TaskResultStatus.READY


# ------------------------------------------------------------------ hung jobs


def test_the_supervisor_logs_a_job_past_its_time_limit_once(settings, caplog):
    settings.NAVBAT_WORKER_JOB_TIMEOUT_SECONDS = 0.1
    result = gated.enqueue("hung")
    supervisor = Supervisor(
        make_worker=lambda: _make_worker(interval=0.02, worker_id="x"),
        worker_id="sup-hung",
        heartbeat_seconds=0.05,
    )
    with caplog.at_level(logging.WARNING, logger="navbat.worker"):
        supervisor.start()
        try:
            assert STARTED.wait(10)
            wait_for(lambda: any("time limit" in r.getMessage() for r in caplog.records))
            for _ in range(3):  # three more beats, each looking at the job again
                seen = beat_of("sup-hung")
                wait_for(lambda seen=seen: beat_of("sup-hung") > seen)
        finally:
            GO.set()
            wait_for(lambda: job_of(result).status == TaskResultStatus.SUCCESSFUL)
            supervisor.stop(timeout=5)
    overrun = [r.getMessage() for r in caplog.records if "time limit" in r.getMessage()]
    assert len(overrun) == 1
    assert overrun[0].startswith(
        f"job {result.id} (tests.test_worker.gated) on worker sup-hung has run for "
    )
    assert "past its time limit of 0.1 s (NAVBAT_WORKER_JOB_TIMEOUT_SECONDS)" in overrun[0]
    assert "in gated" in overrun[0]  # where the job is stuck


@task()
def slow_query(seconds: float) -> list:
    """A job stuck in the database: it reports its session's timeouts, then sleeps there."""
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        statement = cursor.fetchone()[0]
        cursor.execute("SHOW lock_timeout")
        lock = cursor.fetchone()[0]
        cursor.execute("SELECT pg_sleep(%s)", [seconds])
    return [statement, lock]


@postgres_only
@pytest.mark.postgres
def test_worker_connections_time_out_a_hung_statement_and_web_ones_do_not(settings):
    settings.NAVBAT_WORKER_STATEMENT_TIMEOUT_SECONDS = 0.5
    settings.NAVBAT_WORKER_LOCK_TIMEOUT_SECONDS = 2
    hung = slow_query.enqueue(5)
    started = time.monotonic()
    first = start_worker("timeouts")
    first.join(10)
    assert time.monotonic() - started < 4
    job = job_of(hung)
    assert job.status == TaskResultStatus.FAILED
    assert "canceling statement due to statement timeout" in job.traceback
    # A quick statement passes, and the session says what it was given.
    settings.NAVBAT_WORKER_STATEMENT_TIMEOUT_SECONDS = 3
    quick = slow_query.enqueue(0)
    second = start_worker("timeouts-2")
    second.join(10)
    assert job_of(quick).return_value == ["3s", "2s"]
    # This thread is like a web request's: no limits.
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "0"


# ------------------------------------------------ the index on django_tasks_db's table


@postgres_only
@pytest.mark.postgres
def test_the_running_jobs_index_is_built_concurrently_on_postgresql():
    from django.core.management import call_command
    from django.test.utils import CaptureQueriesContext

    call_command("migrate", "kit", "0001", verbosity=0)
    with CaptureQueriesContext(connection) as queries:
        call_command("migrate", "kit", verbosity=0)
    # The queue's index; kit's other tables (the public counters) bring their own.
    creates = [
        q["sql"] for q in queries if "CREATE INDEX" in q["sql"] and "dbtaskresult" in q["sql"]
    ]
    assert creates == [
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS navbat_tasks_running_idx"
        " ON django_tasks_database_dbtaskresult (started_at) WHERE status = 'RUNNING'"
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i"
            " JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'navbat_tasks_running_idx'"
        )
        [(valid, definition)] = cursor.fetchall()
    assert valid is True
    assert definition.endswith("(started_at) WHERE ((status)::text = 'RUNNING'::text)")
