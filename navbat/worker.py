"""Background workers that cannot silently die.

``JobWorker`` is django_tasks_db's worker with three changes: the transaction that claims a
job also names it in the worker's heartbeat row; a job that failed on a transient database
error (locked, connection lost, serialization failure, deadlock) goes back to the queue with
a growing delay, a bounded number of times, instead of being marked FAILED; and its idle
sleep wakes at once when it is told to stop.

A worker writes a job's outcome only while the job is still its own (RUNNING, and last
claimed by it): a job queued again behind its back belongs to whoever claimed it next, and
a late outcome is logged and dropped. On PostgreSQL the worker's session holds an advisory
lock on the job while it runs, and its sessions carry ``statement_timeout`` and
``lock_timeout``.

``Supervisor`` runs a JobWorker in a thread and starts a new one, with a log line and a
short growing pause, whenever it dies. Every few seconds it beats the worker's heartbeat,
logs a job running past ``NAVBAT_WORKER_JOB_TIMEOUT_SECONDS`` (with where it is stuck), and
puts the RUNNING jobs of dead workers back in the queue, oldest first: no fresh heartbeat
names them and, on PostgreSQL, no live session holds their lock (a live session proves the
worker alive, however late its heartbeat).
``navbat run`` runs one inside the web process; ``navbat worker`` runs one per process
(``run_worker_process``: SIGTERM or Ctrl-C finish the current job, then the process exits).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from contextlib import suppress
from datetime import timedelta
from functools import partial
from secrets import token_hex
from uuid import UUID

from django.core.exceptions import SuspiciousOperation
from django.db import (
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    transaction,
)
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from navbat.kit.models import WorkerHeartbeat
from navbat.worker_db import (
    fail,
    hold_job,
    is_transient_db_error,
    job_lock_key,
    let_go,
    requeue,
    retry_delay,
    setting,
    settled,
    sound_connections,
    succeed,
    worker_sessions,
)

logger = logging.getLogger("navbat.worker")


class WorkerLost(Exception):
    """Recorded on a job whose worker died under it too many times."""


class JobWorker(Worker):
    """django_tasks_db's worker, named in a heartbeat, retrying transient database errors."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # (id, task path, time.monotonic() when it started), replaced in one assignment so
        # that the supervisor reads a consistent triple.
        self.current: tuple[UUID, str, float] | None = None
        self._wake = threading.Event()

    @property
    def current_job_id(self) -> UUID | None:
        current = self.current
        return current[0] if current else None

    def stop(self) -> None:
        """Finish the job in hand (if any), then return from ``run``."""
        self.running = False
        self._wake.set()

    def _ready_jobs(self):
        jobs = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            jobs = jobs.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            jobs = jobs.exclude(queue_name__in=self.excluded_queue_names)
        return jobs

    def claim_next(self) -> tuple[DBTaskResult | None, bool]:
        """The next due job, claimed and named in our heartbeat in one transaction; the flag
        says whether the queue could be read at all (locked, or the connection lost)."""
        jobs = self._ready_jobs()
        try:
            with exclusive_transaction(jobs.db):
                job = jobs.get_locked()
                if job is not None:
                    job.claim(self.worker_id)
                    name_job(worker_id=self.worker_id, job_id=job.id)
        except (OperationalError, InterfaceError) as exc:
            if isinstance(exc, OperationalError) and is_locked_database_exception(exc):
                return None, False
            if not is_transient_db_error(exc):
                raise
            logger.warning("worker %s cannot read the queue: %s", self.worker_id, exc)
            connection.close_if_unusable_or_obsolete()
            return None, False
        return job, True

    def run(self) -> None:
        logger.info("worker %s starts", self.worker_id)
        with worker_sessions():
            while self.running:
                sound_connections()
                job, read = self.claim_next()
                if job is not None:
                    self.current = (job.id, job.task_path, time.monotonic())
                    session = hold_job(job)
                    try:
                        self.run_task(job)
                    finally:
                        let_go(job, session)
                    # Not on the way out of a dying thread: the supervisor reads what it held.
                    self.current = None
                if self.batch and read and job is None:
                    return
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    return
                if self.running and job is None:
                    self._wake.wait(self.interval)
        logger.info("worker %s stops", self.worker_id)

    def _dropped(self, job: DBTaskResult) -> None:
        logger.warning(
            "job %s (%s) is no longer this worker's (%s): its outcome is dropped",
            job.id,
            job.task_path,
            self.worker_id,
        )

    def run_task(self, db_task_result: DBTaskResult) -> None:
        """Run one claimed job: SUCCESSFUL, FAILED, or (a transient database error, below
        the attempt limit) READY again after a delay."""
        job = db_task_result
        try:
            self.running_task = True
            task = job.task
            result = job.task_result
            backend_type = task.get_backend()
            task_started.send(sender=backend_type, task_result=result)
            if task.takes_context:
                value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = task.call(*result.args, **result.kwargs)
            if not settled(partial(succeed, job, value)):
                self._dropped(job)
                return
            task_finished.send(sender=backend_type, task_result=job.task_result)
        except Exception as exc:
            attempt = len(job.worker_ids)
            limit = int(setting("NAVBAT_WORKER_MAX_ATTEMPTS", 5))
            if is_transient_db_error(exc) and attempt < limit:
                delay = retry_delay(attempt)
                logger.warning(
                    "job %s (%s) hit a transient database error (%s): attempt %d of %d, "
                    "again in %g s",
                    job.id,
                    job.task_path,
                    exc,
                    attempt,
                    limit,
                    delay,
                )
                connection.close_if_unusable_or_obsolete()
                if not settled(partial(requeue, job, delay=delay, reason=exc)):
                    self._dropped(job)
                return
            connection.close_if_unusable_or_obsolete()
            if not settled(partial(fail, job, exc)):
                self._dropped(job)
                return
            try:
                task_finished.send(sender=type(job.task.get_backend()), task_result=job.task_result)
            except (ImportError, SuspiciousOperation):
                logger.exception("job %s (%s) failed", job.id, job.task_path)
        finally:
            self.running_task = False
            self._run_tasks += 1


