import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from navbat.kit.tenancy import TenantModel


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who logs in: platform operators and salon staff. Logs in by e-mail."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=150, blank=True)
    preferred_language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default="uz"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.full_name or self.email


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMINISTRATOR = "administrator", _("Administrator")
    SPECIALIST = "specialist", _("Specialist")


class Membership(TenantModel):
    """A user's role in one business. Which specialist a specialist membership is, salons
    say (``salons.Specialist.membership``): accounts know nothing of salons."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "business"], name="one_role_per_business")
        ]

    @property
    def manages(self) -> bool:
        return self.role in (Role.OWNER, Role.ADMINISTRATOR)


def hash_token(raw: str) -> str:
    # surrogatepass: a garbage token with a lone surrogate is a wrong token, not a crash.
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


class ApiToken(TenantModel):
    """A business's key to the JSON API. Only its hash is stored; the token is shown once."""

    name = models.CharField(_("name"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def new_raw_token() -> str:
        return "nbt_" + secrets.token_urlsafe(32)


class PasswordResetRequest(models.Model):
    """One counter of the reset limits, locked while it is read and moved so that two
    simultaneous requests cannot both pass: ``email:<digest>`` (one e-mail per interval per
    address typed; the e-mail only as a digest, most requests name strangers) and
    ``address:<client>`` (so many an hour per client address)."""

    key = models.CharField(max_length=80, unique=True)
    count = models.PositiveIntegerField(default=0)
    window_start = models.DateTimeField(default=timezone.now, db_index=True)
