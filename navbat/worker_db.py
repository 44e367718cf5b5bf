"""The worker's side of the database: which errors a later attempt can get past, outcomes
written only while the job is still the worker's own, and (PostgreSQL) the limits on a
worker's sessions and the lock a session holds on its running job. See navbat.worker."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from uuid import UUID

from django.conf import settings
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.backends.signals import connection_created
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("navbat.worker")

try:  # the driver's own classes, for errors raised past Django's wrappers
    import psycopg

    _DRIVER_ERRORS: tuple[type[BaseException], ...] = (
        sqlite3.OperationalError,
        psycopg.OperationalError,
        psycopg.InterfaceError,
    )
except ImportError:  # pragma: no cover - psycopg is a dependency
    _DRIVER_ERRORS = (sqlite3.OperationalError,)

# Serialization failure, deadlock, lock not available, too many connections, and the
# server going away (admin/crash shutdown, cannot connect now); class 08 is connections.
_TRANSIENT_SQLSTATES = {"40001", "40P01", "55P03", "53300", "57P01", "57P02", "57P03"}
_TRANSIENT_WORDS = (
    "database is locked",
    "database table is locked",
    "server closed the connection",
    "connection already closed",
    "terminating connection",
    "could not connect",
    "connection refused",
    "connection is lost",
    "connection is closed",
    "consuming input failed",
    "could not serialize access",
    "deadlock detected",
)


def setting(name: str, default):
    return getattr(settings, name, default)


def is_transient_db_error(exc: BaseException | None) -> bool:
    """True for database errors that a later attempt of the same work can get past."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, (InterfaceError, OperationalError, *_DRIVER_ERRORS)):
            sqlstate = getattr(exc, "sqlstate", None)
            if sqlstate and (sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")):
                return True
            if isinstance(exc, InterfaceError) or type(exc).__name__ == "InterfaceError":
                return True  # the connection is gone: a new one will do
            message = str(exc).lower()
            if any(words in message for words in _TRANSIENT_WORDS):
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def retry_delay(attempt: int) -> float:
    """Seconds before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
    delays = list(setting("NAVBAT_WORKER_RETRY_DELAYS", [1, 5, 15, 60])) or [0]
    return float(delays[min(attempt, len(delays)) - 1])


def with_retries(write: Callable[[], None], *, tries: int = 5) -> None:
    """A small write that must land: try again on transient errors, on a sound connection."""
    for attempt in range(1, tries + 1):
        try:
            write()
            return
        except Exception as exc:
            if attempt == tries or not is_transient_db_error(exc):
                raise
            connection.close_if_unusable_or_obsolete()
            time.sleep(0.2 * attempt)


def _settle(job: DBTaskResult, **fields) -> bool:
    """Write a job's outcome only if the job is still the one we claimed: RUNNING, and its
    claims (``worker_ids``, one entry appended per claim) unchanged since. Otherwise it was
    queued again behind our back and belongs to whoever claimed it next: nothing is written.
    (django_tasks_db's set_successful/set_failed save unconditionally.)"""
    mine = DBTaskResult.objects.filter(
        pk=job.pk, status=TaskResultStatus.RUNNING, worker_ids=job.worker_ids
    )
    if not mine.update(**fields):
        return False
    for name, value in fields.items():
        setattr(job, name, value)
    return True


def _error_fields(exc: BaseException) -> dict:
    return {
        "exception_class_path": f"{type(exc).__module__}.{type(exc).__qualname__}",
        "traceback": "".join(traceback.format_exception(exc)),
    }


def succeed(job: DBTaskResult, value) -> bool:
    return _settle(
        job,
        status=TaskResultStatus.SUCCESSFUL,
        finished_at=timezone.now(),
        return_value=value,
        exception_class_path="",
        traceback="",
    )


def fail(job: DBTaskResult, exc: BaseException) -> bool:
    return _settle(
        job,
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        return_value=None,
        **_error_fields(exc),
    )


def requeue(job: DBTaskResult, *, delay: float, reason: BaseException) -> bool:
    """Put a job back in the queue, due ``delay`` seconds from now; the reason is kept on it
    (and replaced when it succeeds)."""
    return _settle(
        job,
        status=TaskResultStatus.READY,
        run_after=timezone.now() + timedelta(seconds=delay),
        started_at=None,
        finished_at=None,
        **_error_fields(reason),
    )


def settled(write: Callable[[], bool]) -> bool:
    """``write`` (an outcome) done, retried on transient errors; whether it landed."""
    landed = []
    with_retries(lambda: landed.append(write()))
    return bool(landed and landed[-1])


# ------------------------------------------------------------- PostgreSQL sessions

_worker_thread = threading.local()


def job_lock_key(job_id: UUID | str) -> int:
    """The advisory lock naming a job: 64 bits of its UUID (a collision between two running
    jobs only delays a reclaim)."""
    return int.from_bytes(UUID(str(job_id)).bytes[:8], "big", signed=True)


def _limit_session(conn) -> None:
    """A worker's query cannot hang for ever, nor wait for ever on a lock: statements past
    the limit are cancelled (the job fails), lock waits give up (a transient error: the job
    is tried again later)."""
    limits = [
        f"{int(float(setting(name, default)) * 1000)}ms"
        for name, default in (
            ("NAVBAT_WORKER_STATEMENT_TIMEOUT_SECONDS", 60),
            ("NAVBAT_WORKER_LOCK_TIMEOUT_SECONDS", 10),
        )
    ]
    with conn.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, false),"
            " set_config('lock_timeout', %s, false)",
            limits,
        )


