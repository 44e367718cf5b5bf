"""Issue 10's two acceptance proofs against a real `navbat run`, over loopback sockets.

1. Bursts: 200 Merchant API /confirm calls and 200 Checkout callbacks, each on a new
   connection, all released at the same instant. Expected: no reset, refusal or timeout,
   and no 5xx (a 429 from a callback rate limit is counted apart).
2. A slow client during a payment: for 60 s, 20 connections trickle a callback body at
   1 byte/s (reconnecting when the server cuts them) while a card payment is made end to
   end through the Quick Payment page and the sandbox bank, the demo owner logs in every
   5 s and /healthz is read every 2 s. Expected: the payment recorded, every login a 302,
   /healthz ok with a fresh worker heartbeat throughout, and no "Traceback" or
   "database is locked" in the server's log.

    python bench/acceptance.py                      # SQLite in a temporary NAVBAT_VAR_DIR
    python bench/acceptance.py --postgres URL --recreate-db

The server is always a fresh process on a free port; the script stops it and exits by
itself (an overall timeout kills everything). A dated section with the numbers is
appended to bench/RESULTS.md unless --no-record.
"""

import argparse
import base64
import html
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
from acceptance_kit import (
    HOST,
    Server,
    commit,
    database_is_empty,
    environment,
    free_port,
    machine,
    navbat,
    recreate_database,
    report,
)

ROOT = Path(__file__).resolve().parent.parent
UZCARD = "8600000000000018"
THREE_DS = "777777"
LINK_PARAMETERS = {"serviceId", "amount", "redirectUrl"}


# ------------------------------------------------------------------------- the demo


class Demo:
    def __init__(self, server: Server, info: dict):
        self.server = server
        self.info = info
        uzum = info["uzum"]
        self.connection = uzum["connection_id"]
        self.service_id = uzum["merchant_service_id"]
        self.basic = (uzum["merchant_login"], uzum["merchant_password"])
        self.callback_path = urlsplit(uzum["callback_urls"]["payment"]).path
        self.api = httpx.Client(
            base_url=server.root,
            headers={"Authorization": f"Bearer {info['api_token']}"},
            timeout=30,
        )

    def payable_links(self, want: int) -> list[dict]:
        """Payment links of demo appointments that have something due, up to ``want``."""
        links, offset = [], 0
        while len(links) < want:
            page = self.api.get("/api/v1/appointments", params={"limit": 100, "offset": offset})
            page.raise_for_status()
            items = page.json()["items"]
            if not items:
                break
            for item in items:
                answer = self.api.post(f"/api/v1/appointments/{item['id']}/payment-link")
                if answer.status_code in (200, 201) and answer.json()["amount_due"] > 0:
                    links.append({"appointment": item["id"], **answer.json()})
                    if len(links) == want:
                        break
            offset += 100
        return links

    def app_code(self, token: str) -> tuple[str, str]:
        """(attribute, code) from the Quick Payment page's "Pay in the Uzum Bank app" link."""
        page = httpx.get(f"{self.server.root}/pay/{token}", timeout=30)
        match = re.search(r'id="pay-app" href="([^"]+)"', page.text)
        if not match:
            raise SystemExit(f"no app link on /pay/{token[:8]}… ({page.status_code})")
        query = parse_qs(urlsplit(html.unescape(match.group(1))).query)
        attribute = next(name for name in query if name not in LINK_PARAMETERS)
        return attribute, query[attribute][0]

    def merchant(self, endpoint: str, body: dict) -> httpx.Response:
        return httpx.post(
            f"{self.server.root}/uzum/merchant/{self.connection}/{endpoint}",
            json=body,
            auth=self.basic,
            timeout=30,
        )


def now_ms() -> int:
    return int(time.time() * 1000)


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if not match:
        raise RuntimeError("no CSRF token on the page")
    return match.group(1)


# ------------------------------------------------------------------------- bursts


