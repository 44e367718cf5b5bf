"""The Checkout API client: one instance per connection (base URL, terminal id, API key).

Every call is a POST of JSON to ``<base_url>/api/v1/<endpoint>`` with the terminal's
headers; the answer's envelope ``{errorCode, message, result}`` is unwrapped here, so
callers get typed results or a named exception (see ``errors``).

Retries happen only where repeating is safe:

* status reads (getOrderStatus, getOperationState, getReceipts) retry on
  :class:`BankUnavailable` / :class:`BankTimeout` (``read_retries`` times);
* money-moving calls (complete, reverse, refund) take the caller's operation id — stored by
  the caller *before* the call — send it as ``X-Operation-Id`` and retry with the very same
  id and body (``money_retries`` times), which the bank answers with the first result;
* register never retries: a second attempt with the same orderNumber would be 3027.

Secrets stay out of logs, exception text and ``repr``: the API key travels only in the
request header, and the bank's messages are scrubbed of it and of anything shaped like a
card number. Log lines carry the endpoint, the ids, the errorCode and the duration.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from .errors import (
    BankTimeout,
    BankUnavailable,
    CheckoutError,
    Forbidden,
    MalformedAnswer,
    OrderNotFound,
    UzumError,
    error_for,
)
from .types import (
    Cart,
    Operation,
    OperationResult,
    OperationState,
    OperationType,
    OrderState,
    OrderStatus,
    Receipt,
    ReceiptType,
    RegisterRequest,
    RegisterResult,
    content_language,
    parse_datetime,
)

logger = logging.getLogger("navbat.uzum.checkout")

T = TypeVar("T")

API_PREFIX = "/api/v1/"
USER_AGENT = "navbat-uzum-checkout/1"

# 13 to 19 digits, optionally grouped by spaces or dashes: anything that may be a card number.
_CARD_LIKE = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)")

# Checks run before every request of every client, given what is about to be sent; one may
# raise to refuse, and then nothing is sent. navbat installs its transaction guard here
# (navbat/uzum/apps.py), so the client stays plain Python + httpx.
_before_request: list[Callable[[str], None]] = []


def before_each_request(check: Callable[[str], None]) -> None:
    """Run ``check("uzum checkout <endpoint>")`` before every request of every client."""
    if check not in _before_request:
        _before_request.append(check)


class _Secret:
    """A string that never shows itself in repr/str (tracebacks with locals, debuggers)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


class HostNotAllowed(UzumError):
    """The base URL is not an https address on the allowed hosts: no request is made, so the
    API key never leaves for it."""

    def __init__(self, base_url: str):
        super().__init__(f"{base_url[:200]!r} is not an allowed Checkout host")
        self.base_url = base_url


def host_allowed(base_url: str, allowed_hosts: Collection[str]) -> bool:
    """https, one of ``allowed_hosts`` (lower case) on the default port, no user part."""
    try:
        parts = urlsplit(base_url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme.lower() == "https"
        and parts.username is None
        and parts.password is None
        and port in (None, 443)
        and (parts.hostname or "") in allowed_hosts
    )


def _uuid(value: uuid.UUID | str, name: str) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"{name} must be a UUID") from None


