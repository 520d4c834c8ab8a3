from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from funnel.moments import validate_plan_date
from sync.versioning import ChangeTracked, version_index
from workspaces.scoping import WorkspaceOwned

from .choices import CampaignType, TouchType


class Channel(WorkspaceOwned):
    """Where traffic came from. Each workspace starts with the defaults of docs/design.md and may add more."""

    slug = models.SlugField(max_length=50, db_index=False)  # unique with the workspace
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["workspace", "slug"], name="channel_slug_unique")]

    def __str__(self) -> str:
        return self.name


class Campaign(WorkspaceOwned, ChangeTracked):
    """A marketing action (the scene of a touch). Amounts are in the workspace's currency.

    Its status is not stored: it follows the dates in the workspace's time zone (planned before
    the start, active until the end, closed after it) unless a marketer closed it early
    (``closed_at``). ``attribution.selectors`` computes it on every read (the ``status`` of
    ``campaigns_with_status``), so the pages, the API, its filter and the exports never show a
    stale one; ``campaign_status`` is the same rule in Python."""

    name = models.CharField(max_length=255)
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="campaigns", db_index=False)
    type = models.CharField(max_length=20, choices=CampaignType.choices)
    start_date = models.DateField(validators=[validate_plan_date])
    end_date = models.DateField(null=True, blank=True, validators=[validate_plan_date])
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    actual_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    utm_source = models.CharField(max_length=255, blank=True)
    utm_medium = models.CharField(max_length=255, blank=True)
    utm_campaign = models.CharField(max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    target_list = models.ForeignKey(
        "accounts.TargetList",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="campaigns",
        db_index=False,
    )
    external_id = models.CharField(max_length=255, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # closed early by a marketer (campaign_close)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="campaign_external_id_unique",
                violation_error_message="A campaign with this external_id already exists in this workspace.",
            ),
            models.CheckConstraint(
                condition=Q(budget__gte=0),
                name="campaign_budget_not_negative",
                violation_error_message="The budget cannot be below zero.",
            ),
            models.CheckConstraint(
                condition=Q(actual_cost__gte=0),
                name="campaign_cost_not_negative",
                violation_error_message="The actual cost cannot be below zero.",
            ),
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="campaign_ends_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "start_date"], name="campaign_ws_start"),
            models.Index(fields=["workspace", "channel"], name="campaign_ws_channel"),
            models.Index(fields=["workspace", "owner"], name="campaign_ws_owner"),
            models.Index(fields=["workspace", "target_list"], name="campaign_ws_target_list"),
            models.Index(fields=["workspace", "updated_at", "id"], name="campaign_ws_updated"),
            version_index("campaign"),
        ]

    def __str__(self) -> str:
        return self.name


class Touch(WorkspaceOwned, ChangeTracked):
    """One interaction of a person with marketing or sales: its scene (campaign) and channel.

    ``account`` is copied from the lead when the touch is recorded, so account-level questions
    (buying committee, ABM penetration) read one table.
    """

    # The touch table is the largest (ten million rows a workspace): no single-column foreign-key
    # indexes, only the composite ones below, which lead with the workspace.
    lead = models.ForeignKey("leads.Lead", on_delete=models.PROTECT, related_name="touches", db_index=False)
    account = models.ForeignKey(
        "accounts.Account",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="touches",
        db_index=False,
    )
    campaign = models.ForeignKey(
        Campaign, null=True, blank=True, on_delete=models.PROTECT, related_name="touches", db_index=False
    )
    channel = models.ForeignKey(Channel, on_delete=models.PROTECT, related_name="touches", db_index=False)
    type = models.CharField(max_length=20, choices=TouchType.choices)
    occurred_at = models.DateTimeField()
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("touch")
        verbose_name_plural = _("touches")
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""), name="touch_external_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "lead", "occurred_at", "id"], name="touch_ws_lead_time"),
            models.Index(fields=["workspace", "account", "occurred_at"], name="touch_ws_account_time"),
            models.Index(fields=["workspace", "campaign", "occurred_at"], name="touch_ws_campaign_time"),
            version_index("touch"),
        ]

    def __str__(self) -> str:
        # What the admin's lists already show of a touch, no person: callers that list touches
        # select_related the campaign and the channel (one of them is named).
        scene = self.campaign if self.campaign_id else self.channel
        return f"{self.get_type_display()} · {scene} · {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"
