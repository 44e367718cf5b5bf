"""What the provider and the Merchant API both translate into payments' words: a card
scheme into a card kind, a connection into an account, an app transaction into a bank's
answer. Below both, so that neither imports the other."""

from typing import Any

from navbat.finance.models import CardKind
from navbat.payments.models import Method, State
from navbat.payments.providers import Account, BankView

from .models import Connection, MerchantTransaction, TransactionState

NAME = "uzum"

# The bank's card scheme (``ips`` of the order status, ``paymentSource`` of the Merchant
# API) → the card kind the fee schedule knows.
CARD_KINDS = {
    "UZCARD": CardKind.UZCARD,
    "HUMO": CardKind.HUMO,
    "VISA": CardKind.VISA,
    "VISA_DOMESTIC": CardKind.VISA,
    "MASTERCARD": CardKind.MASTERCARD,
    "MASTERCARD_DOMESTIC": CardKind.MASTERCARD,
    "UZUM_DEBIT_VISA": CardKind.UZUM_VISA,
    "VISAUZS": CardKind.UZUM_VISA,
    "INSTALLMENT": CardKind.INSTALLMENT,
}


def card_kind_of(scheme: str | None) -> str:
    if not scheme:
        return CardKind.OTHER
    return CARD_KINDS.get(scheme.strip().upper(), CardKind.OTHER)


def account_of(connection: Connection) -> Account:
    methods = set()
    if connection.card_payments:
        methods.add(Method.CARD)
    if connection.app_payments:
        methods.add(Method.APP)
    return Account(
        provider=NAME,
        id=connection.pk,
        methods=frozenset(methods),
        installments=connection.app_payments and connection.installments,
        fee_schedule=connection.fee_schedule,
        register=connection.register,
        session_timeout_secs=connection.session_timeout_secs,
        record=connection,
    )


def app_view(tx: MerchantTransaction) -> BankView:
    """The transaction as payments reads a bank's answer."""
    order = tx.order
    common: dict[str, Any] = {
        "bank_order_id": str(tx.trans_id),
        "reference": order.reference,
        "amount": tx.amount,
    }
    if tx.state == TransactionState.CREATED:
        return BankView(state=State.PENDING, **common)
    if tx.state == TransactionState.FAILED:
        return BankView(state=State.EXPIRED, **common)
    if tx.state == TransactionState.REVERSED and tx.confirmed_at is None:
        return BankView(state=State.CANCELLED, **common)
    refunded = tx.amount if tx.state == TransactionState.REVERSED else 0
    return BankView(
        state=State.REFUNDED if refunded else State.PAID,
        paid_amount=tx.amount,
        refunded_amount=refunded,
        card_kind=card_kind_of(tx.payment_source),
        card_scheme=tx.payment_source,
        rrn=tx.processing_reference[:32],
        tariff=tx.tariff,
        paid_at=tx.confirmed_at,
        **common,
    )
