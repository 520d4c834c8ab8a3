import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workspaces.scoping import WorkspaceOwned

from .versioning import ChangeTracked

# The resources of the API and the CSV import, by their URL and command names.
RESOURCES = ("accounts", "leads", "campaigns", "touches", "opportunities", "contracts", "stage_events")


class Tombstone(WorkspaceOwned, ChangeTracked):
    """A record that left a resource's change feed: deleted (a lead's personal data erased, an
    account removed) or merged into another. Listed in that resource's feed beside its live
    records, so a client syncing changes learns of it."""

    class Kind(models.TextChoices):
        DELETED = "deleted", _("Deleted")
        MERGED = "merged", _("Merged")

    resource = models.CharField(max_length=20, choices=[(r, r) for r in RESOURCES])
    record_id = models.BigIntegerField()
    external_id = models.CharField(max_length=255, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    merged_into_id = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["sync_version", "id"]
        indexes = [models.Index(fields=["workspace", "resource", "sync_version", "id"], name="tombstone_ws_feed")]

    def __str__(self) -> str:
        return f"{self.resource} #{self.record_id} {self.kind}"


class IdempotencyRecord(WorkspaceOwned):
    """The first answer to a write sent with an ``Idempotency-Key`` header, written in the same
    transaction as the write itself: a retry with the same key and body gets this answer back,
    and either both the write and this row exist or neither does."""

    key = models.CharField(max_length=255)
    principal = models.CharField(max_length=80, help_text="api key id or user id: keys are per sender")
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    # JSON as text: PostgreSQL's jsonb refuses \u0000 in a string, and the answer quotes what was sent
    response = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "principal", "key"], name="idempotency_key_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "created_at"], name="idempotency_ws_created")]


class WebhookEvent(models.TextChoices):
    LEAD_HANDED_OFF = "lead.handed_off", _("Lead handed off to sales")
    LEAD_ACCEPTED = "lead.accepted", _("Lead accepted by sales")
    LEAD_REJECTED = "lead.rejected", _("Lead rejected by sales")
    OPPORTUNITY_WON = "opportunity.won", _("Opportunity won")
    CONTRACT_RENEWED = "contract.renewed", _("Contract renewed")
    CONTRACT_CHURNED = "contract.churned", _("Contract churned")


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Webhook(WorkspaceOwned):
    """A URL that receives signed POSTs for the events it subscribed to."""

    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    secret = models.CharField(max_length=80, default=new_webhook_secret)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "active"], name="webhook_ws_active")]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(WorkspaceOwned):
    """One event for one webhook: written in the transaction of the change it reports (an
    outbox), sent after commit by Celery, retried with backoff; one row per (webhook, event id),
    so an event is never delivered twice as two deliveries."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        SUCCEEDED = "succeeded", _("Delivered")
        FAILED = "failed", _("Gave up")

    # Indexed by the unique (workspace, webhook, event_id).
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries", db_index=False)
    event_id = models.UUIDField(default=uuid.uuid4)
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "webhook", "event_id"], name="delivery_once_per_event"),
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "next_attempt_at"], name="delivery_ws_due"),
            models.Index(fields=["workspace", "webhook", "created_at"], name="delivery_ws_webhook"),
        ]


class ImportJob(WorkspaceOwned):
    """A CSV file uploaded in the browser, imported in the background through the same upsert
    code as the bulk API; its progress and per-row report are read by the job's page."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    resource = models.CharField(max_length=20, choices=[(r, r) for r in RESOURCES])
    filename = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict)
    errors = models.JSONField(default=list, help_text="the refused rows: line, fields and messages (the first 1,000)")
    error = models.TextField(blank=True, help_text="why the whole file could not be read")
    # The worker writes the refusals in the language of whoever started the job (docs/i18n.md):
    # a row's messages are made while it is validated, with no request to say whose language.
    language = models.CharField(max_length=10, blank=True, help_text="the starter's language (empty: English)")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="importjob_ws_created")]

    def __str__(self) -> str:
        return f"{self.resource} from {self.filename}"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0
