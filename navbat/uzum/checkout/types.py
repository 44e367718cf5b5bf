"""Request and result types of Uzum's Checkout API (uzum-bank.md §1).

Requests are frozen dataclasses that know how to become the JSON the bank expects
(``to_json``); results are frozen dataclasses read from the ``result`` of the envelope.
Money is integer tiyin everywhere.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

CURRENCY_UZS = 860  # ISO-4217 numeric; the bank rejects the string "UZS"

# Content-Language values the bank accepts on payment/register, by our language code.
LANGUAGES = {"ru": "ru-RU", "uz": "uz-UZ", "en": "en-EN"}

# Where the Checkout API lives, per connection (paths are ``/api/v1/...`` under these).
TEST_BASE_URL = "https://test-chk-api.uzumcheckout.uz"
PRODUCTION_BASE_URL = "https://checkout-key.inplat-tech.com"

BANK_TIMEZONE = ZoneInfo("Asia/Tashkent")


class Environment(enum.StrEnum):
    SANDBOX = "sandbox"
    TEST = "test"
    PRODUCTION = "production"


def base_url_for(environment: Environment | str) -> str:
    """The base URL of a connection on Uzum's test host or production. The built-in
    sandbox has no fixed address: navbat reverses its URL (uzum.services.default_checkout_url)."""
    environment = Environment(environment)
    if environment is Environment.SANDBOX:
        raise ValueError("the sandbox's address is its URL here, not a bank host")
    if environment is Environment.TEST:
        return TEST_BASE_URL
    return PRODUCTION_BASE_URL


def content_language(language: str) -> str:
    """``ru``/``uz``/``en`` (or ``ru-RU``, ``uz-UZ``, ``en-EN``, ``uz-latn``, ``en-us``…) →
    the exact Content-Language value of payment/register."""
    primary = language.strip().replace("_", "-").split("-")[0].lower()
    try:
        return LANGUAGES[primary]
    except KeyError:
        raise ValueError(f"unsupported payment form language: {language!r}") from None


class ViewType(enum.StrEnum):
    REDIRECT = "REDIRECT"
    WEB_VIEW = "WEB_VIEW"
    IFRAME = "IFRAME"


class PayType(enum.StrEnum):
    ONE_STEP = "ONE_STEP"
    TWO_STEP = "TWO_STEP"


class ReceiptType(enum.StrEnum):
    PURCHASE = "PURCHASE"
    PREPAID = "PREPAID"
    REFUND = "REFUND"


class OrderState(enum.StrEnum):
    """``status`` of an order."""

    REGISTERED = "REGISTERED"
    AUTHORIZED = "AUTHORIZED"
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"
    REVERSED = "REVERSED"
    DECLINED = "DECLINED"
    TOP_UP_COMPLETED = "TOP_UP_COMPLETED"


class OperationType(enum.StrEnum):
    AUTHORIZE = "AUTHORIZE"
    COMPLETE = "COMPLETE"
    REFUND = "REFUND"
    REVERSE = "REVERSE"
    TOP_UP_COMPLETED = "TOP_UP_COMPLETED"


class OperationState(enum.StrEnum):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


class CardType(enum.IntEnum):
    CORPORATE = 1
    PERSONAL = 2


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer (tiyin), got {type(value).__name__}")
    return value


# ----------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class ReceiptParams:
    """Fiscal data of a cart line: IKPU (MXIK) code, package code, VAT, and exactly one of
    the seller's TIN (company) or PINFL (individual)."""

    spic: str
    package_code: str
    vat_percent: int
    tin: str | None = None
    pinfl: str | None = None

    def __post_init__(self) -> None:
        if (self.tin is None) == (self.pinfl is None):
            raise ValueError("receipt params need exactly one of TIN or PINFL")
        _int(self.vat_percent, "vat_percent")

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "spic": self.spic,
            "packageCode": self.package_code,
            "vatPercent": self.vat_percent,
        }
        if self.tin is not None:
            body["TIN"] = self.tin
        else:
            body["PINFL"] = self.pinfl
        return body


@dataclass(frozen=True)
class CartItem:
    title: str
    product_id: str
    quantity: int
    unit_price: int
    total: int
    receipt_params: ReceiptParams

    def __post_init__(self) -> None:
        for name in ("quantity", "unit_price", "total"):
            _int(getattr(self, name), name)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "productId": self.product_id,
            "quantity": self.quantity,
            "unitPrice": self.unit_price,
            "total": self.total,
            "receiptParams": self.receipt_params.to_json(),
        }


