"""The web server over real sockets: bursts of new connections, slow clients, body limits,
static files, and `navbat serve` with several processes. One `navbat run` (embedded mode,
SQLite) serves the module; load and speed are measured in bench/servers.py, not here."""

import asyncio
import concurrent.futures
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.test import RequestFactory

from navbat.uzum.models import Callback
from tests.test_cli import (
    clean_env,
    free_port,
    navbat_command,
    start_navbat_run,
    stop,
    wait_healthy,
)

BODY_TIMEOUT = 3  # seconds, short so that the slow client's test stays short
HEADER_TIMEOUT = 2
MAX_BODY = 64 * 1024


# ------------------------------------------------------------------ one `navbat run`


class Served:
    def __init__(self, process, base, log_path, db_path, connection_id):
        self.process, self.base, self.log_path = process, base, log_path
        self.db_path, self.connection_id = db_path, connection_id
        self.port = int(base.rsplit(":", 1)[1])

    @property
    def callback_path(self) -> str:
        return f"/uzum/checkout/{self.connection_id}/callback"

    def stored_of(self, order_ids: list[str]) -> int:
        marks = ",".join("?" * len(order_ids))
        with sqlite3.connect(self.db_path) as db:
            query = f"SELECT count(*) FROM uzum_callback WHERE bank_order_id IN ({marks})"  # noqa: S608
            return db.execute(query, order_ids).fetchone()[0]

    def stored_order(self, order_id: str) -> bool:
        with sqlite3.connect(self.db_path) as db:
            row = db.execute(
                "SELECT count(*) FROM uzum_callback WHERE bank_order_id = ?", (order_id,)
            ).fetchone()
        return row[0] == 1


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("served")
    db_path = tmp_path / "db.sqlite3"
    process, base, log_path = start_navbat_run(
        tmp_path,
        NAVBAT_BODY_TIMEOUT=str(BODY_TIMEOUT),
        NAVBAT_HEADER_TIMEOUT=str(HEADER_TIMEOUT),
        NAVBAT_MAX_REQUEST_BYTES=str(MAX_BODY),
        # These tests load the server, not the callback limits (tests/uzum/test_callbacks_flood.py).
        NAVBAT_CALLBACK_LIMIT_PER_ADDRESS="100000",
        NAVBAT_CALLBACK_LIMIT_PER_CONNECTION="100000",
    )
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            assert wait_healthy(process, http, log_path).status_code == 200
        found = re.search(r"connection ([0-9a-f-]{36})", log_path.read_text())
        assert found, log_path.read_text()
        yield Served(process, base, log_path, db_path, found.group(1))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log_path.read_text()
    finally:
        stop(process)
    assert "Traceback" not in log_path.read_text()


def callback_body(order_id: str | None = None) -> bytes:
    order_id = order_id or str(uuid.uuid4())
    return json.dumps({"orderId": order_id, "orderNumber": "", "status": "COMPLETED"}).encode()


def raw_post(path: str, body: bytes, *, keep_alive: bool = False, length: int | None = None):
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n"
        f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
    )
    return head.encode() + body


async def exchange(reader, writer, request: bytes) -> int:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?i)content-length: *(\d+)", head)
    await reader.readexactly(int(length.group(1)) if length else 0)
    return status


async def burst(port: int, requests: list[bytes], *, keep_alive_rounds: int = 0) -> dict:
    """Every request at once, each on its own new connection (``keep_alive_rounds`` > 0:
    each connection sends its request that many times, kept alive)."""
    outcome: dict = {"statuses": {}, "errors": {}}

    async def one(request: bytes):
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(max(1, keep_alive_rounds)):
                status = await asyncio.wait_for(exchange(reader, writer, request), 60)
                outcome["statuses"][status] = outcome["statuses"].get(status, 0) + 1
            writer.close()
        except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
            kind = type(error).__name__
            outcome["errors"][kind] = outcome["errors"].get(kind, 0) + 1

    await asyncio.gather(*(one(request) for request in requests))
    return outcome


# ------------------------------------------------------------------ bursts of connections


