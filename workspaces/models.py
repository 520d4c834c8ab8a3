import zoneinfo

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.timezone import now
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager

from .scoping import WorkspaceOwned


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def get_by_natural_key(self, username: str):
        # Emails are stored lower-cased, so a login typed in any case finds its user (and the
        # lookup still uses the unique index).
        return self.get(email=self.normalize_email(username or "").strip().lower())

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in, by email. What they may do is decided per workspace (Membership)."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=now)
    # a code of settings.LANGUAGES (the profile form offers them); empty: follow the browser
    language = models.CharField(max_length=10, blank=True, default="")

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    def __str__(self) -> str:
        return self.email


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"'{value}' is not a known time zone (use an IANA name such as Europe/Berlin).")


class Workspace(models.Model):
    """A tenant: one company using the product. All its amounts are in its currency."""

    slug = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3,
        default="USD",
        validators=[RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code such as USD or EUR.")],
    )
    timezone = models.CharField(max_length=64, default="UTC", validators=[validate_timezone])
    sla_hours = models.PositiveIntegerField(default=24, validators=[MinValueValidator(1)])
    reassign_when_overdue = models.BooleanField(default=False)
    mql_threshold = models.PositiveIntegerField(default=50)
    attribution_lookback_days = models.PositiveIntegerField(default=365, help_text="0 means no limit.")
    time_decay_half_life_days = models.PositiveIntegerField(default=7, validators=[MinValueValidator(1)])
    recompute_interval_minutes = models.PositiveIntegerField(default=15, validators=[MinValueValidator(1)])
    renewal_lead_days = models.PositiveIntegerField(default=90)
    engagement_window_days = models.PositiveIntegerField(default=90, validators=[MinValueValidator(1)])
    mqa_threshold = models.PositiveIntegerField(default=60)
    created_at = models.DateTimeField(default=now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    MARKETER = "marketer", _("Marketer")
    SALES_REP = "sales_rep", _("Sales rep")


class Membership(WorkspaceOwned):
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", db_index=False
    )  # (user, workspace)
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "user"], name="membership_one_per_user"),
        ]
        indexes = [models.Index(fields=["user", "workspace"], name="membership_user_ws")]

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class APIKeyScope(models.TextChoices):
    READ = "read", _("Read only")
    READ_WRITE = "read_write", _("Read and write")


class WorkspaceAPIKeyManager(BaseAPIKeyManager):
    """Unscoped on purpose: a key is looked up by its prefix before anyone knows its workspace
    (the key then names the workspace). Everything else uses the scoped ``objects``."""


class WorkspaceAPIKey(WorkspaceOwned, AbstractAPIKey):
    """An API key of one workspace, shown once and stored hashed (djangorestframework-api-key);
    sent as ``Authorization: Bearer <key>``. What it may do is its scope's row in
    ``workspaces.permissions``."""

    scope = models.CharField(max_length=20, choices=APIKeyScope.choices, default=APIKeyScope.READ)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = ScopedManager(workspace="workspace")
    keys = WorkspaceAPIKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "API key"
        verbose_name_plural = "API keys"
        indexes = [models.Index(fields=["workspace", "created"], name="apikey_ws_created")]
