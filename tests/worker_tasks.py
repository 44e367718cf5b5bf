"""Jobs for the worker tests (importable by worker processes started from the tests)."""

import time

from django.db import OperationalError, connection
from django_tasks import task

# In-process tests count calls here; worker processes write to the database instead.
CALLS: dict[str, int] = {}


@task()
def flaky(key: str, failures: int, error: str = "database is locked") -> str:
    """Fails with a database error the first ``failures`` times it runs."""
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] <= failures:
        raise OperationalError(error)
    return f"{key} done after {CALLS[key]}"


@task()
def broken(key: str) -> None:
    CALLS[key] = CALLS.get(key, 0) + 1
    raise ValueError("a bug, not the database")


@task()
def dies_once(key: str) -> str:
    """The first run takes its thread down (an error that is not an Exception)."""
    CALLS[key] = CALLS.get(key, 0) + 1
    if CALLS[key] == 1:
        raise SystemExit("the thread goes")
    return f"{key} done"


@task()
def record(key: str, seconds: float = 0.0) -> None:
    """Counts ``key`` done: each key's count must end at 1. A slow one (``seconds``) first
    counts that it started. The tables are made by tests/test_scale_processes.py."""
    if seconds:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO scale_started (key) VALUES (%s)"
                " ON CONFLICT (key) DO UPDATE SET runs = scale_started.runs + 1",
                [key],
            )
        time.sleep(seconds)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO scale_done (key) VALUES (%s)"
            " ON CONFLICT (key) DO UPDATE SET runs = scale_done.runs + 1",
            [key],
        )
