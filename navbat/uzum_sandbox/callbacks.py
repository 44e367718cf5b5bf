"""Callbacks the sandbox bank owes merchants: stored, then delivered by a background job.

The bank (``bank.py``) calls :func:`enqueue` inside the transaction that changed the order:
the :class:`Callback` row and its delivery job (a django-tasks job in navbat's database)
commit together with the payment, and the worker sends the callback afterwards, never the
request that paid.

Delivery (uzum-bank.md §1): ``POST`` of the JSON body to the terminal's URL; HTTP 200 means
delivered. Anything else (another status, a connection error, a timeout) is recorded as a
:class:`CallbackAttempt` and the callback is sent again after a growing wait
(``NAVBAT_SANDBOX_CALLBACK_DELAYS``, 1, 2, 4, 8 seconds by default), at most
:data:`MAX_ATTEMPTS` times in all. A URL outside ``destinations.py`` when the callback is
due is never sent: the refusal is recorded as its one attempt and it is not tried again.

Fault switches (``Terminal.faults["callbacks"]``, documented in ``faults.py``) are taken once
per new callback, when it is stored:

``drop``       the callback is stored as dropped and never sent.
``duplicate``  after the first HTTP 200, the callback is sent again until it went out
               ``count`` times in all (each copy is one more attempt in the log).
``delay``      the first attempt waits ``seconds``.
``reorder``    the callback is held; when ``count`` callbacks of the terminal are held,
               they are sent one after the other, newest first. A callback that arrives
               while others are held (the switch spent or switched off) goes first, and the
               held ones follow it, newest first: nothing stays held for ever.

:func:`deliver_due` runs the due delivery jobs in the calling thread: what the worker
does, for tests and for anyone who wants the callbacks out now.
"""

from datetime import datetime, timedelta

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from navbat.kit import jobs

from . import destinations, faults, tasks
from .models import Callback, CallbackAttempt, Terminal

MAX_ATTEMPTS = 5
TIMEOUT = 5.0  # seconds to wait for the merchant's answer
DEFAULT_DELAYS = (1, 2, 4, 8)
USER_AGENT = "navbat-uzum-sandbox/1 (callbacks)"
WORKER_ID = "sandbox-deliver-due"


def enqueue(*, terminal: Terminal, kind: str, url: str, body: dict) -> Callback:
    """Store a callback and its delivery job; both commit with the caller's transaction."""
    spec = faults.take_callback_fault(terminal)
    mode = spec.get("mode")
    callback = Callback.objects.create(
        terminal=terminal,
        kind=kind,
        url=url,
        body=body,
        dropped=mode == "drop",
        held=mode == "reorder",
    )
    if mode == "drop":
        return callback
    if mode == "reorder":
        waiting = _held(terminal)
        if len(waiting) >= spec.get("count", 2):
            _release(waiting)
        return callback
    # Callbacks held by an earlier reorder switch go out after this one.
    waiting = [held for held in _held(terminal) if held.pk != callback.pk]
    if waiting:
        Callback.objects.filter(pk__in=[held.pk for held in waiting]).update(held=False)
    run_after = None
    if mode == "delay" and spec.get("seconds"):
        run_after = timezone.now() + timedelta(seconds=spec["seconds"])
    copies = spec.get("count", 2) if mode == "duplicate" else 1
    _schedule(callback.pk, copies=copies, run_after=run_after, then=[h.pk for h in waiting])
    return callback


def _held(terminal: Terminal) -> list[Callback]:
    """The terminal's held callbacks, newest first (locked until the caller commits)."""
    return list(
        Callback.objects.select_for_update()
        .filter(terminal=terminal, held=True, delivered=False, dropped=False)
        .order_by("-created_at", "-id")
    )


def _release(waiting: list[Callback]) -> None:
    """Send held callbacks one after the other, in the order given."""
    Callback.objects.filter(pk__in=[held.pk for held in waiting]).update(held=False)
    first, *rest = waiting
    _schedule(first.pk, then=[held.pk for held in rest])


