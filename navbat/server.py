"""The web server: waitress, chosen by measurement (README, "Server"; bench/servers.py).

waitress reads every request, headers and body, in its I/O thread and hands it to a
worker thread only when it is complete: a client trickling its body at 1 byte/s holds a
socket, never a thread, a database connection or a lock. What it lacks is a deadline for a
request that keeps trickling (its own timeout is for silence); `DeadlineServer` adds one.

One process serves `navbat run` (SQLite, the worker thread and the sandbox share it).
`navbat serve --workers N` binds the socket once and forks N such processes on it,
restarting any that dies; SIGINT/SIGTERM stop them all.
"""

import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass

log = logging.getLogger("navbat.server")

# Bytes the kernel holds for connections not yet accepted (bursts of bank callbacks each
# open a new connection); Linux clamps it to net.core.somaxconn (4096 by default).
BACKLOG = 2048


@dataclass(frozen=True)
class Limits:
    threads: int = 8
    max_body: int = 1_048_576
    header_timeout: float = 10.0  # first byte → end of headers
    request_timeout: float = 30.0  # first byte → end of body
    idle_timeout: int = 60  # a kept-alive connection with nothing to say
    connection_limit: int = 1000


def limits_from_settings(threads: int | None = None) -> Limits:
    from django.conf import settings

    return Limits(
        threads=threads or settings.NAVBAT_WEB_THREADS,
        max_body=settings.NAVBAT_MAX_REQUEST_BYTES,
        header_timeout=settings.NAVBAT_HEADER_TIMEOUT,
        request_timeout=settings.NAVBAT_BODY_TIMEOUT,
    )


def _deadline_classes(limits: Limits):
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer

    class DeadlineChannel(HTTPChannel):
        """Remembers when the request being received began."""

        request_began: float | None = None
        timed_request = None

        def received(self, data):
            result = super().received(data)
            # The request still incomplete after this data, if any; a new one starts its clock.
            if self.request is not self.timed_request:
                self.timed_request = self.request
                self.request_began = None if self.request is None else time.monotonic()
            return result

        def overdue(self, now: float) -> str | None:
            if self.request_began is None or self.will_close:
                return None
            elapsed = now - self.request_began
            if not self.request.headers_finished and elapsed > limits.header_timeout:
                return "headers"
            if elapsed > limits.request_timeout:
                return "body"
            return None

    class DeadlineServer(TcpWSGIServer):
        channel_class = DeadlineChannel

        def maintenance(self, now):
            super().maintenance(now)
            clock = time.monotonic()
            for channel in list(self.active_channels.values()):
                part = channel.overdue(clock)
                if part:
                    log.warning(
                        "request %s not received in time from %s: connection closed",
                        part,
                        channel.addr[0] if channel.addr else "?",
                    )
                    channel.will_close = True

    return DeadlineServer


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    sock.setblocking(False)
    return sock


def make_server(app, sock: socket.socket, limits: Limits):
    """A waitress server on an already bound socket, with request deadlines."""
    from waitress.adjustments import Adjustments
    from waitress.task import ThreadedTaskDispatcher

    adj = Adjustments(
        sockets=[sock],
        threads=limits.threads,
        backlog=BACKLOG,
        connection_limit=limits.connection_limit,
        channel_timeout=limits.idle_timeout,
        # Deadlines are checked at each cleanup, so once a second.
        cleanup_interval=1,
        max_request_body_size=limits.max_body,
        # poll, not select: select cannot watch descriptors past 1024.
        asyncore_use_poll=True,
        # navbat reads X-Forwarded-For itself, for a configured number of proxies.
        trusted_proxy=None,
        clear_untrusted_proxy_headers=False,
        ident="navbat",
    )
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(limits.threads)
    server_class = _deadline_classes(limits)
    sockinfo = (sock.family, sock.type, sock.proto, sock.getsockname())
    return server_class(
        app,
        map={},
        _sock=sock,
        dispatcher=dispatcher,
        adj=adj,
        bind_socket=False,
        sockinfo=sockinfo,
    )


def serve_forever(server) -> None:
    """Runs until KeyboardInterrupt (raised by the signal handlers): waitress catches it,
    lets the running requests finish (at most 5 s) and returns."""
    try:
        server.run()
    finally:
        server.close()


# ----------------------------------------------------------------- several processes


def _die_with_parent() -> None:
    """A worker process is killed when its parent dies, whatever the cause (Linux)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def run_workers(*, workers: int, host: str, port: int, child_main) -> int:
    """Forks ``workers`` processes serving one listening socket, restarts any that exits
    unexpectedly, and on SIGINT/SIGTERM stops them all. ``child_main(sock)`` serves."""
    sock = listening_socket(host, port)
    parent = os.getpid()
    children: dict[int, int] = {}  # pid → slot

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.signal(signal.SIGINT, _interrupt)
                signal.signal(signal.SIGTERM, _interrupt)
                _die_with_parent()
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(0)
                code = child_main(sock) or 0
            except KeyboardInterrupt:
                code = 0
            except BaseException:  # noqa: BLE001 - a child must never return into the parent
                logging.getLogger("navbat.server").exception("web worker failed")
            finally:
                os._exit(code)
        children[pid] = slot

    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    print(f"navbat serves http://{host}:{port}/ with {workers} processes", flush=True)
    try:
        for slot in range(workers):
            spawn(slot)
        while True:
            try:
                pid, status = os.waitpid(-1, 0)
            except ChildProcessError:
                break
            slot = children.pop(pid, None)
            if slot is None:
                continue
            log.error("web worker %s exited (status %s); starting another", pid, status)
            time.sleep(1)
            spawn(slot)
    except KeyboardInterrupt:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while children and time.monotonic() < deadline:
        pid, _status = os.waitpid(-1, os.WNOHANG)
        if pid:
            children.pop(pid, None)
        else:
            time.sleep(0.05)
    for pid in children:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    sock.close()
    return 0
