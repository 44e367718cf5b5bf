"""The sandbox bank's own state: terminals, orders, operations, Merchant API services,
app transactions and callbacks with their delivery attempts.

The sandbox plays Uzum Bank; it shares navbat's database but none of its tables, and it
imports nothing of navbat but ``kit``.
"""

import secrets
import uuid

from django.db import models

from navbat.kit.crypto import EncryptedTextField


class PayType(models.TextChoices):
    ONE_STEP = "ONE_STEP"
    TWO_STEP = "TWO_STEP"


class OrderStatus(models.TextChoices):
    REGISTERED = "REGISTERED"
    AUTHORIZED = "AUTHORIZED"
    COMPLETED = "COMPLETED"
    REFUNDED = "REFUNDED"
    REVERSED = "REVERSED"
    DECLINED = "DECLINED"


class OperationType(models.TextChoices):
    AUTHORIZE = "AUTHORIZE"
    COMPLETE = "COMPLETE"
    REFUND = "REFUND"
    REVERSE = "REVERSE"


class OperationState(models.TextChoices):
    IN_PROGRESS = "IN_PROGRESS"
    SUCCESS = "SUCCESS"
    FAIL = "FAIL"


def new_api_key() -> str:
    return secrets.token_hex(32)


class Terminal(models.Model):
    """A Checkout terminal: what Uzum's manager sets up for a merchant."""

    terminal_id = models.UUIDField(unique=True, default=uuid.uuid4)
    # Who may see and change the terminal (navbat.kit.sandbox_tokens); "" is nobody's.
    owner = models.CharField(max_length=64, blank=True, db_index=True)
    api_key = EncryptedTextField(default=new_api_key)
    merchant_name = models.CharField(max_length=150, default="Sandbox merchant")
    pay_types = models.JSONField(default=list)  # allowed PayType values
    auto_fiscal = models.BooleanField(default=False)
    # Refuse localhost / private successUrl and failureUrl with 2000, as Uzum's test host does
    # (off: accepted and the order marked, so the embedded demo runs on 127.0.0.1).
    strict_urls = models.BooleanField(default=False)
    payment_callback_url = models.URLField(max_length=2083, blank=True)
    event_callback_url = models.URLField(max_length=2083, blank=True)
    receipt_callback_url = models.URLField(max_length=2083, blank=True)
    # Fault switches, see uzum_sandbox/faults.py for the keys.
    faults = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.merchant_name} ({self.terminal_id})"


class Order(models.Model):
    order_id = models.UUIDField(unique=True, default=uuid.uuid4)
    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="orders")
    order_number = models.CharField(max_length=36)
    client_id = models.CharField(max_length=100, blank=True)
    amount = models.BigIntegerField()
    currency = models.PositiveIntegerField(default=860)
    payment_details = models.CharField(max_length=1024, blank=True)
    view_type = models.CharField(max_length=16, default="REDIRECT")
    success_url = models.URLField(max_length=2083, blank=True)
    failure_url = models.URLField(max_length=2083, blank=True)
    # successUrl or failureUrl is not public: the real bank would have refused the order.
    private_urls = models.BooleanField(default=False)
    language = models.CharField(max_length=8, default="ru-RU")
    pay_type = models.CharField(max_length=16, choices=PayType.choices, default=PayType.ONE_STEP)
    force3ds = models.BooleanField(default=False)
    session_timeout_secs = models.PositiveIntegerField(default=1800)
    expires_at = models.DateTimeField()
    cart = models.JSONField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=OrderStatus.choices, default=OrderStatus.REGISTERED
    )
    completed_amount = models.BigIntegerField(default=0)
    refunded_amount = models.BigIntegerField(default=0)
    reversed_amount = models.BigIntegerField(default=0)
    authorized_amount = models.BigIntegerField(default=0)
    ips = models.CharField(max_length=32, blank=True)  # card scheme, e.g. UZCARD
    card_type = models.PositiveSmallIntegerField(null=True, blank=True)  # 1 corporate, 2 personal
    masked_pan = models.CharField(max_length=19, blank=True)
    action_code = models.PositiveIntegerField(null=True, blank=True)
    approval_code = models.CharField(max_length=6, blank=True)
    # A card that waits for its 3-D Secure code between the two pages of the hosted form.
    pending_card = models.CharField(max_length=19, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["terminal", "order_number"], name="sandbox_order_number"
            ),
        ]