# ------------------------------------------------------------------------- heartbeats


def name_job(*, worker_id: str, job_id: UUID) -> None:
    """Inside the claiming transaction: this worker holds ``job_id`` now."""
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(
        job_id=job_id, seen_at=timezone.now()
    )
    if not updated:  # our row was swept while we could not beat (a long outage)
        register(worker_id=worker_id, job_id=job_id)


def register(*, worker_id: str, job_id: UUID | None = None) -> None:
    now = timezone.now()
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={
            "hostname": socket.gethostname()[:255],
            "pid": os.getpid(),
            "started_at": now,
            "seen_at": now,
            "job_id": job_id,
        },
    )


def beat(*, worker_id: str) -> None:
    if not WorkerHeartbeat.objects.filter(worker_id=worker_id).update(seen_at=timezone.now()):
        register(worker_id=worker_id)


def release(*, worker_id: str, job_id: UUID | None) -> None:
    """The worker thread died: whatever it held goes back to the queue now."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).update(job_id=None)
    if job_id is not None:
        reclaim(job_id=job_id, holder=worker_id, reason=f"worker {worker_id} died")


def unregister(*, worker_id: str) -> None:
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def _stale_cutoff(now=None):
    now = now or timezone.now()
    return now - timedelta(seconds=float(setting("NAVBAT_WORKER_STALE_SECONDS", 30)))


def _lock_if_unheld(job: DBTaskResult) -> bool:
    """On PostgreSQL, inside the reclaiming transaction: False while a live session (its
    worker's) holds the job; otherwise we hold it until the job is back in the queue."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [job_lock_key(job.id)])
        return bool(cursor.fetchone()[0])


def reclaim(*, job_id: UUID, holder: str | None, reason: str, stale_before=None) -> bool:
    """Put one RUNNING job back in the queue (or fail it past the attempt limit).

    ``holder``: the worker known to be dead (its thread died); None for a sweep, which
    looks again with the row locked: the job must have started before ``stale_before``
    (default: the stale limit ago) and no heartbeat seen since may name it."""
    limit = int(setting("NAVBAT_WORKER_MAX_ATTEMPTS", 5))
    with transaction.atomic():
        job = (
            DBTaskResult.objects.select_for_update(skip_locked=True)
            .filter(pk=job_id, status=TaskResultStatus.RUNNING)
            .first()
        )
        if job is None or (holder is not None and job.worker_ids[-1:] != [holder]):
            return False
        if holder is None:
            cutoff = stale_before or _stale_cutoff()
            named = WorkerHeartbeat.objects.filter(job_id=job.id, seen_at__gte=cutoff)
            if job.started_at is None or job.started_at >= cutoff or named.exists():
                return False
        if not _lock_if_unheld(job):
            logger.warning(
                "job %s (%s) is still held by a live database session of worker %s, though "
                "its heartbeat is late: left to it",
                job.id,
                job.task_path,
                (job.worker_ids or ["?"])[-1],
            )
            return False
        attempt = len(job.worker_ids)
        lost = WorkerLost(f"{reason} while running this job (attempt {attempt} of {limit})")
        if attempt >= limit:
            fail(job, lost)
            logger.error("job %s (%s) failed: %s", job.id, job.task_path, lost)
        else:
            requeue(job, delay=0, reason=lost)
            logger.warning("job %s (%s) queued again: %s", job.id, job.task_path, lost)
    return True


# At most this many orphans per sweep (each is one short transaction); the rest next time.
SWEEP_SIZE = 100


def reclaim_orphans(*, now=None, keep: set | frozenset = frozenset()) -> int:
    """RUNNING jobs that no fresh heartbeat names (their worker died, or was killed) go back
    to the queue, those that have waited longest first. ``keep``: jobs this process is
    running (its own beat may be late)."""
    now = now or timezone.now()
    cutoff = _stale_cutoff(now)
    named = WorkerHeartbeat.objects.filter(job_id=OuterRef("pk"), seen_at__gte=cutoff)
    orphans = (
        DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
        .exclude(pk__in=keep)
        .exclude(Exists(named))
        .order_by("started_at")
        .values_list("id", "worker_ids")[:SWEEP_SIZE]
    )
    count = 0
    for job_id, worker_ids in orphans:
        holder = worker_ids[-1] if worker_ids else "?"
        reason = f"worker {holder} stopped beating"
        if reclaim(job_id=job_id, holder=None, reason=reason, stale_before=cutoff):
            count += 1
    # Rows of workers gone for a day tell nothing any more.
    WorkerHeartbeat.objects.filter(seen_at__lt=now - timedelta(days=1)).delete()
    return count


# ------------------------------------------------------------------------- supervision


def new_worker_id(prefix: str | None = None) -> str:
    """Unique across machines and restarts: a container restarted keeps its host name and
    often its pid, and must not inherit its dead self's heartbeat."""
    prefix = prefix or f"{socket.gethostname()[:40]}-{os.getpid()}"
    return f"{prefix}-{token_hex(3)}"


class Supervisor:
    """A worker thread that is started again whenever it dies, and its heartbeat."""

    def __init__(
        self,
        *,
        make_worker: Callable[[], JobWorker],
        worker_id: str,
        name: str = "navbat-worker",
        heartbeat_seconds: float | None = None,
        backoff: tuple[float, float] = (1.0, 30.0),
    ):
        self.make_worker = make_worker
        self.worker_id = worker_id
        self.name = name
        self.heartbeat_seconds = float(
            heartbeat_seconds or setting("NAVBAT_WORKER_HEARTBEAT_SECONDS", 5)
        )
        self.backoff = backoff
        self.worker: JobWorker | None = None
        self.restarts = 0
        self._overrun_logged: UUID | None = None
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._supervise, name=f"{self.name}-supervisor", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float | None = None) -> bool:
        """Ask the worker to finish its job and stop; True when it did within ``timeout``."""
        self._stopping.set()
        if self.worker is not None:
            self.worker.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        return True

    def _run_worker(self) -> None:
        try:
            self.worker = self.make_worker()
            self.worker.worker_id = self.worker_id
            if self._stopping.is_set():
                return
            self.worker.run()
        except BaseException:
            logger.exception("background worker %s crashed", self.worker_id)
        finally:
            connection.close()

    def _supervise(self) -> None:
        with worker_sessions():
            self._supervise_sessions()

    def _supervise_sessions(self) -> None:
        self._housekeeping(register_first=True)
        crashes = 0
        last_sweep = 0.0
        while not self._stopping.is_set():
            self.worker = None
            thread = threading.Thread(target=self._run_worker, name=self.name, daemon=True)
            started = time.monotonic()
            thread.start()
            while True:
                thread.join(self.heartbeat_seconds)
                if not thread.is_alive():
                    break
                sweep = time.monotonic() - last_sweep > self.heartbeat_seconds * 3
                self._housekeeping(sweep=sweep)
                self._watch_the_clock(thread)
                last_sweep = time.monotonic() if sweep else last_sweep
            if self._stopping.is_set():
                break
            crashes = 1 if time.monotonic() - started > 60 else crashes + 1
            pause = min(self.backoff[1], self.backoff[0] * 2 ** (crashes - 1))
            held = self.worker.current_job_id if self.worker else None
            self.restarts += 1
            logger.error(
                "background worker %s died; starting it again in %g s (restart %d)",
                self.worker_id,
                pause,
                self.restarts,
            )
            self._quietly(lambda held=held: release(worker_id=self.worker_id, job_id=held))
            self._stopping.wait(pause)
        self._quietly(lambda: unregister(worker_id=self.worker_id))
        connection.close()

    def _housekeeping(self, *, register_first: bool = False, sweep: bool = False) -> None:
        if register_first:
            self._quietly(lambda: register(worker_id=self.worker_id))
        else:
            self._quietly(lambda: beat(worker_id=self.worker_id))
        if sweep or register_first:
            worker = self.worker
            keep = {worker.current_job_id} if worker and worker.current_job_id else set()
            self._quietly(lambda: reclaim_orphans(keep=keep))

    def _watch_the_clock(self, thread: threading.Thread) -> None:
        """A job past its time limit is logged once, with where it is stuck. It goes on:
        a thread cannot be stopped from outside, and other workers leave it alone while
        this process lives (/healthz shows ``job_overrunning``; restart the worker)."""
        current = self.worker.current if self.worker else None
        limit = float(setting("NAVBAT_WORKER_JOB_TIMEOUT_SECONDS", 600))
        if current is None or current[0] == self._overrun_logged:
            return
        job_id, task_path, since = current
        ran = time.monotonic() - since
        if ran <= limit:
            return
        self._overrun_logged = job_id
        frame = sys._current_frames().get(thread.ident)
        where = "".join(traceback.format_stack(frame)) if frame else "(unknown)\n"
        logger.error(
            "job %s (%s) on worker %s has run for %.0f s, past its time limit of %g s "
            "(NAVBAT_WORKER_JOB_TIMEOUT_SECONDS); it is here:\n%s",
            job_id,
            task_path,
            self.worker_id,
            ran,
            limit,
            where.rstrip(),
        )

    def _quietly(self, work: Callable[[], object]) -> None:
        """Bookkeeping never kills the supervisor: a failure is logged and tried next time."""
        try:
            close_old_connections()
            work()
        except Exception:
            logger.warning("worker %s: bookkeeping failed", self.worker_id, exc_info=True)
            with suppress(Exception):  # the connection is already broken
                connection.close()


def run_worker_process(*, make_worker: Callable[[], JobWorker], worker_id: str) -> int:
    """``navbat worker``: the first SIGTERM or SIGINT finishes the current job, then the
    process exits 0; a second one exits at once."""
    supervisor = Supervisor(make_worker=make_worker, worker_id=worker_id)
    asked = threading.Event()

    def on_signal(signum, frame):
        if asked.is_set():
            logger.warning("%s again: stopping now", signal.Signals(signum).name)
            raise SystemExit(1)
        logger.info("%s: finishing the current job, then stopping", signal.Signals(signum).name)
        asked.set()

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, on_signal)
    supervisor.start()
    while not asked.wait(1.0):
        pass
    supervisor.stop()
    logger.info("worker %s stopped", worker_id)
    return 0