def _on_connection_created(sender, connection, **kwargs) -> None:
    if getattr(_worker_thread, "active", False) and connection.vendor == "postgresql":
        _limit_session(connection)


connection_created.connect(_on_connection_created, dispatch_uid="navbat.worker.limits")


@contextmanager
def worker_sessions() -> Iterator[None]:
    """This thread works for a worker: its PostgreSQL sessions, open or opened later, carry
    the worker's timeouts (web requests keep theirs: see README, "Health")."""
    _worker_thread.active = True
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.vendor == "postgresql":
            _limit_session(conn)
    try:
        yield
    finally:
        _worker_thread.active = False
        for conn in connections.all(initialized_only=True):
            if conn.connection is None or conn.vendor != "postgresql":
                continue
            try:
                with conn.cursor() as cursor:
                    cursor.execute("RESET statement_timeout; RESET lock_timeout")
            except DatabaseError:
                conn.close()


def hold_job(job: DBTaskResult) -> object | None:
    """On PostgreSQL: lock the job in this session for as long as it runs, so no other
    worker takes it back while this session lives; the session it was taken on, or None."""
    if connection.vendor != "postgresql":
        return None
    key = job_lock_key(job.id)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
            taken = cursor.fetchone()[0]
        if not taken:
            # A reclaimer that just queued the job again may hold it an instant longer.
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '5s'")
                cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    except DatabaseError as exc:
        logger.warning("job %s (%s): cannot lock it, run unlocked: %s", job.id, job.task_path, exc)
        connection.close_if_unusable_or_obsolete()
        return None
    return connection.connection


def let_go(job: DBTaskResult, session: object | None) -> None:
    if session is None or connection.connection is not session:
        return  # that session is gone, and its locks with it
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [job_lock_key(job.id)])
    except DatabaseError:
        connection.close()  # a closed session holds nothing


def sound_connections() -> None:
    """Between jobs: drop a connection that failed (the next query opens a new one) or was
    left in a transaction; keep a sound one, whatever CONN_MAX_AGE says (a worker is one
    long request, and a new PostgreSQL connection per job costs more than most jobs)."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is None:
            continue
        if conn.in_atomic_block or not conn.get_autocommit():
            conn.close()
        elif conn.errors_occurred:
            if conn.is_usable():
                conn.errors_occurred = False
            else:
                conn.close()
