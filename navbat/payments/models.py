"""Payment orders and payment links, provider-neutral.

``payments`` knows no appointment and no bank: a payable (registered by booking, later by
loyalty) says what is due; a provider (registered by ``navbat.uzum``) moves the money.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from navbat.finance.models import CardKind
from navbat.kit.money import MAX_AMOUNT_TIYIN
from navbat.kit.tenancy import TenantModel

from . import payables


class Method(models.TextChoices):
    CARD = "card", _("Card payment")
    # The provider names its own app (``PaymentOrder.method_label``); this is the fallback.
    APP = "app", _("Bank app")


class Channel(models.TextChoices):
    """How the client came to pay: the link sent from the appointment, the checkout QR, or
    the online booking widget (its prepayment)."""

    LINK = "link", _("By link")
    QR = "qr", _("By QR at the checkout")
    BOOKING = "booking", _("Online booking")


class State(models.TextChoices):
    CREATED = "created", _("Created")
    PENDING = "pending", _("Waiting for the bank")
    PAID = "paid", _("Paid")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")
    CANCELLED = "cancelled", _("Cancelled")
    PARTLY_REFUNDED = "partly_refunded", _("Partly refunded")
    REFUNDED = "refunded", _("Refunded")


class PaymentLink(TenantModel):
    """What the administrator sends the client: one per payable, valid while it can be paid."""

    token = models.CharField(max_length=64, unique=True)
    # What a bank's app is told to identify this link by (the payment attribute of an
    # open-service link): short enough to read, too long to guess, never the token itself.
    code = models.CharField(max_length=16, unique=True)
    payable_kind = models.CharField(max_length=32)
    payable_id = models.BigIntegerField()
    document = models.ForeignKey(
        "finance.SaleDocument", on_delete=models.PROTECT, related_name="payment_links"
    )
    client = models.ForeignKey(
        "salons.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "payable_kind", "payable_id"], name="one_link_per_payable"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.payable_kind} {self.payable_id}"


class PaymentOrder(TenantModel):
    """One attempt to take money through a provider. ``reference`` is ours: it is stored
    before the provider is called and sent as the order number, so a repeat or a lost answer
    can always be matched."""

    link = models.ForeignKey(
        PaymentLink, on_delete=models.PROTECT, null=True, blank=True, related_name="orders"
    )
    payable_kind = models.CharField(max_length=32)
    payable_id = models.BigIntegerField()
    document = models.ForeignKey(
        "finance.SaleDocument", on_delete=models.PROTECT, related_name="payment_orders"
    )
    client = models.ForeignKey(
        "salons.Client", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    provider = models.CharField(max_length=32)
    account_id = models.BigIntegerField()
    method = models.CharField(_("method"), max_length=8, choices=Method.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.LINK)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.CREATED
    )
    amount = models.BigIntegerField(_("amount"))
    reference = models.CharField(max_length=36, unique=True)
    bank_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    redirect_url = models.URLField(max_length=2083, blank=True)
    language = models.CharField(max_length=8, default="uz")
    # What the bank said once it was paid.
    paid_amount = models.BigIntegerField(default=0)
    # Given back and done (payments.refunds), and of the fee what the bank returned with it.
    refunded_amount = models.BigIntegerField(default=0)
    fee_returned_amount = models.BigIntegerField(default=0)
    card_kind = models.CharField(max_length=16, choices=CardKind.choices, blank=True)
    card_scheme = models.CharField(max_length=32, blank=True)
    masked_pan = models.CharField(max_length=32, blank=True)
    rrn = models.CharField(max_length=32, blank=True)
    tariff = models.CharField(max_length=64, blank=True)
    fee_rate_bp = models.PositiveIntegerField(null=True, blank=True)
    fee_amount = models.BigIntegerField(default=0)
    income = models.OneToOneField(
        "finance.Transaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fee = models.OneToOneField(
        "finance.Transaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    failure_reason = models.CharField(max_length=300, blank=True)
    # What was sold, as the payable said when the order was made (payables.PayableLine as
    # dicts): a fiscal refund must name the purchase's own items, whatever changed since.
    lines = models.JSONField(default=list, blank=True)
    # Paid after another payment of the same link had already paid for it: the money is
    # kept in the books and given back (payments.duplicates).
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Until when the bank keeps the payment session open; after it (plus a margin) the
    # reconciliation job expires an order that is still pending.
    expires_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    checked_at = models.DateTimeField(null=True, blank=True)
    checks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) & models.Q(amount__lte=MAX_AMOUNT_TIYIN),
                name="payment_amount_in_range",
            ),
            models.UniqueConstraint(
                fields=["provider", "account_id", "bank_order_id"],
                condition=~models.Q(bank_order_id=""),
                name="payment_bank_order_unique",
            ),
            # One bank order per link at a time: two card orders open at once could both be
            # paid. Created (stored, the bank being called) and pending (open at the bank)
            # are open; an app order is held off by the link's lock (it ends on its own
            # deadline, not the card's).
            models.UniqueConstraint(
                fields=["link"],
                condition=models.Q(method="card", state__in=["created", "pending"]),
                name="one_open_card_order_per_link",
            ),
        ]
        indexes = [models.Index(fields=["business", "state", "created_at"])]

    @property
    def method_label(self) -> str:
        """The method as the order's provider names it ("Card payment", its app's name)."""
        from .providers import method_label

        return method_label(provider=self.provider, method=self.method)

    def __str__(self) -> str:
        return self.reference

    @property
    def payable_url(self) -> str:
        """The administration page of what this pays for, as its own room names it."""
        return payables.admin_url(kind=self.payable_kind, payable_id=self.payable_id)

    @property
    def payable_label(self) -> str:
        return payables.label(self.payable_kind)


class Difference(TenantModel):
    """What the daily reconciliation found our books and the bank disagreeing on. It never
    changes money; an owner reads it and acts."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.CASCADE, related_name="differences")
    found_on = models.DateField(db_index=True)
    what = models.CharField(max_length=32)
    ours = models.CharField(max_length=200, blank=True)
    bank = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-found_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "found_on", "what"], name="one_difference_per_day"
            ),
        ]