def run_in_own_loop(coroutine):
    """asyncio.run in a thread of its own: the browser tests' Playwright keeps an event loop
    running in this thread for the rest of the session."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.mark.slow
def test_200_callbacks_at_once_on_new_connections_all_answered(served):
    # Counted by the burst's own orders: the demo's prepaid online booking has its own
    # callback from the sandbox bank, which may arrive at any moment.
    orders = [str(uuid.uuid4()) for _ in range(200)]
    requests = [raw_post(served.callback_path, callback_body(order)) for order in orders]
    outcome = run_in_own_loop(burst(served.port, requests))
    assert outcome == {"statuses": {200: 200}, "errors": {}}
    assert served.stored_of(orders) == 200


@pytest.mark.slow
def test_200_kept_alive_connections_at_once_all_answered(served):
    request = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    outcome = run_in_own_loop(burst(served.port, [request] * 200, keep_alive_rounds=3))
    assert outcome == {"statuses": {200: 600}, "errors": {}}


# ------------------------------------------------------------------ slow clients


def trickle(port: int, request_head: bytes, payload: bytes, result: dict) -> None:
    """Sends ``request_head``, then ``payload`` at 1 byte/s; records how it ended."""
    began = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(1.0)
        sock.sendall(request_head)
        for byte in payload:
            try:
                sock.sendall(bytes([byte]))
                answer = sock.recv(1024)
            except TimeoutError:
                continue
            except OSError:
                answer = b""
            result["ended"] = "answer" if answer else "closed"
            result["answer"] = answer
            break
        else:
            result["ended"] = "sent all"
    result["seconds"] = time.monotonic() - began


@pytest.mark.slow
def test_a_body_trickled_at_1_byte_a_second_holds_nothing(served):
    slow_order = str(uuid.uuid4())
    payload = callback_body(slow_order)
    head = raw_post(served.callback_path, b"", length=len(payload))
    result: dict = {}
    slow = threading.Thread(target=trickle, args=(served.port, head, payload, result))
    slow.start()
    try:
        time.sleep(1.2)  # the slow client is well into its body
        # Meanwhile a person logs in and the bank's callback is stored, without waiting.
        with httpx.Client(base_url=served.base, timeout=5, follow_redirects=False) as http:
            began = time.monotonic()
            http.get("/accounts/login/")
            login = http.post(
                "/accounts/login/",
                data={
                    "email": "demo@navbat.uz",
                    "password": "navbat-demo",
                    "csrfmiddlewaretoken": http.cookies["csrftoken"],
                },
            )
            assert login.status_code == 302
            assert login.headers["location"] == "/journal/"
            order = str(uuid.uuid4())
            stored = http.post(
                served.callback_path,
                content=callback_body(order),
                headers={"Content-Type": "application/json"},
            )
            assert stored.status_code == 200
            assert time.monotonic() - began < 3
            assert served.stored_order(order)
    finally:
        slow.join(timeout=BODY_TIMEOUT + 5)
    # The slow request was cut at the deadline, long before its last byte, and left no row.
    assert result["ended"] == "closed", result
    assert BODY_TIMEOUT - 1 <= result["seconds"] < BODY_TIMEOUT + 3, result
    assert not served.stored_order(slow_order)
    assert "request body not received in time" in served.log_path.read_text()


@pytest.mark.slow
def test_headers_trickled_are_cut_at_the_header_deadline(served):
    result: dict = {}
    payload = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60
    trickle(served.port, b"", payload, result)
    assert result["ended"] == "closed", result
    assert HEADER_TIMEOUT - 1 <= result["seconds"] < HEADER_TIMEOUT + 3, result
    assert "request headers not received in time" in served.log_path.read_text()


# ------------------------------------------------------------------ body size limit


@pytest.mark.slow
def test_an_oversized_body_is_refused_with_413_and_nothing_stored(served):
    order = str(uuid.uuid4())
    body = json.dumps({"orderId": order, "padding": "x" * MAX_BODY}).encode()
    with httpx.Client(base_url=served.base, timeout=10) as http:
        answer = http.post(
            served.callback_path, content=body, headers={"Content-Type": "application/json"}
        )
    assert answer.status_code == 413
    assert served.stored_of([order]) == 0


@pytest.mark.django_db
def test_the_middleware_refuses_an_oversized_body_before_the_view(
    client, connect_uzum, salon_a, settings
):
    settings.NAVBAT_MAX_REQUEST_BYTES = 1000
    connection_row = connect_uzum(salon_a)
    path = f"/uzum/checkout/{connection_row.public_id}/callback"
    body = json.dumps({"orderId": str(uuid.uuid4()), "padding": "x" * 1000})
    answer = client.post(path, data=body, content_type="application/json")
    assert answer.status_code == 413
    assert Callback.objects.count() == 0
    # The same URL stores a body within the limit.
    small = client.post(path, data=callback_body(), content_type="application/json")
    assert small.status_code == 200
    assert Callback.objects.count() == 1


class RecordingInput:
    """A request body that notes how deep in transactions the database is at each read."""

    def __init__(self, body: bytes):
        self.body, self.depths = body, []

    def read(self, size=-1):
        self.depths.append(len(connection.atomic_blocks))
        size = len(self.body) if size is None or size < 0 else size
        part, self.body = self.body[:size], self.body[size:]
        return part

    def readline(self, size=-1):
        return self.read(size)


@pytest.mark.django_db
def test_the_body_is_read_before_the_view_opens_its_transaction(connect_uzum, salon_a):
    connection_row = connect_uzum(salon_a)
    body = callback_body()
    stream = RecordingInput(body)
    environ = RequestFactory()._base_environ(
        PATH_INFO=f"/uzum/checkout/{connection_row.public_id}/callback",
        REQUEST_METHOD="POST",
        CONTENT_TYPE="application/json",
        CONTENT_LENGTH=str(len(body)),
        **{"wsgi.input": stream},
    )
    outside = len(connection.atomic_blocks)  # the test's own transaction, if any
    statuses = []
    WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
    assert statuses == ["200 OK"]
    assert Callback.objects.count() == 1
    assert stream.depths and set(stream.depths) == {outside}


# ------------------------------------------------------------------ static files


@pytest.mark.slow
def test_static_files_have_hashed_names_and_long_caching(served):
    with httpx.Client(base_url=served.base, timeout=5) as http:
        page = http.get("/accounts/login/").text
        css = re.search(r"/static/navbat/app\.[0-9a-f]{12}\.css", page)
        assert css, page
        answer = http.get(css.group(0), headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == 200
        assert answer.headers["cache-control"] == "max-age=315360000, public, immutable"
        assert answer.headers["content-encoding"] == "gzip"
        assert "text/css" in answer.headers["content-type"]
        assert http.get("/static/navbat/missing.css").status_code == 404


# ------------------------------------------------------------------ `navbat serve`


def children_of(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.slow
def test_navbat_serve_runs_several_processes_and_sigterm_stops_them_all(served, tmp_path):
    port = free_port()
    env = clean_env(
        NAVBAT_VAR_DIR=str(served.db_path.parent / "var"),
        NAVBAT_DATABASE_URL=f"sqlite:///{served.db_path}",
        NAVBAT_WEB_WORKERS="2",
        NAVBAT_PORT=str(port),
        PYTHONUNBUFFERED="1",
    )
    log_path = tmp_path / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [*navbat_command(), "serve", "--threads", "2"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            assert wait_healthy(process, http, log_path).status_code == 200
            workers = children_of(process.pid)
            assert len(workers) == 2, log_path.read_text()
            # The web tier alone: pages answer, and no background worker was started.
            assert http.get("/accounts/login/").status_code == 200
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0, log_path.read_text()
    finally:
        stop(process)
    assert not any(os.path.exists(f"/proc/{pid}") for pid in workers)
    output = log_path.read_text()
    assert f"navbat serves http://127.0.0.1:{port}/ with 2 processes" in output
    assert "Starting worker" not in output
    assert "Traceback" not in output


@pytest.mark.parametrize(("setting", "kept"), [(None, 60), ("0", 0), ("300", 300)])
def test_database_connections_are_kept_between_requests(tmp_path, setting, kept):
    """The finding: every request opened a PostgreSQL connection (about 10 ms). Connections
    now live NAVBAT_DB_CONN_MAX_AGE seconds (60 by default), checked before each reuse."""
    from tests.test_cli import import_settings

    env = {"NAVBAT_DATABASE_URL": "postgres://navbat@127.0.0.1:5432/navbat"}
    if setting is not None:
        env["NAVBAT_DB_CONN_MAX_AGE"] = setting
    code = (
        "import json, navbat.settings as s; d = s.DATABASES['default']; "
        "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']]))"
    )
    out = import_settings(tmp_path, code, NAVBAT_VAR_DIR=str(tmp_path / "var"), **env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [kept, True]
