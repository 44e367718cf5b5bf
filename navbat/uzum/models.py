"""A business's connection to Uzum Bank and the callbacks the bank sends it."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from navbat.kit.crypto import EncryptedTextField
from navbat.kit.tenancy import TenantModel


class Environment(models.TextChoices):
    SANDBOX = "sandbox", _("Built-in sandbox")
    TEST = "test", _("Uzum test")
    PRODUCTION = "production", _("Production")


class Connection(TenantModel):
    """The integration keys the bank emailed the salon, and what the salon offers with them.

    A business has at most one active connection; a disconnected one stays for history
    (its payments point at it)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    environment = models.CharField(_("environment"), max_length=16, choices=Environment.choices)
    checkout_base_url = models.URLField(_("Checkout host"), max_length=300)
    terminal_id = models.UUIDField(_("terminal id"))
    api_key = EncryptedTextField(_("API key"))
    merchant_service_id = models.PositiveBigIntegerField(
        _("Merchant API service id"), null=True, blank=True
    )
    merchant_login = models.CharField(_("Merchant API login"), max_length=100, blank=True)
    merchant_password = EncryptedTextField(_("Merchant API password"), blank=True, default="")
    # The name of the payment attribute in open-service links (the Merchant API's "params").
    payment_attribute = models.CharField(max_length=32, default="order")
    card_payments = models.BooleanField(_("card payment"), default=True)
    app_payments = models.BooleanField(_("Uzum Bank app"), default=False)
    installments = models.BooleanField(_("installments in the app"), default=False)
    auto_fiscal = models.BooleanField(_("the terminal issues fiscal receipts"), default=False)
    # The taxpayer the fiscal receipts are issued for: exactly one of TIN or PINFL.
    tin = models.CharField(_("TIN"), max_length=9, blank=True)
    pinfl = models.CharField(_("PINFL"), max_length=14, blank=True)
    session_timeout_secs = models.PositiveIntegerField(default=1200)
    fee_schedule = models.ForeignKey(
        "finance.FeeSchedule", on_delete=models.PROTECT, related_name="+"
    )
    register = models.ForeignKey("finance.CashRegister", on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(default=True)
    connected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    disconnected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-connected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["business"],
                condition=models.Q(is_active=True),
                name="one_active_uzum_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"Uzum Bank ({self.get_environment_display()})"

    @property
    def masked_api_key(self) -> str:
        return mask(self.api_key)


def mask(secret: str) -> str:
    if not secret:
        return ""
    return "•" * 8 + secret[-4:] if len(secret) > 8 else "•" * 8


class CallbackKind(models.TextChoices):
    PAYMENT = "payment"
    EVENT = "event"
    RECEIPT = "receipt"


class Callback(TenantModel):
    """A callback as received. Stored once per identical body; it is only a trigger: the job
    that handles it asks the bank for the order's status."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="callbacks")
    kind = models.CharField(max_length=8, choices=CallbackKind.choices)
    digest = models.CharField(max_length=64)
    body = models.JSONField()
    bank_order_id = models.CharField(max_length=64, blank=True, db_index=True)
    order_number = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    repeats = models.PositiveIntegerField(default=0)
    handled_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=200, blank=True)
    # Our order the callback names, found when it arrived (None: none of this connection's).
    order = models.ForeignKey(
        "payments.PaymentOrder", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Waiting for the order's pending status pull, which answers it (see StatusPull).
    awaiting_pull = models.BooleanField(default=False)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "kind", "digest"], name="uzum_callback_once"
            ),
        ]
        indexes = [models.Index(fields=["received_at"], name="uzum_callback_received")]


class StatusPull(TenantModel):
    """A status query of one of our orders that callbacks asked for and no job has started
    yet. At most one per order: every callback naming the order meanwhile waits for it
    instead of asking the bank again. The job deletes the row when it starts asking."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE, related_name="+")
    order = models.OneToOneField(
        "payments.PaymentOrder", on_delete=models.CASCADE, related_name="+"
    )
    bank_order_id = models.CharField(max_length=64)
    requested_at = models.DateTimeField()
    # The bank did not answer this many times before (bounded; see callbacks.UNAVAILABLE_WAITS).
    attempt = models.PositiveSmallIntegerField(default=0)
    # Put off this many times because the connection's pull budget was used up (bounded).
    budget_waits = models.PositiveSmallIntegerField(default=0)


class RateCounter(models.Model):
    """Fixed-window request counters shared by every web process (navbat.kit.ratelimit)."""

    key = models.CharField(max_length=120, unique=True)
    window_start = models.BigIntegerField()  # Unix seconds
    count = models.PositiveIntegerField()


class TransactionState(models.TextChoices):
    """A Merchant API transaction as Uzum Bank's app and we agree on it (uzum-bank.md §2)."""

    CREATED = "CREATED", _("Created")
    CONFIRMED = "CONFIRMED", _("Confirmed")
    REVERSED = "REVERSED", _("Reversed")
    # Not confirmed within the bank's 30 minutes: it can never be confirmed.
    FAILED = "FAILED", _("Failed")


class MerchantTransaction(TenantModel):
    """One ``transId`` the Uzum Bank app created with us. Its state is what we answer the
    app; the payment order behind it carries the money into the books."""

    connection = models.ForeignKey(
        Connection, on_delete=models.PROTECT, related_name="merchant_transactions"
    )
    trans_id = models.UUIDField()
    order = models.OneToOneField(
        "payments.PaymentOrder", on_delete=models.PROTECT, related_name="merchant_transaction"
    )
    state = models.CharField(
        max_length=16, choices=TransactionState.choices, default=TransactionState.CREATED
    )
    amount = models.BigIntegerField()
    params = models.JSONField(default=dict)
    payment_source = models.CharField(max_length=32, blank=True)
    tariff = models.CharField(max_length=64, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    processing_reference = models.CharField(max_length=64, blank=True)
    card_type = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "trans_id"], name="uzum_trans_id_once_per_connection"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.trans_id} {self.state}"
