"""The resources of the API and of the CSV import and export, by name: for each, its spec, its
model, the rows it lists (live records only) and the columns read for them, and the services
that upsert and delete it. The API viewsets, ``import_csv`` and the browser's import and export
all read this one table."""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.interchange import ACCOUNT_VALUES, ACCOUNTS
from accounts.models import Account
from accounts.services import account_delete, accounts_upsert
from attribution.interchange import CAMPAIGN_VALUES, CAMPAIGNS, TOUCH_VALUES, TOUCHES
from attribution.models import Campaign, Touch
from attribution.selectors import scoped_campaigns
from attribution.services import campaign_delete, campaigns_upsert, touches_upsert
from funnel.interchange import (
    CONTRACT_VALUES,
    CONTRACTS,
    OPPORTUNITIES,
    OPPORTUNITY_VALUES,
    STAGE_EVENT_VALUES,
    STAGE_EVENTS,
)
from funnel.models import Contract, Opportunity, StageEvent
from funnel.services import opportunities_upsert, stage_events_upsert
from leads.interchange import LEAD_VALUES, LEADS
from leads.models import Lead
from leads.selectors import live_leads
from leads.services import lead_erase, leads_upsert
from sync.audit_events import AUDIT_EVENT_VALUES, AUDIT_EVENTS
from sync.interchange import Spec
from workspaces.models import AuditEvent
from workspaces.permissions import Action


@dataclass(frozen=True)
class Resource:
    name: str  # as in URLs (stage-events) and commands (stage_events)
    url: str
    spec: Spec
    model: type
    values: tuple[str, ...]  # the columns read for output, in spec.output_names order
    rows: Callable[[], QuerySet]
    upsert: Callable | None  # None: read only
    delete: Callable | None = None  # a service taking (workspace=, record=, actor=)
    label: str = "record"
    delete_help: str = ""
    read_action: Action = Action.VIEW_WORKSPACE  # who may list and export it (with EXPORT_DATA for a browser export)

    def output_names(self) -> tuple[str, ...]:
        return self.spec.output_names


RESOURCES: dict[str, Resource] = {
    r.name: r
    for r in (
        Resource(
            "accounts",
            "accounts",
            ACCOUNTS,
            Account,
            ACCOUNT_VALUES,
            lambda: Account.objects.all(),
            accounts_upsert,
            lambda *, workspace, record, actor=None: account_delete(workspace=workspace, account=record),
            "account",
            "Deletes an account nothing refers to any more (409 while it has leads, touches, deals or contracts); "
            "the change feed shows a tombstone.",
        ),
        Resource(
            "leads",
            "leads",
            LEADS,
            Lead,
            LEAD_VALUES,
            live_leads,
            leads_upsert,
            lambda *, workspace, record, actor=None: lead_erase(workspace=workspace, lead=record, actor=actor),
            "lead",
            "Erases the person's personal data (email, names, phone): they leave every list and the change feed "
            "shows a tombstone; their touches and stage history stay, so history and metrics stay right.",
        ),
        Resource(
            "campaigns",
            "campaigns",
            CAMPAIGNS,
            Campaign,
            CAMPAIGN_VALUES,
            scoped_campaigns,  # with the status their dates give today
            campaigns_upsert,
            lambda *, workspace, record, actor=None: campaign_delete(workspace=workspace, campaign=record),
            "campaign",
            "Deletes a campaign no touch names (409 otherwise: it is part of the attribution history).",
        ),
        Resource(
            "touches",
            "touches",
            TOUCHES,
            Touch,
            TOUCH_VALUES,
            lambda: Touch.objects.all(),
            touches_upsert,
            None,
            "touch",
        ),
        Resource(
            "opportunities",
            "opportunities",
            OPPORTUNITIES,
            Opportunity,
            OPPORTUNITY_VALUES,
            lambda: Opportunity.objects.all(),
            opportunities_upsert,
            None,
            "opportunity",
        ),
        Resource(
            "contracts",
            "contracts",
            CONTRACTS,
            Contract,
            CONTRACT_VALUES,
            lambda: Contract.objects.all(),
            None,
            None,
            "contract",
        ),
        Resource(
            "stage_events",
            "stage-events",
            STAGE_EVENTS,
            StageEvent,
            STAGE_EVENT_VALUES,
            lambda: StageEvent.objects.all(),
            stage_events_upsert,
            None,
            "stage event",
        ),
        Resource(
            "audit_events",
            "audit-events",
            AUDIT_EVENTS,
            AuditEvent,
            AUDIT_EVENT_VALUES,
            lambda: AuditEvent.objects.all(),
            None,
            None,
            "audit event",
            read_action=Action.VIEW_AUDIT_LOG,
        ),
    )
}

IMPORTABLE = tuple(name for name, r in RESOURCES.items() if r.upsert is not None)
