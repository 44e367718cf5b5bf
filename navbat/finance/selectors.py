"""Reads of the books: what was paid for a document, registers, transaction lists."""

from datetime import date

from django.db.models import (
    Case,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from navbat.kit.tenancy import scoped
from navbat.kit.timeutil import day_bounds

from .models import CashRegister, PaymentState, SaleDocument, Transaction, TransactionKind

_SIGNED_PAID = Case(
    When(kind=TransactionKind.SALE_PAYMENT, then="amount"),
    When(kind=TransactionKind.REFUND, then=-F("amount")),
    default=Value(0),
    output_field=IntegerField(),
)


def paid_subquery(*, business, document_ref: str = "pk") -> Subquery:
    """What the client has paid for a document (payments minus refunds), for annotations."""
    totals = (
        scoped(Transaction, business)
        .filter(document=OuterRef(document_ref))
        .values("document")
        .annotate(paid=Sum(_SIGNED_PAID))
        .values("paid")
    )
    return Coalesce(Subquery(totals, output_field=IntegerField()), Value(0))


def paid_amount(*, document: SaleDocument) -> int:
    rows = scoped(Transaction, document.business).filter(document=document)
    result = rows.aggregate(paid=Sum(_SIGNED_PAID))
    return result["paid"] or 0


def payment_state(*, amount_due: int, paid: int) -> str:
    if paid <= 0:
        return PaymentState.UNPAID
    if paid < amount_due:
        return PaymentState.PARTLY_PAID
    if paid == amount_due:
        return PaymentState.PAID
    return PaymentState.OVERPAID


def registers(*, business, active_only: bool = False) -> QuerySet[CashRegister]:
    rows = scoped(CashRegister, business)
    return rows.filter(is_active=True) if active_only else rows


def transactions(
    *,
    business,
    register_id: int | None = None,
    direction: str = "",
    kind: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    client_id: int | None = None,
    tz_name: str | None = None,
) -> QuerySet[Transaction]:
    rows = scoped(Transaction, business).select_related("register", "client", "document", "author")
    if register_id:
        rows = rows.filter(register_id=register_id)
    if direction:
        rows = rows.filter(direction=direction)
    if kind:
        rows = rows.filter(kind=kind)
    if client_id:
        rows = rows.filter(client_id=client_id)
    if date_from:
        rows = rows.filter(occurred_at__gte=day_bounds(date_from, tz_name)[0])
    if date_to:
        rows = rows.filter(occurred_at__lt=day_bounds(date_to, tz_name)[1])
    return rows


def totals(rows: QuerySet[Transaction]) -> dict[str, int]:
    sums = rows.aggregate(
        income=Coalesce(Sum("amount", filter=Q(direction="income")), 0),
        expense=Coalesce(Sum("amount", filter=Q(direction="expense")), 0),
    )
    return {
        "income": sums["income"],
        "expense": sums["expense"],
        "net": sums["income"] - sums["expense"],
    }


def registers_with_totals(*, business) -> QuerySet[CashRegister]:
    """Every register with the income, expense and net of all its transactions."""
    return (
        registers(business=business)
        .select_related("location")
        .annotate(
            income=Coalesce(
                Sum("transactions__amount", filter=Q(transactions__direction="income")), 0
            ),
            expense=Coalesce(
                Sum("transactions__amount", filter=Q(transactions__direction="expense")), 0
            ),
        )
        .annotate(net=F("income") - F("expense"))
    )
