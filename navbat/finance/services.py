"""Writes to the books. Transactions are never edited: a mistake is reversed."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from navbat.kit.errors import Conflict
from navbat.kit.money import MAX_AMOUNT_TIYIN, format_money
from navbat.kit.tenancy import scoped

from .models import (
    KIND_DIRECTION,
    CashRegister,
    RegisterKind,
    SaleDocument,
    Transaction,
    TransactionKind,
)

DEFAULT_REGISTERS = (
    ("Cash", RegisterKind.CASH),
    ("Card terminal", RegisterKind.CARD_TERMINAL),
)


def ensure_default_registers(*, business, location=None) -> list[CashRegister]:
    """Every business starts with a cash drawer and a card terminal."""
    return [
        CashRegister.objects.get_or_create(
            business=business, name=name, defaults={"kind": kind, "location": location}
        )[0]
        for name, kind in DEFAULT_REGISTERS
    ]


def open_document(
    *, business, kind: str, title: str, client=None, amount_due: int = 0
) -> SaleDocument:
    return SaleDocument.objects.create(
        business=business, kind=kind, title=title[:200], client=client, amount_due=amount_due
    )


def set_amount_due(
    *, document: SaleDocument, amount_due: int, title: str | None = None, client=None
) -> None:
    if not 0 <= amount_due <= MAX_AMOUNT_TIYIN:
        raise ValidationError(_("The total is out of range."))
    document.amount_due = amount_due
    fields = ["amount_due"]
    if title is not None:
        document.title = title[:200]
        fields.append("title")
    if client is not None:
        document.client = client
        fields.append("client")
    document.save(update_fields=fields)


def record_transaction(
    *,
    business,
    register: CashRegister,
    kind: str,
    amount: int,
    document: SaleDocument | None = None,
    client=None,
    author=None,
    note: str = "",
    occurred_at=None,
    reverses: Transaction | None = None,
    refund_of: Transaction | None = None,
    idempotency_key: str = "",
    bank_settlement: bool = False,
) -> Transaction:
    """Record money moving. With an ``idempotency_key`` a repeat (a double click, a retried
    request, a race of two) returns the transaction the first one recorded.

    ``bank_settlement``: money the bank already moved is recorded even in a register the
    salon has closed, because refusing it would lose it from the books."""
    if register.business_id != business.pk or (document and document.business_id != business.pk):
        raise ValidationError(_("That register or document belongs to another business."))
    if kind not in KIND_DIRECTION:
        raise ValidationError({"kind": _("Choose a kind of transaction.")})
    if (
        not isinstance(amount, int)
        or isinstance(amount, bool)
        or not 0 < amount <= MAX_AMOUNT_TIYIN
    ):
        raise ValidationError({"amount": _("The amount must be more than zero.")})
    if not register.is_active and not bank_settlement:
        raise ValidationError({"register": _("This register is closed.")})
    if idempotency_key:
        earlier = scoped(Transaction, business).filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return _same_as_earlier(
                earlier, register=register, kind=kind, amount=amount, document=document
            )
    fields = dict(
        business=business,
        register=register,
        document=document,
        client=client if client is not None else (document.client if document else None),
        direction=KIND_DIRECTION[kind],
        kind=kind,
        amount=amount,
        author=author,
        note=note[:300],
        occurred_at=occurred_at or timezone.now(),
        reverses=reverses,
        refund_of=refund_of,
        idempotency_key=idempotency_key[:64],
    )
    try:
        with transaction.atomic():
            return Transaction.objects.create(**fields)
    except IntegrityError:
        if not idempotency_key:
            raise
        # Two requests with one key raced: the other one committed first.
        earlier = scoped(Transaction, business).get(idempotency_key=idempotency_key)
        return _same_as_earlier(
            earlier, register=register, kind=kind, amount=amount, document=document
        )


def _same_as_earlier(
    earlier: Transaction, *, register, kind: str, amount: int, document: SaleDocument | None
) -> Transaction:
    """A key is bound to what it first recorded: the same register, kind, amount and sale
    document (a key sent again for another appointment must not answer with this one's
    payment as if it were paid)."""
    asked = (register.pk, kind, amount, document.pk if document else None)
    if (earlier.register_id, earlier.kind, earlier.amount, earlier.document_id) != asked:
        raise ValidationError(_("This form was already used for another payment. Reload the page."))
    return earlier


def record_sale_payment(
    *,
    document: SaleDocument,
    register: CashRegister,
    amount: int,
    author=None,
    note: str = "",
    idempotency_key: str = "",
) -> Transaction:
    """Money taken for a sale (at the desk, or later online)."""
    return record_transaction(
        idempotency_key=idempotency_key,
        business=document.business,
        register=register,
        kind=TransactionKind.SALE_PAYMENT,
        amount=amount,
        document=document,
        author=author,
        note=note,
    )


REVERSING_KIND = {
    TransactionKind.SALE_PAYMENT: TransactionKind.REFUND,
    TransactionKind.BANK_FEE: TransactionKind.FEE_RETURN,
    TransactionKind.OTHER_INCOME: TransactionKind.OTHER_EXPENSE,
    TransactionKind.OTHER_EXPENSE: TransactionKind.OTHER_INCOME,
}


@transaction.atomic
def reverse_transaction(
    *,
    original: Transaction,
    author=None,
    note: str = "",
    idempotency_key: str = "",
    bank_settlement: bool = False,
) -> Transaction:
    """Undo a transaction with its mirror image; a transaction is reversed at most once.
    With an ``idempotency_key`` a repeat returns the reversal the first one recorded;
    ``bank_settlement`` as in :func:`record_transaction`."""
    locked = Transaction.objects.select_for_update().get(pk=original.pk)
    if idempotency_key:
        earlier = (
            scoped(Transaction, locked.business)
            .filter(idempotency_key=idempotency_key, reverses=locked)
            .first()
        )
        if earlier is not None:
            return earlier
    if locked.reverses_id is not None or locked.kind not in REVERSING_KIND:
        raise ValidationError(_("This transaction cannot be reversed."))
    if Transaction.objects.filter(reverses=locked).exists():
        raise ValidationError(_("This transaction was already reversed."))
    return record_transaction(
        business=locked.business,
        register=locked.register,
        kind=REVERSING_KIND[locked.kind],
        amount=locked.amount,
        document=locked.document,
        client=locked.client,
        author=author,
        note=note or _("Reversal"),
        reverses=locked,
        idempotency_key=idempotency_key,
        bank_settlement=bank_settlement,
    )


def refundable_of(original: Transaction) -> int:
    """What is left to give back of a payment taken at the desk."""
    if original.kind != TransactionKind.SALE_PAYMENT or hasattr(original, "reversed_by"):
        return 0
    given = sum(original.refunds.values_list("amount", flat=True))
    return max(original.amount - given, 0)


@transaction.atomic
def refund_desk_payment(
    *, original: Transaction, amount: int, reason: str, author=None, idempotency_key: str = ""
) -> Transaction:
    """Give back ``amount`` of a payment taken at the desk, from the register it was taken
    into: a refund transaction linked to it, never more than is left of it. Online payments
    are refunded through their payment (``payments.refunds``), which knows the bank."""
    locked = (
        Transaction.objects.select_for_update(of=("self",))
        .select_related("register", "business", "document")
        .get(pk=original.pk)
    )
    if idempotency_key:
        earlier = (
            scoped(Transaction, locked.business)
            .filter(idempotency_key=idempotency_key, refund_of=locked)
            .first()
        )
        if earlier is not None:
            return earlier
    if locked.kind != TransactionKind.SALE_PAYMENT or locked.reverses_id is not None:
        raise ValidationError(_("Only a payment can be refunded."))
    if locked.register.kind == RegisterKind.ONLINE:
        raise ValidationError(_("An online payment is refunded from the payment itself."))
    if not locked.register.is_active:
        raise ValidationError({"register": _("This register is closed.")})
    left = refundable_of(locked)
    if left <= 0:
        raise Conflict(_("This payment is already refunded in full."), code="nothing_left")
    if isinstance(amount, int) and not isinstance(amount, bool) and amount > left:
        raise Conflict(
            _("At most %(amount)s can be refunded.") % {"amount": format_money(left)},
            code="too_much",
        )
    note = _("Refund: %(reason)s") % {"reason": reason} if reason else _("Refund")
    return record_transaction(
        business=locked.business,
        register=locked.register,
        kind=TransactionKind.REFUND,
        amount=amount,
        document=locked.document,
        client=locked.client,
        author=author,
        note=note,
        refund_of=locked,
        idempotency_key=idempotency_key,
    )


def _check_location(*, business, location) -> None:
    if location is not None and location.business_id != business.pk:
        raise ValidationError({"location": _("Select a valid choice.")})


def _clean_register(*, business, register: CashRegister) -> None:
    """What both creating and editing a register check: name, kind, location, uniqueness."""
    register.name = register.name.strip()
    if not register.name:
        raise ValidationError({"name": _("Enter a name.")})
    if register.kind not in RegisterKind.values:
        raise ValidationError({"kind": _("Choose a kind of register.")})
    _check_location(business=business, location=register.location)
    register.full_clean(
        exclude=["business", "location"], validate_unique=False, validate_constraints=False
    )
    clash = scoped(CashRegister, business).filter(name=register.name)
    if register.pk:
        clash = clash.exclude(pk=register.pk)
    if clash.exists():
        raise ValidationError({"name": _("A register with this name already exists.")})


def create_register(
    *, business, name: str, kind: str, location=None, is_active: bool = True
) -> CashRegister:
    register = CashRegister(
        business=business, name=name, kind=kind, location=location, is_active=is_active
    )
    _clean_register(business=business, register=register)
    register.save()
    return register


def update_register(
    *, register: CashRegister, name: str, kind: str, location=None, is_active: bool = True
) -> CashRegister:
    """Rename, re-kind, move, open or close a register; its transactions stay as they are."""
    register.name, register.kind, register.location = name, kind, location
    register.is_active = is_active
    _clean_register(business=register.business, register=register)
    register.save()
    return register


def online_register(*, business, name: str) -> CashRegister:
    """The register a payment provider's money lands in, under the provider's name: made on
    the first connection, reopened by a later one (its history stays one register)."""
    register, _created = CashRegister.objects.get_or_create(
        business=business, name=name, defaults={"kind": RegisterKind.ONLINE}
    )
    if not register.is_active:
        register.is_active = True
        register.save(update_fields=["is_active"])
    return register
