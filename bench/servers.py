"""Which WSGI server navbat runs on, decided by measurement (not a test).

Starts gunicorn (gthread), granian (WSGI) and waitress in turn against navbat itself and
against a trivial Django view, then drives each with 200 concurrent connections (a new
connection per request, as bank callbacks arrive, and kept alive), trickles request bodies
at 1 byte/s, and reads the servers' resident memory. Prints a Markdown table.

    PYTHONPATH=. python bench/servers.py                      # all servers, 5 s per scenario
    PYTHONPATH=. python bench/servers.py --seconds 2 --only waitress
    PYTHONPATH=. python bench/servers.py --navbat-server      # `navbat serve` as a 4th row

navbat runs on NAVBAT_DATABASE_URL (PostgreSQL recommended: SQLite serialises the writes);
a throwaway SQLite database when unset. The load generator is asyncio on the same machine,
so absolute numbers are modest on 2 cores: compare the rows with each other.
"""

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# ------------------------------------------------------------------ the trivial Django app
if os.environ.get("BENCH_TRIVIAL_APP") == "1":
    # Imported by the server under test as `servers:application`: the smallest Django
    # project that still runs the usual middleware, for the server's own overhead.
    import django
    from django.conf import settings
    from django.http import JsonResponse
    from django.urls import path

    def _hello(request):
        return JsonResponse({"ok": True, "length": len(request.body)})

    urlpatterns = [path("hello", _hello)]
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-" + "x" * 50,
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",
        ],
        INSTALLED_APPS=[],
        DATABASES={},
        USE_TZ=True,
    )
    django.setup()
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()


# ------------------------------------------------------------------------ the servers
WORKERS, THREADS = 2, 8


