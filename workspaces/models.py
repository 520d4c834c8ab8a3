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

    email = models.EmailField(_("email"), unique=True)
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
        raise ValidationError(
            _("'%(value)s' is not a known time zone (use an IANA name such as Europe/Berlin)."),
            code="invalid",
            params={"value": value},
        )


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
    # The name this workspace's admin gave the person, shown on its Members page. Not the login's
    # own full_name: a login is shared by workspaces, and showing its name would tell an admin who
    # typed only an address whether (and as whom) it exists elsewhere.
    display_name = models.CharField(max_length=200, blank=True, default="")
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


class AuditAction(models.TextChoices):
    """What the audit trail records, named ``<object type>.<what happened>``. The column is
    plain text, not limited to these: the domain events of later features join the same table
    (issue 12's outbox), and a name an older release no longer knows must still read back."""

    LOGIN = "user.login", _("Logged in")
    LOGIN_LOCKED = "user.login_locked", _("Login locked after failed attempts")
    API_KEY_LOCKED = "api_key.locked", _("API key use locked after failed attempts")
    MEMBER_ADDED = "member.added", _("Member added")
    MEMBER_ROLE_CHANGED = "member.role_changed", _("Member's role changed")
    MEMBER_REMOVED = "member.removed", _("Member removed")
    MEMBER_UNLOCKED = "member.unlocked", _("Member's login unlocked")
    API_KEY_CREATED = "api_key.created", _("API key made")
    API_KEY_REVOKED = "api_key.revoked", _("API key revoked")
    WEBHOOK_CREATED = "webhook.created", _("Webhook added")
    WEBHOOK_DELETED = "webhook.deleted", _("Webhook removed")
    EXPORT_STARTED = "export.started", _("Export started")
    LEAD_MERGED = "lead.merged", _("Leads merged")
    LEAD_ERASED = "lead.erased", _("Lead erased")
    SETTINGS_CHANGED = "workspace.settings_changed", _("Settings changed")
    SCORING_CHANGED = "scoring.changed", _("Scoring rules changed")


class AuditObjectType(models.TextChoices):
    USER = "user", _("Login")
    MEMBER = "member", _("Member")
    API_KEY = "api_key", _("API key")
    WEBHOOK = "webhook", _("Webhook")
    EXPORT = "export", _("Export")
    LEAD = "lead", _("Lead")
    WORKSPACE = "workspace", _("Workspace")


class ActorType(models.TextChoices):
    USER = "user", _("Person")
    API_KEY = "api_key", _("API key")
    SYSTEM = "system", _("System")


class AppendOnlyQuerySet(models.QuerySet):
    """The product's code paths cannot change or remove a row once written. (Deleting a whole
    workspace still takes its trail with it: Django's cascade deletes through the base manager,
    and a tenant that is gone keeps no log.)"""

    def update(self, **kwargs):
        raise TypeError("Audit events are append-only: they cannot be updated.")

    def delete(self):
        raise TypeError("Audit events are append-only: they cannot be deleted.")

    update_or_create = get_or_create = update


class AuditEvent(WorkspaceOwned):
    """One thing someone (or something) did to a workspace: written by the service that made the
    change, in the same transaction (``workspaces.audit.audit_record``), and never changed after.
    Listed on the Audit log page and in the ``audit-events`` change feed.

    Who did it is kept twice: the user or API key (for joins and filters) and ``actor_label``,
    their email or key name at the time, which stays when the login or key is gone. The payload
    says what changed; it holds no personal data of leads (an erasure cannot reach into an
    append-only log)."""

    actor_type = models.CharField(max_length=10, choices=ActorType.choices, default=ActorType.SYSTEM)
    # No index of its own (indexes lead with the workspace): deleting a login, which only a
    # superuser can and which the product never does (people are deactivated), scans the table.
    actor_user = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_key = models.ForeignKey(
        WorkspaceAPIKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=32, blank=True)
    object_id = models.CharField(max_length=150, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=now)
    # Written by a database trigger (sync.triggers, installed by a migration of sync): the
    # change feed's order. Declared here rather than through sync.versioning.ChangeTracked so
    # that this base app imports nothing from the apps above it.
    sync_version = models.BigIntegerField(default=0, db_default=0, editable=False)

    objects = ScopedManager(workspace="workspace", _manager_class=models.Manager.from_queryset(AppendOnlyQuerySet))

    class Meta:
        indexes = [
            # the page: newest first, keyset on (created_at, id), under each filter
            models.Index(fields=["workspace", "created_at", "id"], name="audit_ws_created"),
            models.Index(fields=["workspace", "action", "created_at", "id"], name="audit_ws_action"),
            models.Index(fields=["workspace", "actor_user", "created_at", "id"], name="audit_ws_actor"),
            models.Index(fields=["workspace", "object_type", "created_at", "id"], name="audit_ws_object"),
            # the change feed (sync.versioning.version_index)
            models.Index(fields=["workspace", "sync_version", "id"], name="audit_ws_sync"),
        ]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or self.actor_type}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Audit events are append-only: they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Audit events are append-only: they cannot be deleted.")

    @property
    def action_label(self) -> str:
        try:
            return AuditAction(self.action).label
        except ValueError:
            return self.action

    @property
    def object_type_label(self) -> str:
        try:
            return AuditObjectType(self.object_type).label
        except ValueError:
            return self.object_type
