from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from navbat.kit.money import MAX_AMOUNT_TIYIN, percent_of
from navbat.kit.tenancy import TenantModel


class Status(models.TextChoices):
    # Booked online with a required prepayment: holds the time until ``hold_until``.
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting prepayment")
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


# Appointments in these states do not occupy the specialist's time.
FREEING_STATUSES = (Status.CANCELLED, Status.NO_SHOW)


class Source(models.TextChoices):
    DESK = "desk", _("At the desk")
    ONLINE = "online", _("Online booking")
    API = "api", _("API")


class Appointment(TenantModel):
    location = models.ForeignKey("salons.Location", on_delete=models.PROTECT, related_name="+")
    specialist = models.ForeignKey(
        "salons.Specialist", on_delete=models.PROTECT, related_name="appointments"
    )
    client = models.ForeignKey(
        "salons.Client", on_delete=models.PROTECT, related_name="appointments"
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.BOOKED
    )
    # Kept so the booking constraint can index "occupies time" without a function.
    occupies_time = models.BooleanField(default=True)
    comment = models.TextField(_("comment"), blank=True, max_length=2000)
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.DESK
    )
    # Online booking (F6): what is asked in advance (tiyin; 0 = nothing) and whether the
    # booking waits for it; an AWAITING_PAYMENT appointment holds its time until
    # ``hold_until`` and no longer (availability ignores it after that, the hold job
    # cancels it).
    prepayment = models.BigIntegerField(default=0)
    prepayment_required = models.BooleanField(default=False)
    hold_until = models.DateTimeField(null=True, blank=True)
    total = models.BigIntegerField(default=0)
    document = models.OneToOneField(
        "finance.SaleDocument", on_delete=models.PROTECT, related_name="appointment"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")), name="appointment_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(total__gte=0) & models.Q(total__lte=MAX_AMOUNT_TIYIN),
                name="appointment_total_in_range",
            ),
            models.CheckConstraint(
                condition=models.Q(prepayment__gte=0) & models.Q(prepayment__lte=models.F("total")),
                name="appointment_prepayment_in_range",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="awaiting_payment") | models.Q(hold_until__isnull=False),
                name="appointment_awaiting_has_hold",
            ),
        ]
        indexes = [
            models.Index(fields=["business", "specialist", "starts_at"]),
            # The API list's order within a business, whatever the length of its history.
            models.Index(fields=["business", "starts_at", "id"], name="appointment_business_start"),
            # The hold job's scan: only appointments awaiting a prepayment are in it.
            models.Index(
                fields=["hold_until"],
                condition=models.Q(status="awaiting_payment"),
                name="appointment_holds",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.starts_at:%Y-%m-%d %H:%M}"


class LineKind(models.TextChoices):
    SERVICE = "service", _("Service")
    PRODUCT = "product", _("Product")


class AppointmentLine(TenantModel):
    """A service or product on an appointment, priced at the time it was added."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="lines")
    kind = models.CharField(max_length=8, choices=LineKind.choices)
    service = models.ForeignKey(
        "salons.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        "salons.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    title = models.CharField(max_length=150)
    unit_price = models.BigIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(MAX_AMOUNT_TIYIN)]
    )
    quantity = models.PositiveIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(999)]
    )
    discount_percent = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(100)]
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind="service", service__isnull=False, product__isnull=True)
                    | models.Q(kind="product", product__isnull=False, service__isnull=True)
                ),
                name="line_names_one_item",
            ),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="line_price_gte_0"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__lte=100), name="line_discount_le_100"
            ),
        ]

    @property
    def gross(self) -> int:
        return self.unit_price * self.quantity

    @property
    def discount(self) -> int:
        return percent_of(self.gross, self.discount_percent)

    @property
    def amount(self) -> int:
        return self.gross - self.discount


class RefundPolicy(models.TextChoices):
    """What a client who cancels their own online booking gets back (F6)."""

    NEVER = "never", _("Never")
    ALWAYS = "always", _("Always")
    BEFORE = "before", _("Up to a number of hours before the visit")


class BookingSettings(TenantModel):
    """A location's online booking widget (F6): whether it is on and its rules."""

    location = models.OneToOneField(
        "salons.Location", on_delete=models.CASCADE, related_name="booking_settings"
    )
    enabled = models.BooleanField(_("online booking on"), default=False)
    slot_step_minutes = models.PositiveSmallIntegerField(
        _("slot step, minutes"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(120)],
    )
    min_notice_minutes = models.PositiveIntegerField(
        _("minimum notice, minutes"), default=60, validators=[MaxValueValidator(14 * 24 * 60)]
    )
    horizon_days = models.PositiveSmallIntegerField(
        _("booking horizon, days"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
    )
    buffer_minutes = models.PositiveSmallIntegerField(
        _("buffer after appointments, minutes"), default=0, validators=[MaxValueValidator(240)]
    )
    hold_minutes = models.PositiveSmallIntegerField(
        _("hold time for a prepayment, minutes"),
        default=15,
        validators=[MinValueValidator(5), MaxValueValidator(24 * 60)],
    )
    change_cutoff_hours = models.PositiveSmallIntegerField(
        _("clients may cancel or move up to, hours before"),
        default=24,
        validators=[MaxValueValidator(30 * 24)],
    )
    phone_confirmation = models.BooleanField(_("confirm the phone with a code"), default=False)
    terms = models.TextField(_("terms of the salon"), blank=True, max_length=5000)
    refund_policy = models.CharField(
        _("refund when a client cancels"),
        max_length=8,
        choices=RefundPolicy.choices,
        default=RefundPolicy.BEFORE,
    )
    refund_before_hours = models.PositiveSmallIntegerField(
        _("refund up to, hours before the visit"),
        default=24,
        validators=[MaxValueValidator(30 * 24)],
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("online booking settings")
        verbose_name_plural = _("online booking settings")


class CancelledBy(models.TextChoices):
    CLIENT = "client", _("The client")
    SALON = "salon", _("The salon")
    HOLD_ENDED = "hold_ended", _("Not prepaid in time")


class LatePayment(models.TextChoices):
    """What became of a prepayment that arrived after its hold had ended."""

    REINSTATED = "reinstated", _("Booked again: the time was still free")
    REFUNDING = "refunding", _("Refunded automatically: the time was taken")
    TO_GIVE_BACK = "to_give_back", _("To give back: the time was taken")


class OnlineBooking(TenantModel):
    """What an online booking adds to its appointment: the client's private page and what
    happened to it (F6)."""

    appointment = models.OneToOneField(Appointment, on_delete=models.CASCADE, related_name="online")
    # The private link of the client's booking page (about 256 random bits).
    manage_token = models.CharField(max_length=64, unique=True)
    language = models.CharField(max_length=8, default="uz")
    terms_accepted_at = models.DateTimeField(null=True, blank=True)
    phone_confirmed = models.BooleanField(default=False)
    cancelled_by = models.CharField(max_length=12, choices=CancelledBy.choices, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    late_payment = models.CharField(max_length=16, choices=LatePayment.choices, blank=True)
    # What a cancellation decided to give back (tiyin), and what was left to the salon.
    refund_decided = models.BigIntegerField(default=0)
    # Under a "up to N hours before" policy: the last moment a client's cancellation gives
    # the money back, fixed when booked and never later after a move (moving a visit ahead
    # must not reopen a refund window that had closed).
    refund_until = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class PhoneCheck(TenantModel):
    """A code that proves a client holds the phone they book with (where the salon asks).
    Until navbat sends messages (F9) the code is shown to the salon, which reads it out."""

    location = models.ForeignKey("salons.Location", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=20)
    code = models.CharField(max_length=8)
    # The browser that asked: a code proves the phone only to the page that asked for it.
    nonce = models.CharField(max_length=64, unique=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["business", "phone", "created_at"])]