class CheckoutClient:
    """A typed client of Uzum Bank's Checkout API for one terminal.

    ``base_url`` is the connection's host: Uzum's test host or production
    (``types.base_url_for``), or the built-in sandbox ``<public root>/sandbox/uzum/checkout``
    (``uzum.services.default_checkout_url``). ``transport``
    (an ``httpx.BaseTransport``) or a whole ``http_client`` may be injected; a client made
    here is closed by :meth:`close` (or ``with``). With ``allowed_hosts`` the base URL must
    be https on one of them, or :class:`HostNotAllowed` is raised before anything is sent."""

    def __init__(
        self,
        base_url: str,
        terminal_id: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = 15.0,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        read_retries: int = 2,
        money_retries: int = 1,
        retry_backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
        allowed_hosts: Collection[str] | None = None,
    ):
        if not base_url:
            raise ValueError("base_url is required")
        if allowed_hosts is not None and not host_allowed(base_url, allowed_hosts):
            logger.warning("refused to call %r: not an allowed Checkout host", base_url[:200])
            raise HostNotAllowed(base_url)
        if not terminal_id or not api_key:
            raise ValueError("terminal_id and api_key are required")
        if transport is not None and http_client is not None:
            raise ValueError("give a transport or an http_client, not both")
        self.base_url = base_url.rstrip("/")
        self.terminal_id = str(terminal_id)
        self._api_key = _Secret(api_key)
        self.timeout = timeout
        self.read_retries = max(0, read_retries)
        self.money_retries = max(0, money_retries)
        self.retry_backoff = retry_backoff
        self._sleep = sleep
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(transport=transport, timeout=timeout)

    def __repr__(self) -> str:
        return (
            f"CheckoutClient(base_url={self.base_url!r}, terminal_id={self.terminal_id!r}, "
            "api_key='***')"
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> CheckoutClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ the endpoints

    def register(self, request: RegisterRequest, language: str) -> RegisterResult:
        """``payment/register``: a new order and the URL of the bank's payment form, in
        ``language`` (``ru``/``uz``/``en``). Never retried; after :class:`BankTimeout` the
        order may exist at the bank — register again under a new orderNumber."""
        body = request.to_json()
        result = self._call(
            "payment/register",
            body,
            extra_headers={"Content-Language": content_language(language)},
            log_ids={"orderNumber": request.order_number},
        )
        return self._parse(
            "payment/register",
            lambda: RegisterResult(
                order_id=uuid.UUID(str(result["orderId"])),
                payment_redirect_url=_str(result["paymentRedirectUrl"]),
            ),
        )

    def get_order_status(self, order_id: uuid.UUID | str) -> OrderStatus:
        """``payment/getOrderStatus``: the truth about an order (status, amounts,
        operations). Retried on transport failures."""
        order_id = _uuid(order_id, "order_id")
        result = self._read(
            "payment/getOrderStatus", {"orderId": str(order_id)}, {"orderId": order_id}
        )
        return self._parse("payment/getOrderStatus", lambda: _order_status(result))

    def get_operation_state(self, operation_id: uuid.UUID | str) -> Operation:
        """``payment/getOperationState``: one operation by the bank's operation id."""
        operation_id = _uuid(operation_id, "operation_id")
        result = self._read(
            "payment/getOperationState",
            {"operationId": str(operation_id)},
            {"operationId": operation_id},
        )
        return self._parse("payment/getOperationState", lambda: _operation(result["operation"]))

    def get_receipts(self, order_id: uuid.UUID | str) -> list[Receipt]:
        """``payment/getReceipts``: the fiscal receipts of an order (auto-fiscal terminals)."""
        order_id = _uuid(order_id, "order_id")
        result = self._read(
            "payment/getReceipts", {"orderId": str(order_id)}, {"orderId": order_id}
        )
        return self._parse(
            "payment/getReceipts",
            lambda: [
                Receipt(
                    receipt_url=_str(item["receiptUrl"]),
                    receipt_type=ReceiptType(item["receiptType"]),
                )
                for item in (result.get("receipts") or [])
            ],
        )

    def complete(
        self, order_id: uuid.UUID | str, amount: int, operation_id: uuid.UUID | str
    ) -> OperationResult:
        """``acquiring/complete``: charge an AUTHORIZED two-step order (``amount`` ≤ the
        authorised amount)."""
        return self._money("acquiring/complete", order_id, amount, operation_id)

    def reverse(
        self, order_id: uuid.UUID | str, amount: int, operation_id: uuid.UUID | str
    ) -> OperationResult:
        """``acquiring/reverse``: release an AUTHORIZED two-step order's hold."""
        return self._money("acquiring/reverse", order_id, amount, operation_id)

    def refund(
        self,
        order_id: uuid.UUID | str,
        amount: int,
        operation_id: uuid.UUID | str,
        cart: Cart | None = None,
    ) -> OperationResult:
        """``acquiring/refund``: return ``amount`` of a COMPLETED order (partial or full;
        ``cart`` on auto-fiscal terminals)."""
        return self._money("acquiring/refund", order_id, amount, operation_id, cart=cart)

    def verify_credentials(self) -> None:
        """Check the terminal id and API key against the bank without touching money: ask
        for an order that cannot exist. "Not found" means the bank accepted the keys;
        :class:`AuthenticationFailed` (or any other error) is raised."""
        try:
            self._call(
                "payment/getOrderStatus",
                {"orderId": str(uuid.uuid4())},
                log_ids={"check": "credentials"},
            )
        except OrderNotFound:
            return

    # ------------------------------------------------------------------ the machinery

    def _money(
        self,
        endpoint: str,
        order_id: uuid.UUID | str,
        amount: int,
        operation_id: uuid.UUID | str,
        *,
        cart: Cart | None = None,
    ) -> OperationResult:
        order_id = _uuid(order_id, "order_id")
        key = _uuid(operation_id, "operation_id")  # required: the caller stored it already
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise TypeError("amount must be an integer (tiyin)")
        body: dict[str, Any] = {"orderId": str(order_id), "amount": amount}
        if cart is not None:
            body["cart"] = cart.to_json()
        result = self._retrying(
            self.money_retries,
            lambda: self._call(
                endpoint,
                body,
                extra_headers={"X-Operation-Id": str(key)},
                log_ids={"orderId": order_id, "amount": amount, "operationKey": key},
            ),
        )
        return self._parse(
            endpoint, lambda: OperationResult(operation_id=uuid.UUID(str(result["operationId"])))
        )

    def _read(self, endpoint: str, body: dict[str, Any], log_ids: dict[str, Any]) -> dict:
        return self._retrying(
            self.read_retries, lambda: self._call(endpoint, body, log_ids=log_ids)
        )

    def _retrying(self, retries: int, attempt: Callable[[], T]) -> T:
        for number in range(retries + 1):
            try:
                return attempt()
            except (BankUnavailable, BankTimeout):
                if number == retries:
                    raise
                delay = self.retry_backoff * (2**number)
                if delay > 0:
                    self._sleep(delay)
        raise AssertionError("unreachable")

    def _call(
        self,
        endpoint: str,
        body: dict[str, Any],
        *,
        extra_headers: dict[str, str] | None = None,
        log_ids: dict[str, Any],
    ) -> dict:
        """One POST; returns the envelope's ``result`` or raises. Refused before anything
        is sent when a check of ``before_each_request`` refuses (navbat's: while a database
        transaction is open)."""
        for check in _before_request:
            check(f"uzum checkout {endpoint}")
        ids = " ".join(f"{name}={value}" for name, value in log_ids.items())
        started = time.monotonic()

        def elapsed() -> int:
            return round((time.monotonic() - started) * 1000)

        try:
            response = self._http.post(
                self.base_url + API_PREFIX + endpoint,
                json=body,
                headers={
                    "X-Terminal-Id": self.terminal_id,
                    "X-API-Key": self._api_key.reveal(),
                    "Accept": "application/json",
                    "User-Agent": USER_AGENT,
                    **(extra_headers or {}),
                },
                timeout=self.timeout,
            )
        except (httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            # Nothing left our side: the bank never saw the request.
            raise self._failed(
                BankUnavailable(f"no connection in time ({type(exc).__name__})", endpoint=endpoint),
                ids,
                elapsed(),
            ) from None
        except httpx.TimeoutException as exc:
            raise self._failed(
                BankTimeout(f"no answer in time ({type(exc).__name__})", endpoint=endpoint),
                ids,
                elapsed(),
            ) from None
        except httpx.TransportError as exc:
            raise self._failed(
                BankUnavailable(f"connection failed ({type(exc).__name__})", endpoint=endpoint),
                ids,
                elapsed(),
            ) from None

        status = response.status_code
        if status == 403:
            raise self._failed(
                Forbidden("HTTP 403: the path is refused (check the base URL)", endpoint=endpoint),
                ids,
                elapsed(),
            )
        if status >= 500 or status == 429:
            raise self._failed(
                BankUnavailable(f"HTTP {status}", endpoint=endpoint, http_status=status),
                ids,
                elapsed(),
            )
        if status != 200:
            raise self._failed(
                MalformedAnswer(f"HTTP {status}", endpoint=endpoint, http_status=status),
                ids,
                elapsed(),
            )
        try:
            envelope = response.json()
        except ValueError:
            raise self._failed(
                MalformedAnswer(
                    f"not JSON ({response.headers.get('content-type', 'no content type')}, "
                    f"{len(response.content)} bytes)",
                    endpoint=endpoint,
                    http_status=status,
                ),
                ids,
                elapsed(),
            ) from None
        code = envelope.get("errorCode") if isinstance(envelope, dict) else None
        if isinstance(code, str) and code.strip().lstrip("-").isdigit():
            code = int(code)
        if isinstance(code, bool) or not isinstance(code, int):
            raise self._failed(
                MalformedAnswer("no errorCode in the answer", endpoint=endpoint),
                ids,
                elapsed(),
            )
        if code != 0:
            message = envelope.get("message")
            text = self._scrub(message if isinstance(message, str) else "")
            raise self._failed(error_for(code, text, endpoint=endpoint), ids, elapsed())
        result = envelope.get("result")
        if not isinstance(result, dict):
            raise self._failed(
                MalformedAnswer("no result in a successful answer", endpoint=endpoint),
                ids,
                elapsed(),
            )
        level = logging.DEBUG if endpoint.startswith("payment/get") else logging.INFO
        logger.log(
            level,
            "uzum checkout %s %s errorCode=0 duration_ms=%d%s",
            endpoint,
            ids,
            elapsed(),
            _result_ids(result),
        )
        return result

    def _failed(self, error: Exception, ids: str, duration_ms: int) -> Exception:
        code = error.code if isinstance(error, CheckoutError) else "-"
        kind = "" if isinstance(error, CheckoutError) else f" transport={type(error).__name__}"
        logger.warning(
            "uzum checkout %s %s errorCode=%s duration_ms=%d%s",
            getattr(error, "endpoint", "?"),
            ids,
            code,
            duration_ms,
            kind,
        )
        return error

    def _scrub(self, text: str) -> str:
        key = self._api_key.reveal()
        if key:
            text = text.replace(key, "***")
        return _CARD_LIKE.sub("****", text)[:500]

    def _parse(self, endpoint: str, build: Callable[[], T]) -> T:
        try:
            return build()
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise self._failed(
                MalformedAnswer(f"unexpected result ({_describe(exc)})", endpoint=endpoint),
                "",
                0,
            ) from None


# ---------------------------------------------------------------------- result parsing


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]}"
    return type(exc).__name__


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("expected text")
    return value