class Operation(models.Model):
    operation_id = models.UUIDField(unique=True, default=uuid.uuid4)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="operations")
    operation_type = models.CharField(max_length=16, choices=OperationType.choices)
    state = models.CharField(max_length=16, choices=OperationState.choices)
    amount = models.BigIntegerField(default=0)
    rrn = models.CharField(max_length=12, blank=True)
    merchant_operation_id = models.CharField(max_length=64, blank=True)
    action_code_description = models.CharField(max_length=200, blank=True)
    start_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["start_at", "id"]


class IdempotentCall(models.Model):
    """An X-Operation-Id seen on a money-moving call: the same key answers the same way."""

    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="+")
    operation_key = models.CharField(max_length=64)
    endpoint = models.CharField(max_length=64)
    body_hash = models.CharField(max_length=64)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["terminal", "operation_key"], name="sandbox_op_key"),
        ]


class MerchantService(models.Model):
    """A Merchant API service: the Uzum Bank app calls the merchant's endpoints for it."""

    service_id = models.PositiveIntegerField(unique=True)
    # Who may see and change the service; the app pays only through owned services.
    owner = models.CharField(max_length=64, blank=True, db_index=True)
    login = models.CharField(max_length=64)
    password = EncryptedTextField()
    merchant_name = models.CharField(max_length=150, default="Sandbox merchant")
    merchant_base_url = models.URLField(max_length=2083)
    attribute_name = models.CharField(max_length=32, default="order")
    faults = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class AppTransactionStatus(models.TextChoices):
    CREATING = "CREATING"
    CREATED = "CREATED"
    CONFIRMED = "CONFIRMED"
    REVERSED = "REVERSED"
    FAILED = "FAILED"


class AppTransaction(models.Model):
    """A payment a test customer made in the sandbox's Uzum Bank app."""

    trans_id = models.UUIDField(unique=True, default=uuid.uuid4)
    service = models.ForeignKey(MerchantService, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict)
    amount = models.BigIntegerField(default=0)
    payment_source = models.CharField(max_length=32, blank=True)
    tariff = models.CharField(max_length=16, blank=True)
    phone = models.CharField(max_length=20, default="998901234567")
    status = models.CharField(
        max_length=16, choices=AppTransactionStatus.choices, default=AppTransactionStatus.CREATING
    )
    # Every call to the merchant and its answer, for the dashboard.
    exchange = models.JSONField(default=list)
    # Who opened the link (navbat.kit.net.client_ip): openings are limited per address.
    client_address = models.CharField(max_length=45, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["client_address", "created_at"], name="sandbox_app_opened_by"),
            models.Index(fields=["service", "created_at"], name="sandbox_app_opened_for"),
        ]


class CallbackKind(models.TextChoices):
    PAYMENT = "payment"
    EVENT = "event"
    RECEIPT = "receipt"


class Callback(models.Model):
    """A callback the bank owes a merchant; resent until HTTP 200, at most 5 times."""

    terminal = models.ForeignKey(Terminal, on_delete=models.CASCADE, related_name="callbacks")
    kind = models.CharField(max_length=16, choices=CallbackKind.choices)
    url = models.URLField(max_length=2083)
    body = models.JSONField()
    delivered = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Faults: "drop" never sends; "hold" waits until released (reordering).
    held = models.BooleanField(default=False)
    dropped = models.BooleanField(default=False)
    # Its URL was outside the allowed destinations when it was due: never sent.
    refused = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class CallbackAttempt(models.Model):
    callback = models.ForeignKey(Callback, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "id"]


class TokenGeneration(models.Model):
    """An owner's sandbox token generation: bumping it revokes the owner's tokens
    (navbat.kit.sandbox_tokens). An owner without a row is at generation 0."""

    owner = models.CharField(max_length=64, unique=True)
    generation = models.PositiveIntegerField(default=0)
    rotated_at = models.DateTimeField(auto_now=True)
