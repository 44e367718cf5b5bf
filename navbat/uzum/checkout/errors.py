"""What can go wrong when calling the Checkout API.

Two families under :class:`UzumError`:

* :class:`CheckoutError` — the bank answered, with a non-zero ``errorCode``. One named class
  per documented code (``code`` and the bank's ``message`` on every instance); codes we do
  not know become :class:`UnknownCheckoutError`. The bank did not do the work.
* :class:`TransportError` — no usable answer: :class:`BankUnavailable` (could not connect,
  HTTP 5xx, connection lost), :class:`BankTimeout` (sent, no answer in time),
  :class:`Forbidden` (HTTP 403: a path outside ``/api/v1/``, i.e. a wrong base URL) and
  :class:`MalformedAnswer` (not the JSON envelope). After a timeout, a lost connection or a
  5xx the caller cannot know whether the bank did the work: retry a money-moving call with
  the *same* operation id, or read the order status.

No exception text ever carries the API key or a card number (the client scrubs the bank's
messages before raising).
"""

from __future__ import annotations


class UzumError(Exception):
    """Anything the Checkout client raises about the bank."""

    retryable = False  # whether repeating the very same call may succeed

    def __init__(self, message: str, *, endpoint: str | None = None):
        super().__init__(message)
        self.message = message
        self.endpoint = endpoint


# ------------------------------------------------------------------ the bank said no


class CheckoutError(UzumError):
    """The bank answered ``errorCode`` ≠ 0."""

    code: int = 0

    def __init__(self, code: int, message: str = "", *, endpoint: str | None = None):
        super().__init__(message, endpoint=endpoint)
        self.code = code

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        return f"Uzum Checkout error {self.code}{where}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, message={self.message!r})"


class ValidationFailed(CheckoutError):
    """2000: a request field breaks the bank's rules."""

    code = 2000


class InvalidOrderState(CheckoutError):
    """3000: the order's status does not allow the operation (e.g. refund of a REFUNDED
    order)."""

    code = 3000


class CardBrandNotAllowed(CheckoutError):
    """3015: the terminal does not take this card brand (a terminal setting)."""

    code = 3015


class PayTypeNotAllowed(CheckoutError):
    """3004: the terminal does not allow this payType."""

    code = 3004


class OrderNotFound(CheckoutError):
    """3005: no such order on this terminal."""

    code = 3005


class Declined(CheckoutError):
    """A payment attempt was declined (these codes also appear as ``actionCode``)."""


class DeclinedInsufficientFunds(Declined):
    code = 3008


class DeclinedAntifraud(Declined):
    code = 3009


class DeclinedByIssuer(Declined):
    code = 3011


class ReverseAmountInvalid(CheckoutError):
    """3019: the reverse's amount is not what may be reversed (the whole authorised
    amount)."""

    code = 3019


class RefundExceedsAmount(CheckoutError):
    """3021: the refund is larger than what is left on the order."""

    code = 3021


class DuplicateOrderNumber(CheckoutError):
    """3027: the orderNumber was already registered on this terminal."""

    code = 3027


class OperationIdReused(CheckoutError):
    """3028: the X-Operation-Id was already used with another body."""

    code = 3028


class CompleteNotAllowed(CheckoutError):
    """3030: complete on a one-step order."""

    code = 3030


class OperationNotFound(CheckoutError):
    """3035: no such operation on this terminal (``getOperationState``)."""

    code = 3035


class ReverseNotAllowed(CheckoutError):
    """3036: reverse on a one-step order."""

    code = 3036


class SessionExpired(CheckoutError):
    """3041: the payment session (sessionTimeoutSecs) ran out."""

    code = 3041


class CartRequired(CheckoutError):
    """3045: the terminal issues fiscal receipts and the cart is missing."""

    code = 3045


class CartProductUnknown(CheckoutError):
    """3046: a refund cart names a productId that is not on the purchase receipt."""

    code = 3046


class CartNotAllowed(CheckoutError):
    """3058: a cart was sent to a terminal without automatic fiscal receipts."""

    code = 3058


class CartTotalMismatch(CheckoutError):
    """3059: the refund cart's total differs from the completed amount."""

    code = 3059


class AuthenticationFailed(CheckoutError):
    """Wrong terminal id or API key. What Uzum answers is unknown; its table has 1006
    "insufficient rights", which navbat's sandbox answers for both (adopted)."""

    code = 1006


class TerminalNotFound(AuthenticationFailed):
    """3001: no such terminal, i.e. a wrong terminal id (the bank may answer this instead
    of 1006)."""

    code = 3001


class UnknownCheckoutError(CheckoutError):
    """A code this client has no name for; ``code`` and ``message`` are the bank's."""


ERRORS_BY_CODE: dict[int, type[CheckoutError]] = {
    cls.code: cls
    for cls in (
        ValidationFailed,
        InvalidOrderState,
        PayTypeNotAllowed,
        OrderNotFound,
        DeclinedInsufficientFunds,
        DeclinedAntifraud,
        DeclinedByIssuer,
        CardBrandNotAllowed,
        ReverseAmountInvalid,
        RefundExceedsAmount,
        DuplicateOrderNumber,
        OperationIdReused,
        CompleteNotAllowed,
        OperationNotFound,
        ReverseNotAllowed,
        SessionExpired,
        CartRequired,
        CartProductUnknown,
        CartNotAllowed,
        CartTotalMismatch,
        AuthenticationFailed,
        TerminalNotFound,
    )
}


def error_for(code: int, message: str = "", *, endpoint: str | None = None) -> CheckoutError:
    """The named exception for a bank error code."""
    return ERRORS_BY_CODE.get(code, UnknownCheckoutError)(code, message, endpoint=endpoint)


# ------------------------------------------------------------------ no usable answer


class TransportError(UzumError):
    """No usable answer from the bank."""

    def __str__(self) -> str:
        where = f" ({self.endpoint})" if self.endpoint else ""
        return f"{type(self).__name__}{where}: {self.message}"


class BankUnavailable(TransportError):
    """Could not connect, the connection broke, or HTTP 5xx/429."""

    retryable = True

    def __init__(
        self, message: str, *, endpoint: str | None = None, http_status: int | None = None
    ):
        super().__init__(message, endpoint=endpoint)
        self.http_status = http_status


class BankTimeout(TransportError):
    """The request went out and no answer came in time: the bank may or may not have done
    the work."""

    retryable = True


class Forbidden(TransportError):
    """HTTP 403: the bank answers this for any path outside ``/api/v1/`` (a wrong base URL)."""

    http_status = 403


class MalformedAnswer(TransportError):
    """An answer that is not the JSON envelope (or whose result lacks required fields)."""

    def __init__(
        self, message: str, *, endpoint: str | None = None, http_status: int | None = None
    ):
        super().__init__(message, endpoint=endpoint)
        self.http_status = http_status
