"""Fixed-window counters in the database: exact under concurrency, one window at a time."""

import threading
from datetime import UTC, datetime

import pytest
from django.db import connection, connections

from navbat.kit import ratelimit
from navbat.uzum.models import RateCounter

AT = datetime(2026, 12, 1, 10, 0, 30, tzinfo=UTC)


@pytest.mark.django_db
def test_counts_each_key_and_restarts_in_the_next_window():
    limits = [ratelimit.Limit("a", 2), ratelimit.Limit("b", 3)]
    verdicts = [ratelimit.hit(RateCounter, limits, window=60, now=AT) for _ in range(4)]
    assert [v.counts for v in verdicts] == [
        {"a": 1, "b": 1},
        {"a": 2, "b": 2},
        {"a": 3, "b": 3},
        {"a": 4, "b": 4},
    ]
    assert [v.over for v in verdicts] == [(), (), ("a",), ("a", "b")]
    assert verdicts[0].retry_after == 30
    next_window = datetime(2026, 12, 1, 10, 1, 0, tzinfo=UTC)
    verdict = ratelimit.hit(RateCounter, limits, window=60, now=next_window)
    assert (verdict.counts, verdict.allowed, verdict.retry_after) == ({"a": 1, "b": 1}, True, 60)
    assert RateCounter.objects.count() == 2
    assert (
        ratelimit.purge(RateCounter, older_than=0, now=datetime(2026, 12, 1, 10, 2, tzinfo=UTC))
        == 2
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_processes_counting_at_once_never_pass_the_limit_together():
    """Eight connections (as eight web processes) count 25 requests each against one limit
    of 100: exactly 100 are allowed, and the count is exact."""
    allowed, errors = [], []
    start = threading.Barrier(8)

    def work():
        try:
            start.wait(timeout=30)
            for _ in range(25):
                verdict = ratelimit.hit(
                    RateCounter,
                    [ratelimit.Limit("shared", 100), ratelimit.Limit("per-conn", 1000)],
                    window=3600,
                    now=AT,
                )
                allowed.append(verdict.allowed)
        except Exception as exc:  # the test must show any
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert (allowed.count(True), allowed.count(False)) == (100, 100)
    assert dict(RateCounter.objects.values_list("key", "count")) == {"shared": 200, "per-conn": 200}
