"""Several processes on one PostgreSQL database, as on several machines: 2 web processes
and 3 `navbat worker` processes.

- 5,000 jobs are each done exactly once, spread over the workers;
- a worker killed with SIGKILL in the middle of a job loses nothing: another worker picks
  the job up once the dead one's heartbeat is stale, and it is done once;
- a card payment started through one web process, whose bank callback lands on the other,
  is settled by the workers;
- SIGTERM stops a worker cleanly (exit 0, its heartbeat gone).
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest
from django.db import connection
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult, get_date_max

from navbat.kit.models import WorkerHeartbeat
from tests import worker_tasks

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="processes share PostgreSQL"),
    pytest.mark.postgres,
    pytest.mark.slow,
    pytest.mark.django_db(transaction=True),
]

ROOT = Path(__file__).resolve().parent.parent
# NAVBAT_SCALE_JOBS: fewer while developing.
JOBS = int(os.environ.get("NAVBAT_SCALE_JOBS", "5000"))
RECORD = worker_tasks.record.module_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(settings, tmp_path, public_url: str) -> dict:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    # Commits need not wait for the disk here (a killed client loses nothing committed
    # either way): the test is about who does what, on a machine shared with others.
    url += "?options=-c%20synchronous_commit%3Doff"
    return {
        **os.environ,
        "NAVBAT_DATABASE_URL": url,
        "NAVBAT_SECRET_KEY": settings.SECRET_KEY,
        "NAVBAT_ENCRYPTION_KEYS": ",".join(settings.NAVBAT_ENCRYPTION_KEYS),
        "NAVBAT_PUBLIC_URL": public_url,
        "NAVBAT_VAR_DIR": str(tmp_path / "var"),
        "NAVBAT_LOG_LEVEL": "WARNING",
        "NAVBAT_WORKER_HEARTBEAT_SECONDS": "0.5",
        "NAVBAT_WORKER_STALE_SECONDS": "3",
        "PYTHONPATH": str(ROOT),
    }


def _start_web(port: int, env: dict, log: Path) -> subprocess.Popen:
    """One web process, as production runs it."""
    command = [sys.executable, "-m", "navbat.cli", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", "1", "--threads", "8"]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own command line
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "navbat.cli", "worker", "--interval", "0.1"]
    with log.open("wb") as out:
        return subprocess.Popen(  # noqa: S603 - our own command line
            command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )


def wait_for(what: str, condition, seconds: float, logs=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    tails = "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in logs)
    jobs = sql("SELECT status, count(*) FROM django_tasks_database_dbtaskresult GROUP BY 1")
    beats = list(WorkerHeartbeat.objects.values_list("worker_id", "pid", "seen_at", "job_id"))
    raise AssertionError(f"{what}: not within {seconds} s\njobs {jobs}\nbeats {beats}\n{tails}")


def answers(base: str) -> bool:
    try:
        httpx.get(f"{base}/healthz", timeout=2)
    except httpx.TransportError:
        return False
    return True


def sql(query: str, params=()):
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def tables():
    sql("CREATE TABLE scale_started (key text PRIMARY KEY, runs int NOT NULL DEFAULT 1)")
    sql("CREATE TABLE scale_done (key text PRIMARY KEY, runs int NOT NULL DEFAULT 1)")
    yield
    sql("DROP TABLE IF EXISTS scale_started, scale_done")


def enqueue_many(count: int) -> None:
    DBTaskResult.objects.bulk_create(
        [
            DBTaskResult(
                id=uuid.uuid4(),
                args_kwargs={"args": [f"job-{number}"], "kwargs": {}},
                task_path=RECORD,
                backend_name="default",
                run_after=get_date_max(),
            )
            for number in range(count)
        ],
        batch_size=1000,
    )


def test_two_web_processes_and_three_workers_share_one_database(
    settings, tmp_path, tables, sandbox_terminal
):
    web1, web2 = free_port(), free_port()
    base1, base2 = f"http://127.0.0.1:{web1}", f"http://127.0.0.1:{web2}"
    # Behind one proxy both web processes share one public root; here the bank is told
    # web 2's address and the client uses web 1.
    settings.NAVBAT_PUBLIC_URL = base2
    env = environment(settings, tmp_path, base2)
    logs = [tmp_path / name for name in ("web1.log", "web2.log", "w0.log", "w1.log", "w2.log")]
    # As a release does once before `navbat serve`: the pages name hashed static files.
    subprocess.run(  # noqa: S603 - our own command line
        [sys.executable, "-m", "navbat.cli", "collectstatic", "--noinput", "-v0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    processes = [_start_web(web1, env, logs[0]), _start_web(web2, env, logs[1])]
    workers = [_start_worker(env, log) for log in logs[2:]]
    processes += workers
    try:
        wait_for("web processes answer", lambda: answers(base1) and answers(base2), 60, logs)
        wait_for("3 workers beat", lambda: WorkerHeartbeat.objects.count() == 3, 60, logs)
        by_pid = {worker.pid: worker for worker in workers}
        assert set(WorkerHeartbeat.objects.values_list("pid", flat=True)) == set(by_pid)

        # ---------------------------------------------- 5,000 jobs, one worker killed
        victim = worker_tasks.record.using(priority=10).enqueue("victim", seconds=3)
        enqueue_many(JOBS)
        started = time.monotonic()
        wait_for(
            "the victim job runs",
            lambda: (
                WorkerHeartbeat.objects.filter(job_id=victim.id).exists()
                and sql("SELECT 1 FROM scale_started WHERE key = 'victim'")
            ),
            30,
            logs,
        )
        holder = WorkerHeartbeat.objects.get(job_id=victim.id)
        killed = by_pid[holder.pid]
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)

        def all_done():
            return sql("SELECT count(*) FROM scale_done")[0][0] == JOBS + 1

        wait_for("every job done", all_done, 150, logs)
        elapsed = time.monotonic() - started

        jobs = DBTaskResult.objects.filter(task_path=RECORD)
        assert jobs.count() == JOBS + 1
        assert jobs.filter(status=TaskResultStatus.SUCCESSFUL).count() == JOBS + 1
        assert sql("SELECT count(*), max(runs) FROM scale_done") == [(JOBS + 1, 1)]
        # Started twice (the first run died with its worker), done once.
        assert sql("SELECT key, runs FROM scale_started") == [("victim", 2)]
        victim_job = DBTaskResult.objects.get(pk=victim.id)
        assert victim_job.worker_ids[0] == holder.worker_id
        assert len(victim_job.worker_ids) == 2
        assert victim_job.worker_ids[1] != holder.worker_id
        survivors = {
            row.worker_ids[-1] for row in jobs.only("worker_ids") if row.pk != victim_job.pk
        }
        assert len(survivors - {holder.worker_id}) == 2, survivors
        print(f"{JOBS} jobs in {elapsed:.1f} s with a worker killed", file=sys.stderr)

        # ---------------------------------------------- the card path across web processes
        settle_a_card_payment_across_web_processes(base1, base2, sandbox_terminal, tmp_path, logs)

        # ---------------------------------------------- SIGTERM: clean stops
        alive = [worker for worker in workers if worker is not killed]
        for worker in alive:
            worker.send_signal(signal.SIGTERM)
        for worker in alive:
            assert worker.wait(timeout=20) == 0
        remaining = set(WorkerHeartbeat.objects.values_list("worker_id", flat=True))
        assert remaining == {holder.worker_id}  # only the killed one, never cleaned by itself
        assert not DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).exists()
        for log in logs[2:]:
            assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def settle_a_card_payment_across_web_processes(base1, base2, sandbox_terminal, tmp_path, logs):
    from navbat.payments import services as payments
    from navbat.payments.models import PaymentOrder, State
    from navbat.uzum import services as uzum
    from navbat.uzum.models import Callback
    from tests.conftest import build_salon

    salon = build_salon("A")
    terminal = sandbox_terminal(merchant_name=salon.business.name)
    bank = uzum.connect(
        business=salon.business,
        environment="sandbox",
        terminal_id=str(terminal.terminal_id),
        api_key=terminal.api_key,
        author=salon.owner,
        verify=False,
    )
    bank.checkout_base_url = f"{base2}/sandbox/uzum/checkout"
    bank.save(update_fields=["checkout_base_url"])
    for kind in ("payment", "event", "receipt"):
        url = f"{base2}/uzum/checkout/{bank.public_id}/{'callback' if kind == 'payment' else kind}"
        setattr(terminal, f"{kind}_callback_url", url)
    terminal.save()
    link = payments.link_for(
        business=salon.business, kind="appointment", payable_id=salon.appointments[0].pk
    )

    with httpx.Client(base_url=base1, timeout=20, cookies={"django_language": "en"}) as client:
        page = client.get(f"/pay/{link.token}")
        assert page.status_code == 200
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        pressed = client.post(f"/pay/{link.token}/card", data={"csrfmiddlewaretoken": token})
    assert pressed.status_code == 302, pressed.text[:500]
    hosted = pressed.headers["location"]
    assert hosted.startswith(f"{base2}/sandbox/uzum/pay/")
    # The client pays on the bank's hosted page (a card without 3-D Secure).
    paid = httpx.post(
        hosted,
        data={"card_number": "8600 0000 0000 0018", "expiry": "12/30", "cvv": "123"},
        timeout=20,
    )
    assert paid.status_code == 302, paid.text[:500]
    assert "/done/" in paid.headers["location"]

    order = PaymentOrder.objects.get(link=link)
    wait_for(
        "the payment settles",
        lambda: PaymentOrder.objects.get(pk=order.pk).state == State.PAID,
        30,
        logs,
    )
    order.refresh_from_db()
    assert order.paid_amount == order.amount
    assert Callback.objects.filter(connection=bank).exists()
    # The press went to web 1 (above); the bank's callback was answered by web 2.
    from navbat.uzum_sandbox.models import Callback as SentCallback

    sent = SentCallback.objects.filter(terminal=terminal, kind="payment")
    assert sent.exists()
    assert all(callback.url.startswith(f"{base2}/") for callback in sent)
    assert sent.filter(delivered=True, attempt_log__status_code=200).exists()
    receipt = httpx.get(
        f"{base2}/pay/{link.token}/return/{order.reference}",
        cookies={"django_language": "en"},
        timeout=20,
    )
    assert receipt.status_code == 200
    assert "Payment completed successfully" in receipt.text
