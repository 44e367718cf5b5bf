"""The servers a benchmark starts and what their requests cost: every process of a server's
session (its memory, its CPU time) and the PostgreSQL backends serving its database."""

import os
import shlex
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import load

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


class Server:
    def __init__(self, template: str, app: str, port: int, env: dict):
        command = template.format(python=sys.executable, app=app, host=HOST, port=port)
        self.port = port
        self.command = command
        # Kept open for the server's life and left on disk to read after a failed start.
        self.log = tempfile.NamedTemporaryFile(  # noqa: SIM115
            prefix="navbat-bench-", suffix=".log", delete=False
        )
        self.process = subprocess.Popen(  # noqa: S603 - the operator's own command
            shlex.split(command),
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            load.wait_listening(HOST, port, alive=lambda: self.process.poll() is None)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"{command} did not start: see {self.log.name}") from None

    def pids(self) -> list[int]:
        """Every process of the server's session (waitress: one; gunicorn: arbiter, workers)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.process.pid:  # the session id
                found.append(int(stat.parent.name))
        return found

    def rss(self) -> list[int]:
        """Resident memory (bytes) of every process of the server's session."""
        sizes = []
        for pid in self.pids():
            try:
                with open(f"/proc/{pid}/status") as handle:
                    for line in handle:
                        if line.startswith("VmRSS:"):
                            sizes.append(int(line.split()[1]) * 1024)
            except OSError:
                continue
        return sizes

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids) -> dict[int, float]:
    """User + system CPU time of each process so far."""
    times = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        times[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return times


@dataclass
class Target:
    """What a request costs is counted on the server's processes and on the PostgreSQL
    backends serving its database: CPU time per request does not depend on what else runs
    on the machine nearly as much as requests per second do."""

    server: Server
    database_url: str

    def backends(self) -> list[int]:
        import psycopg

        parts = urlsplit(self.database_url)
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s",
                (parts.path.lstrip("/"),),
            ).fetchall()
        return [pid for (pid,) in rows]

    def snapshot(self) -> dict[int, float]:
        return cpu_seconds([*self.server.pids(), *self.backends()])
