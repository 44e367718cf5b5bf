import secrets

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from navbat.kit.money import MAX_AMOUNT_TIYIN
from navbat.kit.tenancy import TenantModel

ikpu_validator = RegexValidator(r"^\d{17}$", _("An IKPU (MXIK) code is exactly 17 digits."))
package_code_validator = RegexValidator(r"^\d{1,20}$", _("A package code is up to 20 digits."))
amount_validators = [MinValueValidator(0), MaxValueValidator(MAX_AMOUNT_TIYIN)]


class Business(models.Model):
    """A salon or a chain of salons: the tenant every other row belongs to."""

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Tashkent")
    # How long "Pay by QR" leads a checkout point to one appointment's payment (F5).
    qr_pay_minutes = models.PositiveSmallIntegerField(
        _("minutes a checkout QR waits for one payment"), default=15
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("business")
        verbose_name_plural = _("businesses")

    def __str__(self) -> str:
        return self.name


class Location(TenantModel):
    name = models.CharField(_("name"), max_length=150)
    address = models.CharField(_("address"), max_length=300, blank=True)
    timezone = models.CharField(_("time zone"), max_length=64, default="Asia/Tashkent")
    # {"0": ["09:00", "21:00"], ... "6": null}: weekday (Monday = 0) → opening and closing time.
    opening_hours = models.JSONField(_("opening hours"), default=dict, blank=True)
    # The location's public name in addresses: <public root>/book/<public_slug>/ and the
    # public booking API. Unique over the platform: the address names no business.
    public_slug = models.SlugField(_("public address"), max_length=60, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.public_slug:
            self.public_slug = free_public_slug(self.business.slug, self.name)
        super().save(*args, **kwargs)


def free_public_slug(business_slug: str, name: str) -> str:
    """A readable public address for a new location, made unique with a random tail."""
    base = slugify(f"{business_slug}-{name}")[:48].strip("-") or "salon"
    slug = base
    while Location.objects.filter(public_slug=slug).exists():
        slug = f"{base}-{secrets.token_hex(3)}"
    return slug


class CheckoutPoint(TenantModel):
    """A till at a location, and the place a QR code for payments is printed for (F5)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="checkout_points")
    name = models.CharField(_("name"), max_length=100)
    # A retired point keeps its history; its printed codes say they are no longer in use.
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["location_id", "name", "id"]

    def __str__(self) -> str:
        return self.name


class CheckoutPointCode(TenantModel):
    """What a printed QR of a checkout point holds: ``<public root>/q/<code>``. A point has
    one code in use; a regenerated or retired one is kept so that old prints can say they
    are no longer in use rather than "not found"."""

    point = models.ForeignKey(CheckoutPoint, on_delete=models.CASCADE, related_name="codes")
    # Unguessable (about 128 random bits), opened before the business is known.
    code = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["point"],
                condition=models.Q(retired_at__isnull=True),
                name="one_code_in_use_per_point",
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Prepayment(models.TextChoices):
    """Whether an online booking asks for money in advance (F6)."""

    NONE = "none", _("No prepayment")
    OPTIONAL = "optional", _("Optional")
    REQUIRED = "required", _("Required")


class PrepaymentAmount(models.TextChoices):
    FULL = "full", _("The full price")
    PERCENT = "percent", _("A percent of the price")
    FIXED = "fixed", _("A fixed amount")


class ServiceCategory(TenantModel):
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name_plural = _("service categories")

    def __str__(self) -> str:
        return self.name


class FiscalFields(models.Model):
    """What an automatic fiscal receipt needs for a line (IKPU, package code, VAT)."""

    ikpu_code = models.CharField(
        _("IKPU code"), max_length=17, blank=True, validators=[ikpu_validator]
    )
    package_code = models.CharField(
        _("package code"), max_length=20, blank=True, validators=[package_code_validator]
    )
    vat_percent = models.PositiveSmallIntegerField(
        _("VAT, %"), default=0, validators=[MaxValueValidator(100)]
    )

    class Meta:
        abstract = True


class Service(TenantModel, FiscalFields):
    category = models.ForeignKey(
        ServiceCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="services"
    )
    name = models.CharField(_("name"), max_length=150)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    # A fixed price has price_max == price; a range ("from … to …") is priced per visit.
    price = models.BigIntegerField(_("price"), validators=amount_validators)
    price_max = models.BigIntegerField(
        _("price up to"), null=True, blank=True, validators=amount_validators
    )
    duration_minutes = models.PositiveIntegerField(
        _("duration, minutes"), validators=[MinValueValidator(5), MaxValueValidator(24 * 60)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    # Online booking (F6): what a client booking this service online pays in advance.
    # ``prepayment_value`` is a percent (1–100) or an amount in tiyin, after the kind.
    prepayment = models.CharField(
        _("prepayment online"), max_length=8, choices=Prepayment.choices, default=Prepayment.NONE
    )
    prepayment_amount = models.CharField(
        _("prepayment amount"),
        max_length=8,
        choices=PrepaymentAmount.choices,
        default=PrepaymentAmount.FULL,
    )
    prepayment_value = models.BigIntegerField(
        _("percent or amount"), default=0, validators=amount_validators
    )
    bookable_online = models.BooleanField(_("bookable online"), default=True)

    class Meta:
        ordering = ["category__position", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="service_price_gte_0"),
            models.CheckConstraint(
                condition=models.Q(price_max__isnull=True)
                | models.Q(price_max__gte=models.F("price")),
                name="service_price_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Product(TenantModel, FiscalFields):
    name = models.CharField(_("name"), max_length=150)
    price = models.BigIntegerField(_("price"), validators=amount_validators)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(price__gte=0), name="product_price_gte_0"),
        ]

    def __str__(self) -> str:
        return self.name


class Specialist(TenantModel):
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="specialists")
    name = models.CharField(_("name"), max_length=150)
    position = models.CharField(_("position"), max_length=100, blank=True)
    services = models.ManyToManyField(Service, blank=True, related_name="specialists")
    is_active = models.BooleanField(_("active"), default=True)
    sort_order = models.PositiveIntegerField(default=0)
    # Online booking (F6): "required" asks the services' whole price (a range's lowest).
    prepayment = models.CharField(
        _("prepayment online"), max_length=8, choices=Prepayment.choices, default=Prepayment.NONE
    )
    bookable_online = models.BooleanField(_("bookable online"), default=True)
    # A small square JPEG (resized on upload, at most PHOTO_MAX_BYTES), served by a view:
    # bounded storage in the database, nothing on a disk the web processes must share.
    photo = models.BinaryField(null=True, blank=True, editable=False)
    photo_updated_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The login of the person who is this specialist (a specialist membership of the same
    # business): they see their own appointments. The link lives here, not on the
    # membership, because salons sit above accounts (docs/ARCHITECTURE.md).
    membership = models.OneToOneField(
        "accounts.Membership",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="specialist",
    )

    class Meta:
        ordering = ["sort_order", "name", "id"]

    def __str__(self) -> str:
        return self.name


class WorkingHours(TenantModel):
    """One weekday's shift of a specialist's regular week."""

    specialist = models.ForeignKey(Specialist, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(validators=[MaxValueValidator(6)])  # Monday = 0
    starts = models.TimeField()
    ends = models.TimeField()

    class Meta:
        ordering = ["weekday", "starts"]
        constraints = [
            models.UniqueConstraint(fields=["specialist", "weekday"], name="one_shift_per_weekday"),
            models.CheckConstraint(
                condition=models.Q(ends__gt=models.F("starts")), name="shift_ordered"
            ),
        ]


class ScheduleException(TenantModel):
    """A day that differs from the regular week: a day off, or other hours."""

    specialist = models.ForeignKey(Specialist, on_delete=models.CASCADE, related_name="exceptions")
    day = models.DateField(_("day"))
    is_day_off = models.BooleanField(_("day off"), default=True)
    starts = models.TimeField(null=True, blank=True)
    ends = models.TimeField(null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["day"]
        constraints = [
            models.UniqueConstraint(fields=["specialist", "day"], name="one_exception_per_day"),
        ]


class Client(TenantModel):
    name = models.CharField(_("name"), max_length=150)
    phone = models.CharField(_("phone"), max_length=20)  # E.164
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_language = models.CharField(
        _("language"),
        max_length=8,
        choices=[("uz", "O'zbekcha"), ("ru", "Русский"), ("en", "English")],
        default="uz",
    )
    notes = models.TextField(_("notes"), blank=True, max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["business", "phone"], name="client_phone_unique_per_business"
            ),
        ]

    def __str__(self) -> str:
        return self.name
