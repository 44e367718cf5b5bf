"""A small test merchant on a real local HTTP server (a thread on 127.0.0.1).

It plays the merchant's side of both Uzum products, and records every request:

- ``POST /callbacks/<name>``: receives the sandbox bank's callbacks. ``callback_answers``
  scripts the answers (an HTTP status, or ``"hang"`` to answer 200 only after
  ``hang_seconds``), one per request; when the script is spent it answers 200.
- ``POST /merchant/{check,create,confirm,reverse,status}``: the Merchant API of
  uzum-bank.md §2 with HTTP Basic auth, for orders in ``orders`` (attribute value → amount
  due in tiyin). ``faults[endpoint]`` scripts misbehaviour per call: ``"500"`` answers 500
  without doing anything, ``"work_then_500"`` does the work and then answers 500.

In tests/uzum_sandbox the ``merchant_server`` fixture (conftest.py) starts and stops one.
"""

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOGIN = "salon-merchant"
PASSWORD = "merchant-pa55-secret"


@dataclass
class Call:
    path: str
    body: object
    authorization: str = ""

    @property
    def endpoint(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class TestMerchant:
    __test__ = False  # not a test class

    host: str = "127.0.0.1"
    port: int = 0
    login: str = LOGIN
    password: str = PASSWORD
    orders: dict = field(default_factory=dict)
    callback_answers: list = field(default_factory=list)
    hang_seconds: float = 1.0
    faults: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    transactions: dict = field(default_factory=dict)

    def __post_init__(self):
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    # -- running
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def callback_url(self, name: str = "payment") -> str:
        return f"{self.url}/callbacks/{name}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/merchant"

    def start(self) -> "TestMerchant":
        merchant = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                status, answer = merchant.handle(
                    self.path, body, self.headers.get("Authorization", "")
                )
                if status == "hang":
                    time.sleep(merchant.hang_seconds)
                    status = 200
                payload = json.dumps(answer).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # -- what it received
    def callbacks(self, name: str | None = None) -> list:
        with self.lock:
            return [
                call.body
                for call in self.calls
                if call.path.startswith("/callbacks/")
                and (name is None or call.path == f"/callbacks/{name}")
            ]

    def merchant_calls(self) -> list[Call]:
        with self.lock:
            return [call for call in self.calls if call.path.startswith("/merchant/")]

    def endpoints(self) -> list[str]:
        return [call.endpoint for call in self.merchant_calls()]

    def last(self, endpoint: str) -> dict:
        return [call.body for call in self.merchant_calls() if call.endpoint == endpoint][-1]

    # -- answering
    def handle(self, path: str, body, authorization: str):
        with self.lock:
            self.calls.append(Call(path, body, authorization))
            if path.startswith("/callbacks/"):
                answer = self.callback_answers.pop(0) if self.callback_answers else 200
                return answer, {"ok": answer == 200}
            if path.startswith("/merchant/"):
                return self.merchant_api(path.rsplit("/", 1)[-1], body, authorization)
            return 404, {"error": "not found"}

    def _authorised(self, authorization: str) -> bool:
        expected = base64.b64encode(f"{self.login}:{self.password}".encode()).decode()
        return authorization == f"Basic {expected}"

    def merchant_api(self, endpoint: str, body, authorization: str):
        body = body if isinstance(body, dict) else {}
        echo = {"serviceId": body.get("serviceId"), "timestamp": int(time.time() * 1000)}
        if "transId" in body:
            echo["transId"] = body["transId"]

        def failed(code: str):
            return 400, {**echo, "status": "FAILED", "errorCode": code}

        if not self._authorised(authorization):
            return failed("10001")
        script = self.faults.get(endpoint) or []
        fault = script.pop(0) if script else None
        if fault == "500":
            return 500, {"error": "internal"}
        status, answer = self._work(endpoint, body, echo, failed)
        if fault == "work_then_500":
            return 500, {"error": "internal after work"}
        return status, answer

    def _work(self, endpoint: str, body: dict, echo: dict, failed):
        now = int(time.time() * 1000)
        if endpoint == "check":
            order = (body.get("params") or {}).get("order")
            if order not in self.orders:
                return failed("10007")
            return 200, {
                **echo,
                "status": "OK",
                "data": {
                    "order": {"value": order},
                    "client": {"value": "Test Client"},
                    "amount": {"value": str(self.orders[order])},
                },
            }
        trans_id = body.get("transId")
        if not trans_id:
            return failed("10005")
        try:
            uuid.UUID(str(trans_id))
        except ValueError:
            return failed("10005")
        tx = self.transactions.get(trans_id)
        if endpoint == "create":
            if tx is not None:
                return failed("10010")
            order = (body.get("params") or {}).get("order")
            if order not in self.orders:
                return failed("10007")
            if body.get("amount") != self.orders[order]:
                return failed("10011")
            tx = {"status": "CREATED", "transTime": now, "amount": body["amount"], "order": order}
            self.transactions[trans_id] = tx
            return 200, {**echo, "status": "CREATED", "transTime": now, "amount": tx["amount"]}
        if tx is None:
            return failed("10014")
        if endpoint == "confirm":
            if tx["status"] == "CONFIRMED":
                return failed("10016")
            if tx["status"] != "CREATED":
                return failed("10015")
            tx.update(status="CONFIRMED", confirmTime=now, source=body.get("paymentSource"))
            return 200, {**echo, "status": "CONFIRMED", "confirmTime": now, "amount": tx["amount"]}
        if endpoint == "reverse":
            if tx["status"] == "REVERSED":
                return failed("10018")
            tx.update(status="REVERSED", reverseTime=now)
            return 200, {**echo, "status": "REVERSED", "reverseTime": now, "amount": tx["amount"]}
        if endpoint == "status":
            return 200, {
                **echo,
                "status": tx["status"],
                "transTime": tx["transTime"],
                "confirmTime": tx.get("confirmTime"),
                "reverseTime": tx.get("reverseTime"),
                "amount": tx["amount"],
            }
        return 404, {"error": "unknown endpoint"}


def register_order(terminal, **fields):
    """A registered sandbox order (as ``payment/register`` makes it), straight through bank."""
    from navbat.uzum_sandbox import bank

    values = {
        "order_number": f"NB-{uuid.uuid4().hex[:12]}",
        "client_id": "client-1",
        "amount": 15_000_000,
        "currency": 860,
        "payment_details": "Haircut",
        "view_type": "REDIRECT",
        "success_url": "https://salon.example/pay/success",
        "failure_url": "https://salon.example/pay/failure",
        "language": "ru-RU",
        "pay_type": "ONE_STEP",
        "force3ds": False,
        "session_timeout_secs": 900,
    }
    values.update(fields)
    return bank.register(terminal=terminal, fields=values)
