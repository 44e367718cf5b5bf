"""bench/acceptance.py's server (a fresh `navbat run`), its verdicts and its RESULTS.md section."""

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import httpx

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
FRESH_BEAT = 15  # seconds: three heartbeats at the default 5 s
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def navbat(*args: str) -> list[str]:
    return [
        sys.executable,
        "-c",
        "import sys; from navbat.cli import main; sys.exit(main())",
        *args,
    ]


def environment(var_dir: Path, port: int, database: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NAVBAT_")}
    env.update(
        PYTHONPATH=str(ROOT),
        NAVBAT_MODE="embedded",
        NAVBAT_VAR_DIR=str(var_dir),
        NAVBAT_PUBLIC_URL=f"http://{HOST}:{port}",
        PYTHONUNBUFFERED="1",
    )
    if database:
        env["NAVBAT_DATABASE_URL"] = database
    return env


def database_is_empty(url: str) -> bool:
    import psycopg

    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()[0]
    return tables == 0


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


class Server:
    def __init__(self, env: dict, port: int, log_path: Path):
        self.port = port
        self.root = f"http://{HOST}:{port}"
        self.log_path = log_path
        self.log = log_path.open("wb")
        self.process = subprocess.Popen(
            navbat("run", "--host", HOST, "--port", str(port)),
            env=env,
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"navbat run exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.root}/healthz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise SystemExit("navbat run did not answer /healthz in time")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


# ------------------------------------------------------------------------- report


def machine() -> str:
    memory = "?"
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    return f"{os.cpu_count()} cores (nproc), {memory} memory, Python {sys.version.split()[0]}"


def commit() -> str:
    def git(*args):
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()

    dirty = (
        " + uncommitted changes"
        if git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/RESULTS.md")
        else ""
    )
    return (git("rev-parse", "--short", "HEAD") or "?") + dirty


def verdicts(result: dict) -> list[tuple[str, bool, str]]:
    confirm, callbacks, slow = result["confirm"], result["callbacks"], result["slow"]

    def net(b):
        return (
            f"resets {b['resets']}, refused {b['refused']}, timeouts {b['timeouts']}, "
            f"other {b['other_errors']}, 5xx {b['5xx']}"
        )

    def burst_ok(b):
        return b["resets"] == b["refused"] == b["timeouts"] == b["other_errors"] == b["5xx"] == 0

    rows = [
        (
            f"{confirm['n']} concurrent /confirm, new connections",
            burst_ok(confirm),
            f"{net(confirm)}; HTTP {confirm['statuses']}; answers {confirm['answers']}; "
            f"{confirm['seconds']} s; {result['app_paid']} of {result['app_created']} "
            f"transactions paid once",
        ),
        (
            f"{callbacks['n']} concurrent callbacks, new connections",
            burst_ok(callbacks),
            f"{net(callbacks)}; HTTP {callbacks['statuses']} (429 = the callback limit at "
            f"the edge: {callbacks['429']}); {callbacks['seconds']} s",
        ),
        (
            "App transactions confirmed exactly once",
            result["app_paid"] == result["app_created"],
            f"{result['app_paid']} paid by the app of {result['app_created']} created",
        ),
        (
            f"Card payment during {slow['connections']} slow clients ({slow['seconds']} s)",
            slow["final_state"] == "paid" and slow["paid_after"] is not None,
            f"{slow['bank']['step']} {slow['bank'].get('status')}; recorded "
            f"{slow['paid_after']} s after the bank took it (through the callback job, "
            f"the longest wait of a due job {slow['max_queue_delay']} s); state "
            f"{slow['final_state']}",
        ),
        (
            "Slow clients held and cut",
            slow["slow_bytes"] > 0 and slow["slow_refused"] == 0,
            f"{slow['slow_connections_opened']} connections, {slow['slow_bytes']} bytes at "
            f"1 byte/s; the server ended {sum(slow['slow_ended_by'].values())} after "
            f"{slow['slow_lifetime']} s (min, max) by {slow['slow_ended_by']}; "
            f"refused {slow['slow_refused']}",
        ),
        (
            "Logins every 5 s",
            slow["logins_total"] > 0 and slow["logins_ok"] == slow["logins_total"],
            f"{slow['logins_ok']} of {slow['logins_total']} → 302 ({slow['logins']})",
        ),
        (
            "/healthz ok, worker heartbeat fresh",
            slow["health_total"] > 0
            and slow["health_ok"] == slow["health_total"]
            and slow["beat_missing"] == 0
            and slow["max_beat_age"] is not None
            and slow["max_beat_age"] <= FRESH_BEAT,
            f"{slow['health_ok']} of {slow['health_total']} ok; oldest heartbeat "
            f"{slow['max_beat_age']} s",
        ),
        (
            'Server log: no "Traceback", no "database is locked"',
            result["tracebacks"] == 0 and result["locked"] == 0,
            f"Traceback ×{result['tracebacks']}, database is locked ×{result['locked']}",
        ),
    ]
    return rows


def report(result: dict, record: bool) -> bool:
    rows = verdicts(result)
    print()
    print(f"acceptance on {result['database']} — commit {result['commit']}; {result['machine']}")
    for what, ok, notes in rows:
        print(f"  {'PASS' if ok else 'FAIL'}  {what}: {notes}")
    if record:
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        lines = [
            "",
            f"## {stamp} — acceptance (bench/acceptance.py), {result['database']}",
            "",
            f"Commit {result['commit']}; {result['machine']}; server `navbat run` (waitress, "
            "web + worker + sandbox in one process) on loopback.",
            "",
            "| Check | Result | Numbers |",
            "|---|---|---|",
            *(
                f"| {what} | {'met' if ok else '**not met**'} | {notes} |"
                for what, ok, notes in rows
            ),
            "",
        ]
        with RESULTS.open("a") as results:
            results.write("\n".join(lines))
    return all(ok for _, ok, _ in rows)
