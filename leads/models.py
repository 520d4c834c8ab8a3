from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from funnel.stages import Stage
from workspaces.choices import Seniority
from workspaces.scoping import WorkspaceOwned


class Lead(WorkspaceOwned):
    """The person record that moves through the funnel.

    ``stage`` is the current stage; it changes only through ``funnel.services`` which also
    appends the ``StageEvent``. ``email`` is stored normalized (``leads.normalize``) and is
    empty only for a person whose personal data was erased.
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
    external_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["workspace", "email"], condition=~Q(email=""), name="lead_email_unique"),
            models.UniqueConstraint(
                fields=["workspace", "external_id"], condition=~Q(external_id=""), name="lead_external_id_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "stage", "stage_entered_at"], name="lead_ws_stage"),
            models.Index(fields=["workspace", "account"], name="lead_ws_account"),
            models.Index(fields=["workspace", "owner", "stage"], name="lead_ws_owner_stage"),
            models.Index(fields=["workspace", "updated_at", "id"], name="lead_ws_updated"),
        ]

    def __str__(self) -> str:
        return self.email or f"lead #{self.pk}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
