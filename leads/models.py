import re

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funnel.stages import Stage
from sync.versioning import ChangeTracked, version_index
from workspaces.choices import Seniority
from workspaces.scoping import WorkspaceOwned

# A lead still a person of the workspace (leads.selectors.live_leads): the lead list's rows.
LIVE = Q(erased_at__isnull=True, merged_into__isnull=True)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


class Lead(WorkspaceOwned, ChangeTracked):
    """The person record that moves through the funnel.

    ``stage`` is the current stage; it changes only through ``funnel.services`` which also
    appends the ``StageEvent``. ``email`` is stored normalized (``leads.normalize``) and is
    empty only for a person whose personal data was erased (``erased_at``). ``captured_at`` is
    the first entry into stage ``lead`` (empty for a person reached but never captured), kept
    by the stage services. A lead merged into another stays as a tombstone (``merged_into``)
    so its external id and email still lead to the survivor.
    """

    email = models.CharField(max_length=254, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    seniority = models.CharField(max_length=20, choices=Seniority.choices, blank=True)
    department = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    # Indexed by the composites in Meta, which lead with the workspace.
    account = models.ForeignKey(
        "accounts.Account", null=True, blank=True, on_delete=models.PROTECT, related_name="leads", db_index=False
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    stage = models.CharField(max_length=20, choices=Stage.choices)
    stage_entered_at = models.DateTimeField()
    score = models.IntegerField(default=0)
    captured_at = models.DateTimeField(null=True, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_leads", db_index=False
    )
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The person's earliest touch, kept by the touch services (``leads_first_touch_refresh``) so
    # the lead list filters by first-touch campaign and channel without reading the touches.
    first_touch_at = models.DateTimeField(null=True, blank=True, editable=False)
    first_touch_campaign = models.ForeignKey(
        "attribution.Campaign",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    first_touch_channel = models.ForeignKey(
        "attribution.Channel",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "email"],
                condition=~Q(email=""),
                name="lead_email_unique",
                violation_error_message="A lead with this email already exists in this workspace (merge the two).",
            ),
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="lead_external_id_unique",
                violation_error_message="A lead with this external_id already exists in this workspace.",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "stage", "stage_entered_at"], name="lead_ws_stage"),
            models.Index(fields=["workspace", "account"], name="lead_ws_account"),
            models.Index(fields=["workspace", "owner", "stage"], name="lead_ws_owner_stage"),
            models.Index(fields=["workspace", "updated_at", "id"], name="lead_ws_updated"),
            # The lead list's sorts and filters (workspaces/listing.py: keyset pages end in the
            # id), partial on the live leads the list shows, so its capped count is an
            # index-only scan; its prefix search has PostgreSQL-only pattern indexes (0007).
            models.Index(fields=["workspace", "created_at", "id"], name="lead_ws_created", condition=LIVE),
            models.Index(fields=["workspace", "score", "id"], name="lead_ws_score", condition=LIVE),
            models.Index(fields=["workspace", "last_name", "first_name", "id"], name="lead_ws_name", condition=LIVE),
            models.Index(
                fields=["workspace", "stage", "created_at", "id"], name="lead_ws_stage_created", condition=LIVE
            ),
            models.Index(fields=["workspace", "stage", "score", "id"], name="lead_ws_stage_score", condition=LIVE),
            models.Index(
                fields=["workspace", "first_touch_campaign", "created_at", "id"],
                name="lead_ws_ft_campaign",
                condition=LIVE,
            ),
            version_index("lead"),
        ]

    def __str__(self) -> str:
        return self.email or f"lead #{self.pk}"

    @property
    def full_name(self) -> str:
        # A Chinese, Japanese or Korean name is written family name first, with no space (王伟).
        if _CJK.search(self.first_name + self.last_name):
            return f"{self.last_name}{self.first_name}"
        return f"{self.first_name} {self.last_name}".strip()


class LeadMerge(WorkspaceOwned):
    """The audit row of a merge: the ledger rows, touches and opportunities of the loser moved
    to the survivor (the one sanctioned change to ledger rows), recorded here with what moved."""

    survivor = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="merges_won", db_index=False)
    loser = models.ForeignKey(Lead, on_delete=models.PROTECT, related_name="merges_lost", db_index=False)
    loser_email = models.CharField(max_length=254, blank=True)
    loser_external_id = models.CharField(max_length=255, blank=True)
    moved = models.JSONField(default=dict, help_text="how many touches, stage events and opportunities moved")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    source = models.CharField(max_length=10)
    merged_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-merged_at", "-id"]
        indexes = [models.Index(fields=["workspace", "survivor"], name="leadmerge_ws_survivor")]
        constraints = [models.UniqueConstraint(fields=["workspace", "loser"], name="leadmerge_loser_once")]

    def __str__(self) -> str:
        return f"{self.loser_email or self.loser_id} into {self.survivor_id}"


class ScoringRule(WorkspaceOwned):
    """One rule of the workspace's lead score (``leads.scoring`` has the maths): points for a fit
    (the lead's seniority; its account's segment, industry, employee range or country) or for
    each touch of a type in the engagement window, decayed by ``half_life_days`` when set.
    Edited on the scoring page (``leads.scoring_services.scoring_rules_save``)."""

    class Kind(models.TextChoices):
        SENIORITY = "seniority", _("Seniority")
        SEGMENT = "segment", _("Segment")
        INDUSTRY = "industry", _("Industry")
        EMPLOYEES = "employees", _("Employees")
        COUNTRY = "country", _("Country")
        TOUCH = "touch", _("Touch")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # the seniority, segment, industry, country code or touch type; empty for an employee range
    value = models.CharField(max_length=100, blank=True)
    min_employees = models.PositiveIntegerField(null=True, blank=True)
    max_employees = models.PositiveIntegerField(null=True, blank=True)
    points = models.IntegerField(validators=[MinValueValidator(-100), MaxValueValidator(100)])
    half_life_days = models.PositiveIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])

    class Meta:
        ordering = ["kind", "value", "min_employees", "id"]
        indexes = [models.Index(fields=["workspace", "kind"], name="scoringrule_ws_kind")]

    def __str__(self) -> str:
        return f"{self.kind} {self.value or self.min_employees}: {self.points}"


class RescoreJob(WorkspaceOwned):
    """A whole-workspace rescore after the scoring rules changed, run in the background; its
    progress is read by the scoring page. ``previous_threshold`` is the MQL threshold before the
    change: a lead qualifies when it was under that and reaches the new one."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    previous_threshold = models.PositiveIntegerField()
    leads_total = models.PositiveIntegerField(default=0)
    leads_done = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    qualified = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "created_at"], name="rescorejob_ws_created")]

    def __str__(self) -> str:
        return f"rescore {self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return int(100 * self.leads_done / self.leads_total) if self.leads_total else 0