def _schedule(
    callback_id: int,
    *,
    copies: int = 1,
    run_after: datetime | None = None,
    then: list[int] | None = None,
) -> None:
    job = tasks.deliver_callback
    if run_after is not None:
        job = job.using(run_after=run_after)
    job.enqueue(callback_id, copies=copies, then=list(then or []))


def retry_delay(attempt_number: int) -> float:
    """Seconds to wait before attempt ``attempt_number`` (2…5) after a failed one."""
    delays = getattr(settings, "NAVBAT_SANDBOX_CALLBACK_DELAYS", DEFAULT_DELAYS)
    step = max(attempt_number - 2, 0)
    if isinstance(delays, int | float):
        return float(delays) * 2**step
    delays = list(delays)
    if not delays:
        return 0.0
    return float(delays[min(step, len(delays) - 1)])


def post(url: str, body: dict) -> tuple[int | None, str]:
    """Send one callback: (HTTP status or None, what went wrong or "")."""
    try:
        response = httpx.post(
            url,
            json=body,
            timeout=TIMEOUT,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
    except httpx.TimeoutException:
        return None, f"timeout after {TIMEOUT:g} s"
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    if response.status_code == 200:
        return 200, ""
    return response.status_code, " ".join(response.text.split())[:200]  # what it said


def _record(callback_id: int, status: int | None, error: str) -> Callback | None:
    with transaction.atomic():
        callback = Callback.objects.select_for_update().filter(pk=callback_id).first()
        if callback is None:
            return None
        CallbackAttempt.objects.create(callback=callback, status_code=status, error=error[:300])
        callback.attempts += 1
        if status == 200:
            callback.delivered = True
        callback.save(update_fields=["attempts", "delivered"])
        return callback


def _refuse(callback_id: int, url: str) -> None:
    with transaction.atomic():
        callback = Callback.objects.select_for_update().filter(pk=callback_id).first()
        if callback is None:
            return
        CallbackAttempt.objects.create(callback=callback, error=destinations.refusal(url)[:300])
        callback.attempts += 1
        callback.refused = True
        callback.save(update_fields=["attempts", "refused"])


def attempt(callback_id: int, *, copies: int = 1, then: list[int] | None = None) -> None:
    """One delivery attempt (the body of the ``deliver_callback`` job)."""
    try:
        callback = Callback.objects.filter(pk=callback_id).first()
        if callback is None or callback.delivered or callback.dropped or callback.held:
            return
        if callback.refused or callback.attempts >= MAX_ATTEMPTS:
            return
        # Checked here, not only when the URL was set: the allowed origins may have changed.
        if not destinations.is_allowed(callback.url):
            _refuse(callback_id, callback.url)
            return
        status, error = post(callback.url, callback.body)
        callback = _record(callback_id, status, error)
        if callback is None:
            return
        if callback.delivered:
            for _copy in range(copies - 1):  # the "duplicate" fault
                _record(callback_id, *post(callback.url, callback.body))
        elif callback.attempts < MAX_ATTEMPTS:
            delay = retry_delay(callback.attempts + 1)
            run_after = timezone.now() + timedelta(seconds=delay) if delay > 0 else None
            _schedule(callback_id, copies=copies, run_after=run_after)
    finally:
        # Reordered callbacks: the next one goes after this one's first attempt.
        if then:
            _schedule(then[0], then=then[1:])


def state(callback: Callback) -> str:
    """What the dashboard says about a callback."""
    if callback.delivered:
        return "delivered"
    if callback.refused:
        return "refused"
    if callback.dropped:
        return "dropped"
    if callback.held:
        return "held"
    if callback.attempts >= MAX_ATTEMPTS:
        return "gave up"
    return "pending"


def deliver_due(now: datetime | None = None, *, limit: int = 1000) -> int:
    """Run the callback delivery jobs that are due at ``now`` (default: now) in this thread,
    including the retries they schedule that are due too. Returns how many jobs ran.

    A ``now`` in the future runs the jobs that would be due by then (their retries are
    scheduled from the real clock, so each call moves on at least one attempt)."""
    return jobs.run_due_here(
        tasks.deliver_callback,
        now=lambda: max(now, timezone.now()) if now is not None else timezone.now(),
        worker_id=WORKER_ID,
        limit=limit,
    )
