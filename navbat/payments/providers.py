"""The provider interface: what payments needs from a bank, in payments' own words.

``navbat.uzum`` implements it and registers itself when its app is ready. Nothing here
knows a bank's field names.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from .payables import PayableLine


class ProviderError(Exception):
    """The provider refused; ``message`` is for the person who asked."""

    def __init__(self, message: str, *, code: str = "refused"):
        super().__init__(message)
        self.message = message
        self.code = code


class ProviderUnavailable(ProviderError):
    """The provider did not answer (down, timed out): whether it acted is unknown."""

    def __init__(self, message: str):
        super().__init__(message, code="unavailable")


@dataclass(frozen=True)
class Account:
    """A business's connection to a provider, as payments sees it."""

    provider: str
    id: int
    methods: frozenset[str]  # payments.models.Method values the client may use
    installments: bool
    fee_schedule: object  # finance.FeeSchedule
    register: object  # finance.CashRegister the money lands in
    session_timeout_secs: int = 1800
    # The provider's own record this was read from (uzum: the Connection), so that the
    # provider's later calls within the same request need not read it again.
    record: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Started:
    bank_order_id: str
    redirect_url: str


@dataclass(frozen=True)
class BankView:
    """The provider's answer about one order, translated. ``state`` is a payments State:
    pending, paid, declined, partly_refunded, refunded, expired or cancelled (when the bank
    voided it). What each does to an order of ours is in payments.bank_states."""

    state: str
    bank_order_id: str
    reference: str  # our reference as the bank has it
    amount: int
    paid_amount: int = 0
    refunded_amount: int = 0
    card_kind: str = ""
    card_scheme: str = ""
    masked_pan: str = ""
    rrn: str = ""
    tariff: str = ""  # the installment plan, when paid in installments
    failure_reason: str = ""
    paid_at: datetime | None = None


@dataclass(frozen=True)
class RefundOutcome:
    """What the provider says of one refund. ``state`` is a payments RefundState: done,
    at_bank (taken, not finished) or failed (nothing moved). ``operation`` is what the bank
    was asked to do ("refund" or "reverse"): whether the fee comes back depends on it."""

    state: str
    operation: str = ""
    operation_id: str = ""
    failure_reason: str = ""


@dataclass(frozen=True)
class SettingsPage:
    """Where a salon connects a provider (its integrations page), and what to call it."""

    url: str
    label: str


@dataclass(frozen=True)
class Presentation:
    """How a provider is named to people, in the current language: payments and finance
    show these words and never name a bank themselves."""

    display_name: str  # the provider's cash register and fee schedule carry this name
    method_labels: Mapping[str, str]  # payments.models.Method value → label
    card_hint: str  # under "Pay by card": which cards, and where they are typed
    pay_in_app: str  # the app button
    app_hint: str  # what the app takes
    app_hint_installments: str  # … with installments
    app_qr_hint: str  # under the QR code of the app link
    # Proper names, the same in every language: what a checkout point's poster lists.
    accepted_cards: tuple[str, ...] = ()
    app_name: str = ""  # the bank's app, "" when it has none


@dataclass(frozen=True)
class FeeTerm:
    """One of a provider's published fee rates: hundredths of a percent for a card kind,
    on the days from ``valid_from`` to ``valid_until`` (open-ended where None)."""

    card_kind: str
    rate_bp: int
    valid_from: date | None = None
    valid_until: date | None = None


class Provider(Protocol):
    name: str

    def settings_page(self) -> SettingsPage:
        """The provider's administration page (reverse()d): other rooms' pages send an
        administrator there without naming the provider's URLs."""

    def presentation(self) -> Presentation:
        """The provider's name, method labels and the Quick Payment page's words about it."""

    def default_fee_terms(self) -> tuple[FeeTerm, ...]:
        """The fee rates a new connection's schedule starts with (the bank's tariffs)."""

    def account_for(self, *, business) -> Account | None:
        """The business's active connection, or None."""

    def account_by_id(self, *, account_id: int) -> Account | None:
        """A connection by id, active or not (history stays readable after a disconnect)."""

    def start_card_payment(
        self,
        *,
        order,
        account: Account,
        success_url: str,
        failure_url: str,
        cart: tuple[PayableLine, ...],
        description: str,
    ) -> Started:
        """Register the order at the bank; raises ProviderError / ProviderUnavailable."""

    def fetch(self, *, order) -> BankView:
        """Ask the bank about an order it knows (``order.bank_order_id`` is set)."""

    def refund_refusal(self, *, order, amount: int) -> str:
        """Why the provider cannot send ``amount`` of ``order`` back to the client, said
        before any call ("" when it can): a method with no refund call (the bank's app),
        a partial refund a fiscal terminal cannot express."""

    def refund(self, *, order, refund) -> RefundOutcome:
        """Send ``refund.amount`` of ``order`` back, with ``refund.operation_key`` as the
        idempotency key (stored before this call; the same on every retry). Raises
        ProviderUnavailable when the answer was lost (the bank may have done it):
        :meth:`refund_state` settles it."""

    def refund_state(self, *, order, refund) -> RefundOutcome:
        """What became of a refund whose answer was lost or not final, read from the bank
        (never by sending it again under a new key). Raises ProviderUnavailable."""

    def app_link(self, *, account: Account, code: str, amount: int, return_url: str) -> str:
        """Where the client pays ``amount`` for the link ``code`` in the bank's app, or ""
        when the account does not take app payments (or not this amount)."""

    def purge_before(self, *, before: datetime) -> dict[str, int]:
        """Delete what the provider kept of strangers' requests (callbacks, counters) from
        before ``before``; how many rows of each kind went."""


_PROVIDERS: dict[str, Provider] = {}


def register(provider: Provider) -> None:
    _PROVIDERS[provider.name] = provider


def get(name: str) -> Provider:
    try:
        return _PROVIDERS[name]
    except KeyError:
        raise LookupError(f"no payment provider {name!r} is registered") from None


def active_account(*, business) -> Account | None:
    """The business's one active connection among the registered providers."""
    for provider in _PROVIDERS.values():
        account = provider.account_for(business=business)
        if account is not None:
            return account
    return None


def method_label(*, provider: str, method: str) -> str:
    """The label of ``method`` as ``provider`` names it (its app has the bank's name)."""
    from .models import Method

    try:
        labels = get(provider).presentation().method_labels
    except LookupError:
        labels = {}
    return str(labels.get(method) or Method(method).label)


def registered() -> list[Provider]:
    return list(_PROVIDERS.values())


def settings_page() -> SettingsPage | None:
    """Where to connect a provider when a business has none: the first registered one's
    page (there is one provider so far)."""
    for provider in _PROVIDERS.values():
        return provider.settings_page()
    return None