def _opt_str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _opt_int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise TypeError("expected a number")
    return int(value)


def _amount(result: dict, name: str, default: int = 0) -> int:
    value = result.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} is not an integer")
    return value


def _moment(value: Any) -> datetime | None:
    """A time of the bank's that can be stored: one past the calendar (epoch overflow, or a
    wall time whose offset carries it past year 9999 in UTC) is a malformed answer."""
    try:
        moment = parse_datetime(value)
        if moment is not None:
            moment.astimezone(UTC)
    except (OverflowError, OSError) as exc:
        raise ValueError("time out of range") from exc
    return moment


def _operation(data: Any) -> Operation:
    if not isinstance(data, dict):
        raise TypeError("operation is not an object")
    return Operation(
        operation_id=uuid.UUID(str(data["operationId"])),
        operation_type=OperationType(data["operationType"]),
        state=OperationState(data["state"]),
        start_at=_moment(data.get("startAt")),
        done_at=_moment(data.get("doneAt")),
        merchant_operation_id=_opt_str(data.get("merchantOperationId")),
        rrn=_opt_str(data.get("rrn")),
        action_code_description=_opt_str(data.get("actionCodeDescription")),
    )


def _order_status(result: dict) -> OrderStatus:
    amount = _amount(result, "amount")
    refunded = _amount(result, "refundedAmount")
    if "amount" not in result:
        raise KeyError("amount")
    return OrderStatus(
        order_id=uuid.UUID(str(result["orderId"])),
        status=OrderState(result["status"]),
        merchant_order_id=_opt_str(result.get("merchantOrderId")),
        amount=amount,
        total_amount=_amount(result, "totalAmount", amount - refunded),
        completed_amount=_amount(result, "completedAmount"),
        refunded_amount=refunded,
        reversed_amount=_amount(result, "reversedAmount"),
        operations=tuple(_operation(item) for item in (result.get("operations") or [])),
        card_type=_opt_int(result.get("cardType")),
        action_code=_opt_int(result.get("actionCode")),
        ips=_opt_str(result.get("ips")),
        approval_code=_opt_str(result.get("approvalCode")),
        binding_id=_opt_str(result.get("bindingId")),
        masked_pan=_opt_str(result.get("maskedPan")),
    )


def _result_ids(result: dict) -> str:
    """The ids worth a log line from a result (no URLs: a payment form URL may carry a token)."""
    parts = []
    for name in ("orderId", "operationId", "status"):
        value = result.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool):
            parts.append(f" {name}={value}")
    return "".join(parts)