class RefundState(models.TextChoices):
    # Stored with its operation key; the bank is being called (or is about to be).
    REQUESTED = "requested", _("Requested")
    # The bank took it and has not finished, or its answer was lost and is being settled.
    AT_BANK = "at_bank", _("At the bank")
    DONE = "done", _("Refunded")
    # Nothing moved: the bank refused, or never received it. A new refund may be asked.
    FAILED = "failed", _("Failed")


class RefundRoute(models.TextChoices):
    # The provider sends the money back to the card (Checkout refund or reverse).
    BANK = "bank", _("Back to the card through the bank")
    # The salon gives it back from one of its registers (cash, card terminal).
    REGISTER = "register", _("From a register")
    # The bank took a payment of its app back (the Merchant API's reversal).
    BANK_REVERSAL = "bank_reversal", _("Reversed by the bank")


class Refund(TenantModel):
    """Money given back for one paid order. Its ``operation_key`` is the idempotency key the
    provider is called with: stored (committed) before the call, the same on every retry."""

    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="refunds")
    amount = models.BigIntegerField(_("amount"))
    reason = models.CharField(_("reason"), max_length=300)
    route = models.CharField(max_length=16, choices=RefundRoute.choices)
    state = models.CharField(
        _("state"), max_length=16, choices=RefundState.choices, default=RefundState.REQUESTED
    )
    # Where the money leaves from: the provider's register, or the salon's own register.
    register = models.ForeignKey("finance.CashRegister", on_delete=models.PROTECT, related_name="+")
    operation_key = models.UUIDField()
    bank_operation = models.CharField(max_length=16, blank=True)  # "refund" or "reverse"
    bank_operation_id = models.CharField(max_length=64, blank=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    # Made by navbat itself (a duplicate payment given back), not by a person.
    automatic = models.BooleanField(default=False)
    # The JSON API's Idempotency-Key and a digest of what was asked with it.
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    request_digest = models.CharField(max_length=64, blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    transaction = models.OneToOneField(
        "finance.Transaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fee_return = models.OneToOneField(
        "finance.Transaction", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fee_returned_amount = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    done_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True, db_index=True)
    checks = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0) & models.Q(amount__lte=MAX_AMOUNT_TIYIN),
                name="refund_amount_in_range",
            ),
            # One refund at a time per payment: a second waits until the first is settled.
            models.UniqueConstraint(
                fields=["order"],
                condition=models.Q(state__in=["requested", "at_bank"]),
                name="one_refund_in_flight_per_payment",
            ),
            models.UniqueConstraint(
                fields=["business", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="refund_idempotency_key_unique",
            ),
            # Per business, as every key of a tenant table (a sharded database needs it).
            models.UniqueConstraint(
                fields=["business", "operation_key"], name="refund_operation_key_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order} −{self.amount}"


class PointBinding(TenantModel):
    """A checkout point leads to one payable's payment link for a while ("Pay by QR", F5).
    A point has at most one binding in force; it ends when released, paid, closed or out
    of time (``ended_at``, with why)."""

    point = models.ForeignKey("salons.CheckoutPoint", on_delete=models.PROTECT, related_name="+")
    link = models.ForeignKey(PaymentLink, on_delete=models.CASCADE, related_name="bindings")
    bound_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=16, blank=True)  # released, paid, closed, expired

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["point"],
                condition=models.Q(ended_at__isnull=True),
                name="one_binding_in_force_per_point",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.point_id} → {self.link_id}"
