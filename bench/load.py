"""A small load generator for loopback benchmarks: threads over raw HTTP/1.1 connections
(kept alive, or a new one per request as bank callbacks arrive), bounded in count and time.

Two shapes:
- ``closed_loop``: N clients each send the next request as soon as the last is answered
  (throughput: requests per second at saturation);
- ``fixed_rate``: requests scheduled at a fixed rate whatever the server does; latency is
  counted from the scheduled moment, so a stalled server cannot hide its queue.
"""

import http.client
import socket
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_REQUESTS = 200_000
TIMEOUT = 10.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class Result:
    sent: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # ms, answered requests only
    statuses: Counter = field(default_factory=Counter)
    failures: Counter = field(default_factory=Counter)  # exceptions by name
    bad: int = 0  # answered with an unexpected status
    cpu_ms: float = float("nan")  # CPU per answered request, when the caller measures it

    @property
    def errors(self) -> int:
        return self.bad + sum(self.failures.values())

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]

    @property
    def median(self) -> float:
        return statistics.median(self.latencies) if self.latencies else float("nan")

    def describe_errors(self) -> str:
        if not self.errors:
            return "0"
        parts = [f"{name} ×{n}" for name, n in self.failures.most_common()]
        parts += [f"HTTP {code} ×{n}" for code, n in sorted(self.statuses.items()) if code >= 400]
        return f"{self.errors} ({', '.join(parts)})"


class _Client:
    """One connection, reopened after an error or when asked for a new one per request."""

    def __init__(self, host: str, port: int, *, new_connection: bool):
        self.host, self.port, self.new_connection = host, port, new_connection
        self.conn: http.client.HTTPConnection | None = None

    def send(self, request: Request) -> int:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        headers = {"Host": f"{self.host}:{self.port}", **request.headers}
        if self.new_connection:
            headers["Connection"] = "close"
        try:
            self.conn.request(request.method, request.path, body=request.body, headers=headers)
            response = self.conn.getresponse()
            response.read()
            status = response.status
            if self.new_connection or response.will_close:
                self.close()
            return status
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _record(result: Result, lock, ok: set[int], started: float, outcome) -> None:
    with lock:
        if isinstance(outcome, BaseException):
            result.failures[type(outcome).__name__] += 1
            return
        result.statuses[outcome] += 1
        if outcome in ok:
            result.latencies.append((time.perf_counter() - started) * 1000)
        else:
            result.bad += 1


def closed_loop(
    host: str,
    port: int,
    make: Callable[[int], Request],
    *,
    clients: int,
    duration: float,
    ok: set[int] = frozenset({200}),
    max_requests: int = MAX_REQUESTS,
    new_connection: bool = False,
) -> Result:
    result, lock = Result(), threading.Lock()
    counter = iter(range(max_requests))
    deadline = time.perf_counter() + duration

    def run():
        client = _Client(host, port, new_connection=new_connection)
        while time.perf_counter() < deadline:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            request = make(index)
            started = time.perf_counter()
            try:
                outcome = client.send(request)
            except (OSError, http.client.HTTPException) as error:
                outcome = error
            _record(result, lock, ok, started, outcome)
        client.close()

    start = time.perf_counter()
    _run_threads(run, clients)
    result.elapsed = time.perf_counter() - start
    result.sent = sum(result.statuses.values()) + sum(result.failures.values())
    return result


def fixed_rate(
    host: str,
    port: int,
    make: Callable[[int], Request],
    *,
    rate: float,
    duration: float,
    clients: int = 64,
    ok: set[int] = frozenset({200}),
    new_connection: bool = False,
) -> Result:
    """``rate`` requests per second for ``duration`` seconds, sent by up to ``clients``
    connections at once; a request's latency starts at its scheduled time."""
    result, lock = Result(), threading.Lock()
    total = min(int(rate * duration), MAX_REQUESTS)
    counter = iter(range(total))
    start = time.perf_counter() + 0.05

    def run():
        client = _Client(host, port, new_connection=new_connection)
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                break
            scheduled = start + index / rate
            pause = scheduled - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            request = make(index)
            try:
                outcome = client.send(request)
            except (OSError, http.client.HTTPException) as error:
                outcome = error
            _record(result, lock, ok, scheduled, outcome)
        client.close()

    _run_threads(run, clients)
    result.elapsed = time.perf_counter() - start
    result.sent = sum(result.statuses.values()) + sum(result.failures.values())
    return result


def _run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target, daemon=True) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT * 3 + 600)


def wait_listening(host: str, port: int, *, timeout: float = 60.0, alive=lambda: True) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