@dataclass(frozen=True)
class Cart:
    """``merchantParams.cart`` of register, or the ``cart`` of a refund on auto-fiscal
    terminals. The bank wants Σ items.total == total == amount."""

    cart_id: str
    total: int
    items: tuple[CartItem, ...]
    receipt_type: ReceiptType = ReceiptType.PURCHASE

    def __post_init__(self) -> None:
        _int(self.total, "total")
        object.__setattr__(self, "items", tuple(self.items))
        object.__setattr__(self, "receipt_type", ReceiptType(self.receipt_type))

    def to_json(self) -> dict[str, Any]:
        return {
            "cartId": self.cart_id,
            "receiptType": self.receipt_type.value,
            "total": self.total,
            "items": [item.to_json() for item in self.items],
        }


@dataclass(frozen=True)
class RegisterRequest:
    """The body of ``payment/register`` for a card payment. The bank judges the rules
    (ranges, public URLs, pay types, carts); only types are checked here."""

    amount: int
    order_number: str
    client_id: str
    success_url: str | None = None
    failure_url: str | None = None
    view_type: ViewType = ViewType.REDIRECT
    pay_type: PayType = PayType.ONE_STEP
    payment_details: str | None = None
    # Required by the bank (uzum-bank.md §1: 600…1800); the longest session by default.
    session_timeout_secs: int = 1800
    force3ds: bool | None = None
    cart: Cart | None = None
    currency: int = CURRENCY_UZS

    def __post_init__(self) -> None:
        _int(self.amount, "amount")
        object.__setattr__(self, "view_type", ViewType(self.view_type))
        object.__setattr__(self, "pay_type", PayType(self.pay_type))

    def to_json(self) -> dict[str, Any]:
        payment_params: dict[str, Any] = {
            "payType": self.pay_type.value,
            "operationType": "PAYMENT",
        }
        if self.force3ds is not None:
            payment_params["force3ds"] = self.force3ds
        body: dict[str, Any] = {
            "amount": self.amount,
            "clientId": self.client_id,
            "currency": self.currency,
            "orderNumber": self.order_number,
            "viewType": self.view_type.value,
            "paymentParams": payment_params,
            "sessionTimeoutSecs": self.session_timeout_secs,
        }
        optional = {
            "paymentDetails": self.payment_details,
            "successUrl": self.success_url,
            "failureUrl": self.failure_url,
        }
        body.update({key: value for key, value in optional.items() if value is not None})
        if self.cart is not None:
            body["merchantParams"] = {"cart": self.cart.to_json()}
        return body


# ------------------------------------------------------------------------------ results


@dataclass(frozen=True)
class RegisterResult:
    order_id: uuid.UUID
    payment_redirect_url: str


@dataclass(frozen=True)
class OperationResult:
    """What complete, reverse and refund answer: the bank's id of the new operation."""

    operation_id: uuid.UUID


@dataclass(frozen=True)
class Operation:
    operation_id: uuid.UUID
    operation_type: OperationType
    state: OperationState
    start_at: datetime | None = None
    done_at: datetime | None = None
    merchant_operation_id: str | None = None
    rrn: str | None = None
    action_code_description: str | None = None


@dataclass(frozen=True)
class OrderStatus:
    """The answer of ``payment/getOrderStatus``: the truth about an order.

    ``total_amount`` is what is left after refunds; ``status`` moves along
    REGISTERED → AUTHORIZED/COMPLETED → REFUNDED/REVERSED (or DECLINED)."""

    order_id: uuid.UUID
    status: OrderState
    merchant_order_id: str | None
    amount: int
    total_amount: int
    completed_amount: int
    refunded_amount: int
    reversed_amount: int
    operations: tuple[Operation, ...] = field(default=())
    card_type: int | None = None  # CardType.CORPORATE (1) or CardType.PERSONAL (2)
    action_code: int | None = None  # why the last attempt was declined (0: not declined)
    ips: str | None = None  # card scheme, e.g. "UZCARD", "HUMO"
    approval_code: str | None = None
    binding_id: str | None = None
    masked_pan: str | None = None  # e.g. "860000******0018", where the bank sends it

    @property
    def refundable_amount(self) -> int:
        """What a refund may still return: completed minus refunded (0 unless COMPLETED)."""
        if self.status is not OrderState.COMPLETED:
            return 0
        return self.completed_amount - self.refunded_amount


@dataclass(frozen=True)
class Receipt:
    receipt_url: str
    receipt_type: ReceiptType


def parse_datetime(value: Any) -> datetime | None:
    """ISO-8601 text or epoch (seconds or milliseconds) → aware datetime.

    A time without an offset is read as Tashkent time (the bank's; Uzum publishes nothing
    on this)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError("not a time")
    if isinstance(value, int | float):
        seconds = value / 1000 if value > 100_000_000_000 else value
        return datetime.fromtimestamp(seconds, tz=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=BANK_TIMEZONE)
    raise ValueError("not a time")