def fire(port: int, requests: list[tuple[str, bytes, dict]], timeout: float) -> dict:
    """Send every request on its own new connection, all released by one barrier."""
    barrier = threading.Barrier(len(requests))
    outcomes: list = [None] * len(requests)

    def one(index: int, path: str, body: bytes, headers: dict) -> None:
        conn = HTTPConnection(HOST, port, timeout=timeout)
        try:
            barrier.wait(timeout=60)
            conn.request("POST", path, body=body, headers={"Connection": "close", **headers})
            response = conn.getresponse()
            payload = response.read()
            outcomes[index] = (response.status, payload)
        except (ConnectionResetError, BrokenPipeError) as error:  # RemoteDisconnected too
            outcomes[index] = ("reset", repr(error))
        except ConnectionRefusedError as error:
            outcomes[index] = ("refused", repr(error))
        except TimeoutError as error:
            outcomes[index] = ("timeout", repr(error))
        except OSError as error:
            outcomes[index] = ("error", repr(error))
        finally:
            conn.close()

    threads = [
        threading.Thread(target=one, args=(i, *request), daemon=True)
        for i, request in enumerate(requests)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return summarize(outcomes, time.monotonic() - started)


def summarize(outcomes: list, seconds: float) -> dict:
    statuses = Counter(o[0] for o in outcomes if isinstance(o[0], int))
    failures = Counter(o[0] for o in outcomes if not isinstance(o[0], int))
    answers = Counter()
    for _, payload in (o for o in outcomes if isinstance(o[0], int)):
        try:
            body = json.loads(payload)
        except ValueError:
            answers["not JSON"] += 1
            continue
        answers[body.get("errorCode") or body.get("status") or body.get("error") or "ok"] += 1
    return {
        "n": len(outcomes),
        "seconds": round(seconds, 2),
        "statuses": dict(sorted(statuses.items())),
        "answers": dict(answers.most_common()),
        "resets": failures["reset"],
        "refused": failures["refused"],
        "timeouts": failures["timeout"],
        "other_errors": failures["error"],
        "5xx": sum(n for status, n in statuses.items() if status >= 500),
        "429": statuses.get(429, 0),
        "samples": [o[1] for o in outcomes if not isinstance(o[0], int)][:3],
    }


def confirm_burst(demo: Demo, links: list[dict], n: int) -> tuple[dict, int]:
    """Create one app transaction per link, then confirm them all at once, many times
    over, mixed with confirms of transactions nobody created."""
    created = []
    for link in links:
        attribute, code = demo.app_code(link["token"])
        check = demo.merchant(
            "check",
            {"serviceId": demo.service_id, "timestamp": now_ms(), "params": {attribute: code}},
        )
        if check.status_code != 200:
            print(f"  /check {code}: {check.status_code} {check.text[:120]}")
            continue
        trans_id = str(uuid.uuid4())
        create = demo.merchant(
            "create",
            {
                "serviceId": demo.service_id,
                "timestamp": now_ms(),
                "transId": trans_id,
                "params": {attribute: code},
                "amount": link["amount_due"],
            },
        )
        if create.status_code == 200 and create.json().get("status") == "CREATED":
            created.append(trans_id)
        else:
            print(f"  /create {code}: {create.status_code} {create.text[:120]}")
    if not created:
        raise SystemExit("no app transaction could be created for the confirm burst")
    login, password = demo.basic
    auth = "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()
    path = f"/uzum/merchant/{demo.connection}/confirm"
    requests = []
    for i in range(n):
        # Two in three repeat a real transaction (each confirmed ~n/len(created) times at
        # once); one in three names a transaction that does not exist.
        trans_id = created[(i - i // 3) % len(created)] if i % 3 else str(uuid.uuid4())
        body = {
            "serviceId": demo.service_id,
            "timestamp": now_ms(),
            "transId": trans_id,
            "paymentSource": "UZCARD",
            "phone": "998901234567",
            "processingReferenceNumber": f"{i:012d}",
        }
        headers = {"Content-Type": "application/json", "Authorization": auth}
        requests.append((path, json.dumps(body).encode(), headers))
    return fire(demo.server.port, requests, timeout=60), len(created)


def callback_burst(demo: Demo, n: int) -> dict:
    """Callbacks shaped like the sandbox's, for orders navbat never made (each stored once
    and its job finds nothing); one in five repeats an earlier body."""
    bodies = []
    for i in range(n):
        if i % 5 == 4:
            bodies.append(bodies[i - 1])
            continue
        body = {
            "orderId": str(uuid.uuid4()),
            "orderNumber": f"bench-{uuid.uuid4().hex[:16]}",
            "operationType": "COMPLETE",
            "operationState": "SUCCESS",
            "cardType": 2,
            "merchantOperationId": None,
            "rrn": f"{i:012d}",
        }
        bodies.append(json.dumps(body).encode())
    headers = {"Content-Type": "application/json"}
    return fire(demo.server.port, [(demo.callback_path, b, headers) for b in bodies], timeout=60)


def paid_count(demo: Demo, method: str | None = None) -> int:
    rows, offset = [], 0
    while True:
        page = demo.api.get(
            "/api/v1/payments", params={"state": "paid", "limit": 100, "offset": offset}
        )
        page.raise_for_status()
        items = page.json()["items"]
        rows += items
        if len(items) < 100:
            break
        offset += 100
    return sum(1 for row in rows if method is None or row["method"] == method)


# ------------------------------------------------------------------------- slow client


class Trickler(threading.Thread):
    """One slow client: a callback body at 1 byte/s; when the server answers or cuts the
    connection, it reconnects and starts again."""

    def __init__(self, port: int, path: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.path, self.stop = port, path, stop
        self.connections = 0
        self.bytes_sent = 0
        self.cuts = Counter()  # how the server ended a connection
        self.refused = 0
        self.lifetimes: list[float] = []  # seconds each connection lived until cut

    def run(self) -> None:
        body = json.dumps({"orderId": str(uuid.uuid4()), "orderNumber": "slow" * 8}).encode()
        head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        while not self.stop.is_set():
            try:
                sock = socket.create_connection((HOST, self.port), timeout=5)
            except OSError:
                self.refused += 1
                self.stop.wait(1)
                continue
            self.connections += 1
            began = time.monotonic()
            try:
                if self._trickle(sock, head, body):
                    self.lifetimes.append(time.monotonic() - began)
            finally:
                sock.close()

    def _trickle(self, sock: socket.socket, head: bytes, body: bytes) -> bool:
        """Trickle until stopped (False) or until the server ends the connection (True)."""
        try:
            sock.sendall(head)
            for byte in body:
                if self.stop.wait(1):
                    return False
                readable, _, _ = select.select([sock], [], [], 0)
                if readable:
                    answer = sock.recv(4096)
                    status = answer.split(b" ", 2)[1].decode() if answer else "closed"
                    self.cuts[status] += 1
                    return True
                sock.sendall(bytes([byte]))
                self.bytes_sent += 1
            self.cuts["body complete"] += 1
        except OSError as error:
            self.cuts[type(error).__name__] += 1
        return True


def login_once(root: str) -> int | str:
    try:
        with httpx.Client(base_url=root, timeout=30) as client:
            page = client.get("/accounts/login/")
            answer = client.post(
                "/accounts/login/",
                data={
                    "csrfmiddlewaretoken": csrf_of(page.text),
                    "email": "demo@navbat.uz",
                    "password": "navbat-demo",
                },
                headers={"Referer": f"{root}/accounts/login/"},
            )
            return answer.status_code
    except (httpx.HTTPError, RuntimeError) as error:
        return type(error).__name__


def card_payment(demo: Demo, link: dict, sandbox_token: str) -> dict:
    """The client's way: the Quick Payment page, "Pay by card", the bank pays the order."""
    root = demo.server.root
    with httpx.Client(base_url=root, timeout=30) as client:
        page = client.get(f"/pay/{link['token']}")
        press = client.post(
            f"/pay/{link['token']}/card",
            data={"csrfmiddlewaretoken": csrf_of(page.text)},
            headers={"Referer": f"{root}/pay/{link['token']}"},
        )
    if press.status_code != 302:
        return {"step": "pay by card", "status": press.status_code}
    hosted = press.headers["location"]
    order_id = re.search(r"/pay/([0-9a-f-]{36})/", hosted)
    if not order_id:
        return {"step": "bank page", "location": hosted}
    pay = httpx.post(
        f"{root}/sandbox/uzum/control/orders/{order_id.group(1)}/pay",
        json={"cardNumber": UZCARD, "code": THREE_DS},
        headers={"Authorization": f"Bearer {sandbox_token}"},
        timeout=30,
    )
    return {"step": "paid at the bank", "status": pay.status_code, "order": order_id.group(1)}


def payment_state(demo: Demo, appointment: int) -> str | None:
    page = demo.api.get("/api/v1/payments", params={"limit": 100})
    page.raise_for_status()
    states = [row["state"] for row in page.json()["items"] if row["appointment_id"] == appointment]
    if "paid" in states:
        return "paid"
    return states[0] if states else None


def slow_client(demo: Demo, link: dict, seconds: float, connections: int) -> dict:
    stop = threading.Event()
    tricklers = [Trickler(demo.server.port, demo.callback_path, stop) for _ in range(connections)]
    logins, health = [], []

    def log_in_every_5s():
        while not stop.is_set():
            logins.append(login_once(demo.server.root))
            stop.wait(5)

    def read_health_every_2s():
        while not stop.is_set():
            try:
                answer = httpx.get(f"{demo.server.root}/healthz", timeout=10)
                health.append((answer.status_code, answer.json()))
            except (httpx.HTTPError, ValueError) as error:
                health.append((type(error).__name__, {}))
            stop.wait(2)

    watchers = [
        threading.Thread(target=f, daemon=True) for f in (log_in_every_5s, read_health_every_2s)
    ]
    started = time.monotonic()
    for thread in tricklers:
        thread.start()
    time.sleep(2)  # every slow connection is open before the payment starts
    for thread in watchers:
        thread.start()
    bank = card_payment(demo, link, demo.info["sandbox_token"])
    bank_paid, paid_after = time.monotonic(), None
    while time.monotonic() - started < seconds:
        if paid_after is None and payment_state(demo, link["appointment"]) == "paid":
            paid_after = round(time.monotonic() - bank_paid, 1)
        time.sleep(1)
    stop.set()
    for thread in tricklers + watchers:
        thread.join(timeout=15)
    cuts, lifetimes = Counter(), []
    for thread in tricklers:
        cuts.update(thread.cuts)
        lifetimes += thread.lifetimes
    beats = [body.get("worker_heartbeat_age") for _, body in health]
    queue = [body.get("oldest_due_job_age") or 0 for _, body in health]
    return {
        "seconds": round(time.monotonic() - started, 1),
        "connections": connections,
        "slow_connections_opened": sum(t.connections for t in tricklers),
        "slow_refused": sum(t.refused for t in tricklers),
        "slow_bytes": sum(t.bytes_sent for t in tricklers),
        "slow_ended_by": dict(cuts.most_common()),
        "slow_lifetime": (round(min(lifetimes), 1), round(max(lifetimes), 1))
        if lifetimes
        else None,
        "bank": bank,
        "paid_after": paid_after,
        "final_state": payment_state(demo, link["appointment"]),
        "logins": dict(Counter(logins)),
        "logins_ok": sum(1 for status in logins if status == 302),
        "logins_total": len(logins),
        "health": dict(Counter(status for status, _ in health)),
        "health_ok": sum(
            1 for status, body in health if status == 200 and body.get("status") == "ok"
        ),
        "health_total": len(health),
        "max_beat_age": max((b for b in beats if b is not None), default=None),
        "beat_missing": sum(1 for b in beats if b is None),
        "max_queue_delay": max(queue, default=None),
    }


# ------------------------------------------------------------------------- main


def run(args) -> bool:
    with tempfile.TemporaryDirectory(prefix="navbat-acceptance-") as tmp:
        var_dir, port = Path(tmp), free_port()
        env = environment(var_dir, port, args.postgres)
        if args.postgres and args.recreate_db:
            recreate_database(args.postgres)
        elif args.postgres and not database_is_empty(args.postgres):
            # Its secrets were written with another installation's keys (each run makes
            # its own in the temporary NAVBAT_VAR_DIR), and its demo is already paid for.
            raise SystemExit(
                "the --postgres database is not empty: pass --recreate-db to drop and create it"
            )
        demo_run = subprocess.run(
            navbat("demo", "--json"), env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        if demo_run.returncode:
            raise SystemExit(f"navbat demo failed:\n{demo_run.stderr[-2000:]}")
        info = json.loads(demo_run.stdout)
        server = Server(env, port, var_dir / "navbat.log")
        WATCHDOG.server = server
        try:
            server.wait_ready()
            demo = Demo(server, info)
            links = demo.payable_links(args.app_links + 1)
            if len(links) < 2:
                raise SystemExit(f"only {len(links)} demo appointments can be paid")
            card_link, app_links = links[0], links[1:]
            print(
                f"navbat run on :{port} ({'PostgreSQL' if args.postgres else 'SQLite'}); "
                f"{len(app_links)} app links, 1 card link"
            )
            paid_before = paid_count(demo, "app")
            confirm, created = confirm_burst(demo, app_links, args.burst)
            print(f"  confirm burst: {confirm}")
            callbacks = callback_burst(demo, args.burst)
            print(f"  callback burst: {callbacks}")
            app_paid = paid_count(demo, "app") - paid_before
            slow = slow_client(demo, card_link, args.seconds, args.slow)
            print(f"  slow clients: {slow}")
        finally:
            server.stop()
        log = server.log_text()
        if args.keep_log:
            Path(args.keep_log).write_text(log)
        result = {
            "database": "PostgreSQL" if args.postgres else "SQLite",
            "commit": commit(),
            "machine": machine(),
            "confirm": confirm,
            "callbacks": callbacks,
            "app_created": created,
            "app_paid": app_paid,
            "slow": slow,
            "tracebacks": log.count("Traceback"),
            "locked": log.count("database is locked"),
        }
        return report(result, record=not args.no_record)


class Watchdog:
    server: Server | None = None

    def fire(self):
        print("acceptance: overall timeout reached, stopping", file=sys.stderr)
        if self.server:
            self.server.stop()
        os._exit(3)


WATCHDOG = Watchdog()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", metavar="URL", help="run against this PostgreSQL database")
    parser.add_argument(
        "--recreate-db", action="store_true", help="drop and create the --postgres database first"
    )
    parser.add_argument("--burst", type=int, default=200, help="requests per burst (200)")
    parser.add_argument("--app-links", type=int, default=10, help="app transactions confirmed (10)")
    parser.add_argument("--seconds", type=float, default=60, help="slow-client phase (60)")
    parser.add_argument("--slow", type=int, default=20, help="slow connections (20)")
    parser.add_argument("--timeout", type=float, default=900, help="overall limit (900 s)")
    parser.add_argument("--keep-log", metavar="FILE", help="copy the server's log here")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    timer = threading.Timer(args.timeout, WATCHDOG.fire)
    timer.daemon = True
    timer.start()
    ok = run(args)
    timer.cancel()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
