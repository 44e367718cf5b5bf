"""The Merchant API's words (uzum-bank.md §2): requests, answers, error codes.

The Uzum Bank app POSTs JSON to ``/check``, ``/create``, ``/confirm``, ``/reverse`` and
``/status``. A success is HTTP 200 with the endpoint's shape; every error is HTTP 400 with
the request's ``serviceId`` (and ``transId``) echoed, ``status: "FAILED"`` and the error
code as a string. Times are Unix milliseconds.
"""

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# What one app payment may be, in tiyin: 1 000 so'm to 100 million so'm.
MIN_AMOUNT = 1_000_00
MAX_AMOUNT = 100_000_000_00


def amount_in_limits(amount: int) -> bool:
    return MIN_AMOUNT <= amount <= MAX_AMOUNT


ENDPOINTS = ("check", "create", "confirm", "reverse", "status")
MAX_BODY_BYTES = 64 * 1024


class Code(StrEnum):
    ACCESS_DENIED = "10001"
    JSON_PARSE = "10002"
    NOT_POST = "10003"
    MISSING_PARAMETER = "10005"
    WRONG_SERVICE = "10006"
    ATTRIBUTE_NOT_FOUND = "10007"
    ALREADY_PAID = "10008"
    PAYMENT_CANCELLED = "10009"
    TRANSACTION_EXISTS = "10010"
    INVALID_AMOUNT = "10011"
    AMOUNT_BELOW_MINIMUM = "10012"
    AMOUNT_ABOVE_MAXIMUM = "10013"
    TRANSACTION_NOT_FOUND = "10014"
    CANNOT_CONFIRM = "10015"
    ALREADY_CONFIRMED = "10016"
    CANNOT_REVERSE = "10017"
    ALREADY_REVERSED = "10018"
    INTERNAL = "99999"


class MerchantError(Exception):
    def __init__(self, code: Code, detail: str = ""):
        super().__init__(f"{code.value} {detail}".strip())
        self.code = code
        self.detail = detail


# What each endpoint must carry (uzum-bank.md §2); anything else is read when present.
REQUIRED: dict[str, tuple[str, ...]] = {
    "check": ("serviceId", "timestamp", "params"),
    "create": ("serviceId", "timestamp", "transId", "params", "amount"),
    "confirm": ("serviceId", "timestamp", "transId", "paymentSource", "phone"),
    "reverse": ("serviceId", "timestamp", "transId"),
    "status": ("serviceId", "timestamp", "transId"),
}


@dataclass(frozen=True)
class Request:
    endpoint: str
    service_id: int
    timestamp: int
    trans_id: uuid.UUID | None = None
    # As the app wrote it: answers repeat it character for character.
    trans_id_text: str = ""
    params: dict = field(default_factory=dict)
    amount: int | None = None
    payment_source: str = ""
    phone: str = ""
    tariff: str = ""
    processing_reference: str = ""
    card_type: str = ""


def now_ms() -> int:
    return int(time.time() * 1000)


def ms(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any, limit: int) -> str:
    if value is None:
        return ""
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value).strip()[:limit]
    raise MerchantError(Code.MISSING_PARAMETER, "a text field has the wrong type")


def load(body: bytes) -> dict:
    """The JSON object of the body, or 10002."""
    if len(body) > MAX_BODY_BYTES:
        raise MerchantError(Code.JSON_PARSE, "body too large")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise MerchantError(Code.JSON_PARSE, "not JSON") from None
    if not isinstance(data, dict):
        raise MerchantError(Code.JSON_PARSE, "not a JSON object")
    return data


def parse(endpoint: str, data: dict) -> Request:
    """The request's fields, typed; a missing or mistyped one is 10005 (an amount that is
    not a whole number of tiyin is left out: /create answers 10011 for it in its turn)."""
    missing = [name for name in REQUIRED[endpoint] if data.get(name) in (None, "")]
    if missing:
        raise MerchantError(Code.MISSING_PARAMETER, ", ".join(missing))
    if not _is_int(data["serviceId"]) or not _is_int(data["timestamp"]):
        raise MerchantError(Code.MISSING_PARAMETER, "serviceId and timestamp are numbers")
    trans_id = None
    if "transId" in REQUIRED[endpoint]:
        trans_id = _trans_id(data["transId"])
        if trans_id is None:
            raise MerchantError(Code.MISSING_PARAMETER, "transId is not a UUID")
    params = data.get("params", {})
    if not isinstance(params, dict):
        raise MerchantError(Code.MISSING_PARAMETER, "params is not an object")
    amount = data.get("amount")
    return Request(
        endpoint=endpoint,
        service_id=data["serviceId"],
        timestamp=data["timestamp"],
        trans_id=trans_id,
        trans_id_text=data["transId"] if trans_id else "",
        params=params,
        amount=amount if _is_int(amount) else None,
        payment_source=_text(data.get("paymentSource"), 32).upper(),
        phone=_text(data.get("phone"), 32),
        tariff=_text(data.get("tariff"), 64),
        processing_reference=_text(data.get("processingReferenceNumber"), 64),
        card_type=_text(data.get("cardType"), 16),
    )


def _trans_id(value: Any) -> uuid.UUID | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def echo(data: dict | None, endpoint: str) -> dict:
    """The request's identifying fields, as the answer repeats them (only well-formed ones:
    nothing the caller made up is written back)."""
    data = data or {}
    service_id = data.get("serviceId")
    answer: dict[str, Any] = {"serviceId": service_id if _is_int(service_id) else None}
    if endpoint == "check":
        answer["timestamp"] = now_ms()
    else:
        raw = data.get("transId")
        answer["transId"] = raw if _trans_id(raw) else None
    return answer


def failed(code: Code, *, data: dict | None = None, endpoint: str = "check") -> dict:
    if code is Code.ACCESS_DENIED:
        # Nothing of the request goes back to someone who could not say who they are.
        return {"status": "FAILED", "errorCode": code.value}
    return {**echo(data, endpoint), "status": "FAILED", "errorCode": code.value}
