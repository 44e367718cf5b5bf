"""Fixed-window counters kept in the database, so that every web process (and every machine)
counts against the same limit.

One statement counts any number of keys at once: an UPSERT that starts the key's row, adds
one in the current window, or restarts the count in a new window, and returns the counts
(PostgreSQL, and SQLite from 3.35). It runs outside any transaction of the caller's making
where possible: the row lock of a hot key then lasts one statement, not a request.

The counter model needs a unique ``key`` (text), ``window_start`` (integer Unix seconds) and
``count`` (integer); the app that owns the table passes its model in.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import connections, router
from django.utils import timezone


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int


@dataclass(frozen=True)
class Verdict:
    counts: dict[str, int]
    over: tuple[str, ...]  # the keys past their limit, in the order given
    retry_after: int  # seconds until the window ends

    @property
    def allowed(self) -> bool:
        return not self.over


def window_of(now: datetime, seconds: int) -> tuple[int, int]:
    """(the window's start, seconds until it ends), both whole seconds."""
    epoch = int(now.timestamp())
    start = epoch - epoch % seconds
    return start, start + seconds - epoch


def hit(model, limits: list[Limit], *, window: int, now: datetime | None = None) -> Verdict:
    """Count one request against each of ``limits`` in the current ``window`` (seconds)."""
    now = now or timezone.now()
    start, retry_after = window_of(now, window)
    if not limits:
        return Verdict(counts={}, over=(), retry_after=retry_after)
    # Rows are locked in key order: two statements counting the same keys cannot deadlock.
    keys = sorted({limit.key for limit in limits})
    table = model._meta.db_table
    alias = router.db_for_write(model)
    connection = connections[alias]
    quote = connection.ops.quote_name
    t, k, w, c = quote(table), quote("key"), quote("window_start"), quote("count")
    values = ", ".join(["(%s, %s, 1)"] * len(keys))
    sql = (
        f"INSERT INTO {t} ({k}, {w}, {c}) VALUES {values} "  # noqa: S608 - quoted names
        f"ON CONFLICT ({k}) DO UPDATE SET "
        f"{c} = CASE WHEN {t}.{w} = excluded.{w} THEN {t}.{c} + 1 ELSE 1 END, "
        f"{w} = excluded.{w} "
        f"RETURNING {k}, {c}"
    )
    params: list = []
    for key in keys:
        params += [key, start]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        counts = {row[0]: int(row[1]) for row in cursor.fetchall()}
    over = tuple(limit.key for limit in limits if counts.get(limit.key, 0) > limit.limit)
    return Verdict(counts=counts, over=over, retry_after=retry_after)


def purge(model, *, older_than: int, now: datetime | None = None) -> int:
    """Delete counters whose window started more than ``older_than`` seconds ago."""
    now = now or timezone.now()
    deleted, _ = model.objects.filter(window_start__lt=int(now.timestamp()) - older_than).delete()
    return deleted
