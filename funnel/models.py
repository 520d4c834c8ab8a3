from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sync.versioning import ChangeTracked, version_index
from workspaces.scoping import WorkspaceOwned

from .stages import ContractStatus, EventSource, LostReason, OpportunityKind, OpportunityStage, Stage


class Opportunity(WorkspaceOwned, ChangeTracked):
    """A deal. ``stage`` moves only through ``funnel.services``; closing it writes the ledger."""

    account = models.ForeignKey(
        "accounts.Account", on_delete=models.PROTECT, related_name="opportunities", db_index=False
    )
    primary_lead = models.ForeignKey(
        "leads.Lead", on_delete=models.PROTECT, related_name="opportunities", db_index=False
    )
    name = models.CharField(max_length=255)
    amount = models.DecimalField(max_digits=14, decimal_places=2)
    kind = models.CharField(max_length=20, choices=OpportunityKind.choices, default=OpportunityKind.NEW_BUSINESS)
    stage = models.CharField(max_length=20, choices=OpportunityStage.choices, default=OpportunityStage.QUALIFICATION)
    created_at = models.DateTimeField(default=timezone.now)
    expected_close_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=20, choices=LostReason.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    external_id = models.CharField(max_length=255, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "opportunities"
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""), name="opportunity_external_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(amount__gte=0),
                name="opportunity_amount_not_negative",
                violation_error_message="The amount cannot be below zero.",
            ),
            models.CheckConstraint(
                condition=Q(stage__in=["won", "lost"], closed_at__isnull=False)
                | (~Q(stage__in=["won", "lost"]) & Q(closed_at__isnull=True)),
                name="opportunity_closed_iff_won_or_lost",
            ),
            models.CheckConstraint(
                condition=Q(stage="lost") | Q(lost_reason=""), name="opportunity_lost_reason_only_when_lost"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "stage", "created_at"], name="opp_ws_stage"),
            models.Index(fields=["workspace", "account"], name="opp_ws_account"),
            models.Index(fields=["workspace", "primary_lead"], name="opp_ws_lead"),
            models.Index(fields=["workspace", "owner"], name="opp_ws_owner"),
            models.Index(fields=["workspace", "updated_at", "id"], name="opp_ws_updated"),
            version_index("opp"),
        ]

    def __str__(self) -> str:
        return self.name


class Contract(WorkspaceOwned, ChangeTracked):
    """The paid step: what a won opportunity bought, and the contract it renews."""

    account = models.ForeignKey("accounts.Account", on_delete=models.PROTECT, related_name="contracts", db_index=False)
    opportunity = models.OneToOneField(
        Opportunity, null=True, blank=True, on_delete=models.PROTECT, related_name="contract"
    )
    start_date = models.DateField()
    end_date = models.DateField()
    annual_value = models.DecimalField(max_digits=14, decimal_places=2)
    status = models.CharField(max_length=20, choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    renews = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="renewed_by")
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""), name="contract_external_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(annual_value__gte=0),
                name="contract_value_not_negative",
                violation_error_message="The annual value cannot be below zero.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=F("start_date")),
                name="contract_ends_after_start",
                violation_error_message="A contract must end after it starts.",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "end_date"], name="contract_ws_end"),
            models.Index(fields=["workspace", "account"], name="contract_ws_account"),
            models.Index(fields=["workspace", "updated_at", "id"], name="contract_ws_updated"),
            version_index("contract"),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.start_date}–{self.end_date}"


class AppendOnlyError(Exception):
    pass


class StageEvent(WorkspaceOwned, ChangeTracked):
    """One entry of a lead into a stage: the append-only ledger.

    Rows are never edited or deleted (merging two leads moves the loser's rows to the survivor
    with a queryset update, recorded in the merge's audit row), so conversion and velocity can
    always be recomputed from here.
    """

    # Millions of rows: only composite indexes that lead with the workspace (see Meta).
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="stage_events", db_index=False)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stage_events",
        db_index=False,
    )
    opportunity = models.ForeignKey(
        Opportunity, null=True, blank=True, on_delete=models.PROTECT, related_name="stage_events", db_index=False
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    from_stage = models.CharField(max_length=20, choices=Stage.choices, blank=True)
    entered_at = models.DateTimeField()
    source = models.CharField(max_length=10, choices=EventSource.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    reason = models.CharField(max_length=32, blank=True)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["entered_at", "id"]
        indexes = [
            models.Index(fields=["workspace", "lead", "entered_at", "id"], name="stageevent_ws_lead_time"),
            models.Index(fields=["workspace", "entered_at"], name="stageevent_ws_time"),
            models.Index(
                fields=["workspace", "opportunity"],
                condition=models.Q(opportunity__isnull=False),
                name="stageevent_ws_opportunity",
            ),
            version_index("stageevent"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} → {self.stage} at {self.entered_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Stage events are append-only; write a new event instead of editing one.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Stage events are append-only and cannot be deleted.")


class Snapshot(WorkspaceOwned):
    """One complete result of the engine for a workspace, written in one transaction.

    ``arrays`` is a NumPy ``.npz``: per lead, the first entry into every funnel stage and the
    breakdown keys; the exit events; the contracts; attribution credit per day, channel,
    campaign, model and level. Any date range and breakdown is answered from it (cached in the
    process by snapshot id) without rereading the raw tables.
    """

    class Status(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    progress_stage = models.CharField(max_length=50, blank=True)
    progress_percent = models.PositiveSmallIntegerField(default=0)
    parameters = models.JSONField(default=dict)
    row_counts = models.JSONField(default=dict)
    timings = models.JSONField(default=dict)
    source_marks = models.JSONField(default=dict)
    duration_seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    labels = models.JSONField(default=dict)
    summary = models.JSONField(default=dict)
    arrays = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["workspace", "status", "finished_at"], name="snapshot_ws_status")]

    def __str__(self) -> str:
        return f"snapshot {self.pk} ({self.status})"


class RecomputeState(WorkspaceOwned):
    """Who is recomputing a workspace now. A run holds it by setting ``running_since`` with a
    conditional update (atomic on every database); a request that finds it held sets
    ``pending`` and is folded into the running one, which runs once more before it lets go. A
    run whose heartbeat is older than a few minutes was killed, and may be taken over."""

    running_since = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    pending = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="recompute_state_one_per_workspace")]
