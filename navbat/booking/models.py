from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from navbat.kit.money import MAX_AMOUNT_TIYIN, percent_of
from navbat.kit.tenancy import TenantModel


class Status(models.TextChoices):
    BOOKED = "booked", _("Booked")
    CONFIRMED = "confirmed", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    COMPLETED = "completed", _("Completed")
    NO_SHOW = "no_show", _("No-show")
    CANCELLED = "cancelled", _("Cancelled")


# Appointments in these states do not occupy the specialist's time.
FREEING_STATUSES = (Status.CANCELLED, Status.NO_SHOW)


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
        ]
        indexes = [
            models.Index(fields=["business", "specialist", "starts_at"]),
            # The API list's order within a business, whatever the length of its history.
            models.Index(fields=["business", "starts_at", "id"], name="appointment_business_start"),
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
