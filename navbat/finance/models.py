"""The salon's books: cash registers, sale documents and transactions.

Finance knows nothing of appointments: a sale document is whatever was sold
(a visit, later an online sale), and booking keeps a pointer to its document.
"""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from navbat.kit.money import MAX_AMOUNT_TIYIN
from navbat.kit.tenancy import TenantModel


class RegisterKind(models.TextChoices):
    CASH = "cash", _("Cash")
    CARD_TERMINAL = "card_terminal", _("Card terminal")
    ONLINE = "online", _("Online")


class CashRegister(TenantModel):
    location = models.ForeignKey(
        "salons.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=RegisterKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["business", "name"], name="register_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class DocumentKind(models.TextChoices):
    VISIT = "visit", _("Visit")
    ONLINE_SALE = "online_sale", _("Online sale")


class PaymentState(models.TextChoices):
    UNPAID = "unpaid", _("Unpaid")
    PARTLY_PAID = "partly_paid", _("Partly paid")
    PAID = "paid", _("Paid")
    OVERPAID = "overpaid", _("Overpaid")


class SaleDocument(TenantModel):
    """What was sold and how much is due for it; payments are transactions against it."""

    kind = models.CharField(max_length=16, choices=DocumentKind.choices)
    title = models.CharField(max_length=200)
    client = models.ForeignKey(
        "salons.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    amount_due = models.BigIntegerField(default=0, validators=[MinValueValidator(0)])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount_due__gte=0) & models.Q(amount_due__lte=MAX_AMOUNT_TIYIN),
                name="document_due_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Direction(models.TextChoices):
    INCOME = "income", _("Income")
    EXPENSE = "expense", _("Expense")


class TransactionKind(models.TextChoices):
    # Income from the client for a document: counts towards what was paid.
    SALE_PAYMENT = "sale_payment", _("Payment for a sale")
    # Money given back to the client: lowers what was paid.
    REFUND = "refund", _("Refund")
    # The bank's commission on a payment: an expense that does not touch what the client paid.
    BANK_FEE = "bank_fee", _("Bank fee")
    # The bank's commission given back with a refund (per the fee schedule's setting).
    FEE_RETURN = "fee_return", _("Bank fee returned")
    OTHER_INCOME = "other_income", _("Other income")
    OTHER_EXPENSE = "other_expense", _("Other expense")


KIND_DIRECTION = {
    TransactionKind.SALE_PAYMENT: Direction.INCOME,
    TransactionKind.REFUND: Direction.EXPENSE,
    TransactionKind.BANK_FEE: Direction.EXPENSE,
    TransactionKind.FEE_RETURN: Direction.INCOME,
    TransactionKind.OTHER_INCOME: Direction.INCOME,
    TransactionKind.OTHER_EXPENSE: Direction.EXPENSE,
}


class Transaction(TenantModel):
    """One movement of money through a register. Never edited; a mistake is reversed."""

    register = models.ForeignKey(
        CashRegister, on_delete=models.PROTECT, related_name="transactions"
    )
    document = models.ForeignKey(
        SaleDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="transactions"
    )
    client = models.ForeignKey(
        "salons.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    direction = models.CharField(max_length=8, choices=Direction.choices)
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    amount = models.BigIntegerField(_("amount"))
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    # A refund of part or all of a payment taken at the desk (finance.services).
    refund_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    # Set by whoever records money from a form or a bank answer: the same key twice records once.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    occurred_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) & models.Q(amount__lte=MAX_AMOUNT_TIYIN),
                name="transaction_amount_positive",
            ),
            models.UniqueConstraint(
                fields=["business", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="transaction_idempotency_key_unique",
            ),
        ]
        indexes = [models.Index(fields=["business", "occurred_at"])]


class CardKind(models.TextChoices):
    """What a payment was made with, as far as the bank's fee depends on it."""

    UZUM_VISA = "uzum_visa", _("Uzum Visa")
    UZCARD = "uzcard", _("Uzcard")
    HUMO = "humo", _("Humo")
    VISA = "visa", _("Visa")
    MASTERCARD = "mastercard", _("MasterCard")
    INSTALLMENT = "installment", _("Installments")
    OTHER = "other", _("Other card")


class FeeSchedule(TenantModel):
    """The bank's commission on payments, as dated rates per card kind."""

    name = models.CharField(_("name"), max_length=100)
    # Whether the bank gives its fee back when money is returned. Uzum does not publish it;
    # the defaults: kept on a refund of a completed payment, returned when a payment is
    # reversed (taken back whole before it settled, or by the bank itself).
    fee_returned_on_refund = models.BooleanField(
        _("the bank returns its fee on refunds"), default=False
    )
    fee_returned_on_reversal = models.BooleanField(
        _("the bank returns its fee on reversals"), default=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class FeeRate(TenantModel):
    """A rate in hundredths of a percent (0.4 % = 40), valid on the days from ``valid_from``
    to ``valid_until`` inclusive (open-ended where empty), in the business's time zone."""

    schedule = models.ForeignKey(FeeSchedule, on_delete=models.CASCADE, related_name="rates")
    card_kind = models.CharField(_("card kind"), max_length=16, choices=CardKind.choices)
    rate_bp = models.PositiveIntegerField(_("rate, hundredths of a percent"))
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)

    class Meta:
        ordering = ["card_kind", "valid_from", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rate_bp__lte=10_000), name="fee_rate_le_100"),
            models.CheckConstraint(
                condition=models.Q(valid_from__isnull=True)
                | models.Q(valid_until__isnull=True)
                | models.Q(valid_until__gte=models.F("valid_from")),
                name="fee_rate_dates_ordered",
            ),
        ]
