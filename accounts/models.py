from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sync.versioning import ChangeTracked, version_index
from workspaces.choices import Segment
from workspaces.scoping import WorkspaceOwned


class Account(WorkspaceOwned, ChangeTracked):
    """A B2B company. ``domain`` is stored normalized (see ``accounts.normalize.normalize_domain``)."""

    name = models.CharField(max_length=255)
    domain = models.CharField(max_length=255, blank=True)
    industry = models.CharField(max_length=100, blank=True)
    employee_count = models.PositiveIntegerField(null=True, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2")
    segment = models.CharField(max_length=20, choices=Segment.choices, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "domain"],
                condition=~Q(domain=""),
                name="account_domain_unique",
                violation_error_message="An account with this domain already exists in this workspace.",
            ),
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=~Q(external_id=""),
                name="account_external_id_unique",
                violation_error_message="An account with this external_id already exists in this workspace.",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "name"], name="account_ws_name"),
            models.Index(fields=["workspace", "owner"], name="account_ws_owner"),
            models.Index(fields=["workspace", "updated_at", "id"], name="account_ws_updated"),
            version_index("account"),
        ]

    def __str__(self) -> str:
        return self.name


class TargetList(WorkspaceOwned):
    """An ABM target account list, fixed in advance."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="targetlist_name_unique")]

    def __str__(self) -> str:
        return self.name


class Tier(models.IntegerChoices):
    TIER_1 = 1, _("Tier 1")
    TIER_2 = 2, _("Tier 2")
    TIER_3 = 3, _("Tier 3")


class TargetListMember(WorkspaceOwned):
    # Indexed by the unique (workspace, target_list, account) and by (workspace, account).
    target_list = models.ForeignKey(TargetList, on_delete=models.CASCADE, related_name="members", db_index=False)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="target_memberships", db_index=False)
    tier = models.PositiveSmallIntegerField(choices=Tier.choices, default=Tier.TIER_2)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "target_list", "account"], name="targetlist_member_unique"),
        ]
        indexes = [models.Index(fields=["workspace", "account"], name="targetmember_ws_account")]

    def __str__(self) -> str:
        return f"{self.account} in {self.target_list} (tier {self.tier})"