def server_command(name: str, target: str, port: int) -> list[str]:
    if name == "gunicorn":
        return [
            str(BIN / "gunicorn"),
            target,
            "--worker-class=gthread",
            f"--workers={WORKERS}",
            f"--threads={THREADS}",
            f"--bind=127.0.0.1:{port}",
            "--backlog=2048",
            "--keep-alive=5",
            "--log-level=warning",
        ]
    if name == "granian":
        return [
            str(BIN / "granian"),
            "--interface=wsgi",
            f"--workers={WORKERS}",
            f"--blocking-threads={THREADS}",
            "--host=127.0.0.1",
            f"--port={port}",
            "--backlog=2048",
            "--log-level=warning",
            target,
        ]
    if name == "waitress":
        # One process by design: the I/O thread buffers whole requests, THREADS run them.
        return [
            str(BIN / "waitress-serve"),
            f"--listen=127.0.0.1:{port}",
            f"--threads={THREADS}",
            "--backlog=2048",
            "--connection-limit=2000",
            "--channel-timeout=30",
            target,
        ]
    if name == "navbat serve":
        return [
            str(BIN / "navbat"),
            "serve",
            "--host=127.0.0.1",
            f"--port={port}",
            f"--workers={WORKERS}",
            f"--threads={THREADS}",
        ]
    raise ValueError(name)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(name: str, app: str, env: dict) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if app == "trivial":
        target, cwd = "servers:application", ROOT / "bench"
        env = {**env, "BENCH_TRIVIAL_APP": "1", "PYTHONPATH": str(ROOT / "bench")}
    else:
        target, cwd = "navbat.wsgi:application", ROOT
    # The servers' own logs (waitress warns of its queue depth under load) go aside.
    log_path = Path(env.get("NAVBAT_VAR_DIR", tempfile.gettempdir())) / "server.log"
    with open(log_path, "a") as log:
        process = subprocess.Popen(  # noqa: S603 - the servers under test
            server_command(name, target, port),
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    stop(process)
    raise RuntimeError(f"{name} did not start")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


# ------------------------------------------------------------------------ the client
def raw_request(method: str, path: str, body: bytes = b"", *, keep_alive: bool) -> bytes:
    head = [
        f"{method} {path} HTTP/1.1",
        "Host: 127.0.0.1",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    if method == "POST":
        head += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def read_response(reader) -> tuple[int, bool]:
    """(status, whether the server keeps the connection open)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding") == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.read()
        return status, False
    return status, headers.get("connection", "").lower() != "close"


def classify(error: BaseException) -> str:
    if isinstance(error, ConnectionResetError):
        return "reset"
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, asyncio.IncompleteReadError):
        return "closed"
    if isinstance(error, TimeoutError):
        return "timeout"
    return type(error).__name__


async def load(port, make_request, *, connections, seconds, keep_alive, timeout=10.0) -> dict:
    statuses: dict[int, int] = {}
    errors: dict[str, int] = {}
    latencies: list[float] = []
    stop_at = time.monotonic() + seconds

    async def client():
        reader = writer = None
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", port), timeout
                    )
                writer.write(make_request(keep_alive))
                status, open_ = await asyncio.wait_for(read_response(reader), timeout)
                latencies.append((time.perf_counter() - began) * 1000)
                statuses[status] = statuses.get(status, 0) + 1
                if not (keep_alive and open_):
                    writer.close()
                    reader = writer = None
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
                kind = classify(error)
                errors[kind] = errors.get(kind, 0) + 1
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(connections)))
    elapsed = time.monotonic() - started
    ordered = sorted(latencies) or [0.0]
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(ordered),
        "p99": ordered[min(int(len(ordered) * 0.99), len(ordered) - 1)],
        "ok": sum(n for s, n in statuses.items() if s < 500),
        "5xx": sum(n for s, n in statuses.items() if s >= 500),
        "statuses": statuses,
        "errors": errors,
    }


async def trickle(port, path, *, slow_clients, probe_path, seconds) -> dict:
    """``slow_clients`` connections send a POST body at 1 byte/s; meanwhile one client asks
    ``probe_path`` once a second. Do the quick requests still get answered, and how fast?"""
    body_length = seconds + 10  # never finished within the test
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {body_length}\r\n\r\n"
    ).encode()
    writers = []
    for _ in range(slow_clients):
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head)
        writers.append(writer)
    probes: list[float | None] = []
    stop_at = time.monotonic() + seconds
    while time.monotonic() < stop_at:
        for writer in writers:
            if not writer.is_closing():
                writer.write(b" ")
        began = time.perf_counter()
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(raw_request("GET", probe_path, keep_alive=False))
            status, _ = await asyncio.wait_for(read_response(reader), 1.0)
            writer.close()
            probes.append((time.perf_counter() - began) * 1000 if status < 500 else None)
        except (OSError, asyncio.IncompleteReadError, TimeoutError):
            probes.append(None)
        await asyncio.sleep(max(0.0, 1.0 - (time.perf_counter() - began)))
    for writer in writers:
        writer.close()
    answered = [p for p in probes if p is not None]
    return {
        "answered": f"{len(answered)}/{len(probes)}",
        "worst_ms": max(answered) if answered else None,
    }


async def slow_headers(port, *, seconds) -> str:
    """Headers at 1 byte/s: how long until the server hangs up (a header timeout)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    began = time.monotonic()
    text = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 1000
    for byte in text:
        if time.monotonic() - began > seconds:
            writer.close()
            return f"open after {seconds} s"
        try:
            writer.write(bytes([byte]))
            await writer.drain()
            data = await asyncio.wait_for(reader.read(1), 1.0)
            return f"closed after {time.monotonic() - began:.0f} s" + (" (answer)" if data else "")
        except TimeoutError:
            continue
        except OSError:
            return f"reset after {time.monotonic() - began:.0f} s"
    return "sent all"


# ------------------------------------------------------------------------ scenarios
def navbat_env(var_dir: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.setdefault("NAVBAT_DATABASE_URL", f"sqlite:///{var_dir}/bench.sqlite3")
    env.update(NAVBAT_VAR_DIR=var_dir, NAVBAT_LOG_LEVEL="ERROR", PYTHONPATH=str(ROOT))
    return env


def prepare_navbat(env: dict) -> str:
    """Migrate, load the demo; returns the demo's Uzum connection id."""
    out = subprocess.run(  # noqa: S603 - our own command
        [str(BIN / "navbat"), "demo", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)["uzum"]["connection_id"]


def callback_request(connection_id: str):
    def make(keep_alive: bool) -> bytes:
        body = json.dumps(
            {"orderId": str(uuid.uuid4()), "orderNumber": "", "status": "COMPLETED"}
        ).encode()
        return raw_request(
            "POST", f"/uzum/checkout/{connection_id}/callback", body, keep_alive=keep_alive
        )

    return make


def get_request(path: str):
    return lambda keep_alive: raw_request("GET", path, keep_alive=keep_alive)


def measure(name: str, args, env: dict, connection_id: str) -> list[dict]:
    rows = []
    cases = [
        ("trivial", "GET /hello", get_request("/hello")),
        ("navbat", "GET /healthz", get_request("/healthz")),
        ("navbat", "POST callback", callback_request(connection_id)),
    ]
    for app, label, make in cases:
        if app == "trivial" and name == "navbat serve":
            continue  # serves navbat only
        process, port = start(name, app, env)
        try:
            asyncio.run(load(port, make, connections=20, seconds=1, keep_alive=True))  # warm
            for keep_alive in (False, True):
                result = asyncio.run(
                    load(
                        port,
                        make,
                        connections=args.connections,
                        seconds=args.seconds,
                        keep_alive=keep_alive,
                    )
                )
                result.update(
                    server=name,
                    case=f"{app} {label}",
                    conn="keep-alive" if keep_alive else "new",
                    rss=tree_rss_mib(process.pid),
                )
                rows.append(result)
                print(json.dumps(result), file=sys.stderr, flush=True)
        finally:
            stop(process)
    return rows


def measure_slow(name: str, args, env: dict, connection_id: str) -> dict:
    process, port = start(name, "navbat", env)
    try:
        # Every process loads its URLs and templates first, so that probes measure the load.
        warm = get_request("/healthz")
        asyncio.run(load(port, warm, connections=8, seconds=1, keep_alive=False))
        slow = asyncio.run(
            trickle(
                port,
                f"/uzum/checkout/{connection_id}/callback",
                slow_clients=args.slow_clients,
                probe_path="/healthz",
                seconds=args.trickle_seconds,
            )
        )
        slow["headers"] = asyncio.run(slow_headers(port, seconds=args.trickle_seconds))
        slow["server"] = name
        print(json.dumps(slow), file=sys.stderr, flush=True)
        return slow
    finally:
        stop(process)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--slow-clients", type=int, default=40)
    parser.add_argument("--trickle-seconds", type=int, default=8)
    parser.add_argument(
        "--only", action="append", choices=["gunicorn", "granian", "waitress", "navbat serve"]
    )
    parser.add_argument("--navbat-server", action="store_true", help="also `navbat serve`")
    parser.add_argument("--skip-load", action="store_true")
    args = parser.parse_args()
    names = args.only or ["gunicorn", "granian", "waitress"]
    if args.navbat_server and "navbat serve" not in names:
        names.append("navbat serve")

    # The keys in var/ must outlive a run when the database does (PostgreSQL).
    url = os.environ.get("NAVBAT_DATABASE_URL", "")
    var_dir = tempfile.mkdtemp(prefix="navbat-servers-")
    if url:
        var_dir = str(
            Path(tempfile.gettempdir()) / f"navbat-servers-{uuid.uuid5(uuid.NAMESPACE_URL, url)}"
        )
    env = navbat_env(var_dir)
    connection_id = prepare_navbat(env)
    rows, slows = [], []
    for name in names:
        if not args.skip_load:
            rows += measure(name, args, env, connection_id)
        slows.append(measure_slow(name, args, env, connection_id))

    db = "PostgreSQL" if env["NAVBAT_DATABASE_URL"].startswith("postgres") else "SQLite"
    print(
        f"\n{os.cpu_count()} cores, {db}, {args.connections} connections, "
        f"{args.seconds:g} s each, {WORKERS} workers × {THREADS} threads "
        "(waitress: 1 process × 8 threads)\n"
    )
    print("| server | case | connection | req/s | p50 ms | p99 ms | 5xx | errors | RSS MiB |")
    print("|---|---|---|---:|---:|---:|---:|---|---:|")
    for row in rows:
        errors = ", ".join(f"{k} {v}" for k, v in row["errors"].items()) or "0"
        print(
            f"| {row['server']} | {row['case']} | {row['conn']} | {row['rps']:.0f} | "
            f"{row['p50']:.0f} | {row['p99']:.0f} | {row['5xx']} | {errors} | {row['rss']:.0f} |"
        )
    print(
        f"\n{args.slow_clients} bodies trickled at 1 byte/s for {args.trickle_seconds} s, "
        "a /healthz probe each second; then headers at 1 byte/s\n"
    )
    print("| server | probes answered | worst probe ms | slow headers |")
    print("|---|---|---:|---|")
    for slow in slows:
        worst = "-" if slow["worst_ms"] is None else f"{slow['worst_ms']:.0f}"
        print(f"| {slow['server']} | {slow['answered']} | {worst} | {slow['headers']} |")


if __name__ == "__main__":
    main()
