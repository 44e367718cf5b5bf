"""`navbat run` runs its worker under supervision: its heartbeat shows in /healthz."""

import signal
import time

import httpx

from tests.test_cli import start_navbat_run, stop, wait_healthy


def test_navbat_run_reports_its_embedded_workers_heartbeat(tmp_path):
    process, base, log_path = start_navbat_run(tmp_path)
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            wait_healthy(process, http, log_path)
            deadline = time.monotonic() + 30
            while True:
                health = http.get("/healthz").json()
                if health["worker_heartbeat_age"] is not None or time.monotonic() > deadline:
                    break
                time.sleep(0.25)
        assert health["status"] == "ok", log_path.read_text()
        assert health["database"] == "ok"
        assert 0 <= health["worker_heartbeat_age"] <= 10, health
        assert health["problems"] == []
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
    finally:
        stop(process)
    output = log_path.read_text()
    assert "navbat.worker worker embedded-" in output
    assert "Traceback" not in output
    assert "Exception in thread" not in output
