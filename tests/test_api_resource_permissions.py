"""Which actions each resource's writes need (``workspaces.permissions.RESOURCE_WRITE_ACTIONS``
and ``RECORD_WRITE_ACTIONS``), tested cell by cell over the API with bodies that do real work:
every role and key scope, every resource's kinds of write (single create, PATCH, bulk, delete),
and a stage event into a sales stage apart from one into a marketing stage. An allowed write
is done; a refused one is 403 (or, in a batch, the record's own error naming the permission)
and writes nothing. Sales' work needs WORK_LEADS on every door, and history imports need
IMPORT_DATA as well (issue 9, item 1)."""

import datetime as dt
from dataclasses import dataclass

import pytest

from funnel.models import Opportunity, StageEvent
from funnel.services import lead_stage_move, opportunity_create
from leads.models import Lead
from workspaces.models import APIKeyScope, Role
from workspaces.permissions import (
    KEY_SCOPE_ACTIONS,
    RESOURCE_WRITE_ACTIONS,
    ROLE_ACTIONS,
    SALES_STAGES,
    Action,
    ordered,
    record_write_actions,
    write_actions,
)
from workspaces.scoping import workspace_scope

from .api_helpers import API, T0, key_client, seed_workspace, session_client
from .factories import LeadFactory

PRINCIPALS = [("role", role) for role in Role.values] + [("key", scope) for scope in APIKeyScope.values]


def _at(days: float) -> str:
    return (T0 + dt.timedelta(days=days)).isoformat()


@dataclass(frozen=True)
class Write:
    resource: str  # as in the permission table
    kind: str  # create, update, bulk, delete
    method: str
    path: str  # {id}: the row written to
    body: dict | None
    done: int  # the status of the allowed write
    label: str = ""

    @property
    def url_name(self) -> str:
        return self.resource.replace("_", "-")

    @property
    def record(self) -> dict | None:
        if self.body is None:
            return None
        return self.body["records"][0] if self.kind == "bulk" else self.body

    def needs(self) -> frozenset[Action]:
        return write_actions(self.resource, self.kind) | record_write_actions(self.resource, self.record)

    def __str__(self) -> str:
        return f"{self.resource}:{self.kind}{':' + self.label if self.label else ''}"


NEW_ACCOUNT = {"external_id": "ACC-NEW", "name": "Newco", "domain": "newco.example"}
NEW_LEAD = {"external_id": "LEAD-NEW", "email": "new@newco.example"}
NEW_CAMPAIGN = {
    "external_id": "CMP-NEW",
    "name": "New",
    "channel": "email",
    "type": "email",
    "start_date": "2026-01-01",
}
NEW_TOUCH = {
    "external_id": "TCH-NEW",
    "lead_external_id": "FRESH",
    "channel": "email",
    "type": "email_click",
    "occurred_at": _at(1),
}
NEW_DEAL = {
    "external_id": "OPP-NEW",
    "name": "New deal",
    "account_external_id": "ACC-1",
    "lead_external_id": "FRESH",
    "amount": "500.00",
    "created_at": _at(2),
}
INTO_MQL = {"lead_external_id": "FRESH", "stage": "mql", "entered_at": _at(1)}
INTO_SAL = {"lead_external_id": "FRESH", "stage": "sal", "entered_at": _at(1)}


def _writes() -> list[Write]:
    writes = []
    for resource, new, change in (
        ("accounts", NEW_ACCOUNT, {"name": "Renamed"}),
        ("leads", NEW_LEAD, {"title": "CTO"}),
        ("campaigns", NEW_CAMPAIGN, {"name": "Renamed"}),
        ("touches", NEW_TOUCH, {"type": "web_visit"}),
    ):
        url = resource
        writes += [
            Write(resource, "create", "post", f"{API}/{url}/", new, 201),
            Write(resource, "update", "patch", f"{API}/{url}/{{id}}/", change, 200),
            Write(resource, "bulk", "post", f"{API}/{url}/bulk/", {"records": [new]}, 200),
        ]
        if resource != "touches":
            writes.append(Write(resource, "delete", "delete", f"{API}/{url}/{{id}}/", None, 204))
    writes += [
        Write("opportunities", "create", "post", f"{API}/opportunities/", NEW_DEAL, 201),
        # the issue's own example: PATCH a deal to won
        Write(
            "opportunities",
            "update",
            "patch",
            f"{API}/opportunities/{{id}}/",
            {"stage": "won", "closed_at": _at(5)},
            200,
        ),
        Write("opportunities", "bulk", "post", f"{API}/opportunities/bulk/", {"records": [NEW_DEAL]}, 200),
        Write("stage_events", "create", "post", f"{API}/stage-events/", INTO_MQL, 201, "mql"),
        Write("stage_events", "create", "post", f"{API}/stage-events/", INTO_SAL, 201, "sal"),
        Write("stage_events", "bulk", "post", f"{API}/stage-events/bulk/", {"records": [INTO_MQL]}, 200, "mql"),
        Write("stage_events", "bulk", "post", f"{API}/stage-events/bulk/", {"records": [INTO_SAL]}, 200, "sal"),
    ]
    return writes


WRITES = _writes()


@pytest.fixture
def seeded(workspace):
    """The API helpers' workspace, plus FRESH (captured, nothing since) and an open deal."""
    seeded = seed_workspace(workspace)
    with workspace_scope(workspace):
        LeadFactory(workspace=workspace, email="fresh@acme.test", external_id="FRESH", entered_at=T0)
        opener = LeadFactory(workspace=workspace, email="open@acme.test", entered_at=T0)
        lead_stage_move(workspace=workspace, lead=opener, to_stage="sal", entered_at=T0 + dt.timedelta(days=1))
        deal = opportunity_create(
            workspace=workspace,
            account=Lead.objects.get(external_id="LEAD-1").account,
            primary_lead=opener,
            name="Open deal",
            amount=900,
            created_at=T0 + dt.timedelta(days=2),
            external_id="OPP-OPEN",
        )
    seeded.ids["opportunities"] = deal.pk
    return seeded


def _client(workspace, member_factory, kind: str, who: str):
    if kind == "role":
        return session_client(member_factory(workspace, role=who, email=f"{who}@acme.test"))
    return key_client(workspace, scope=who)


def _footprint(workspace) -> tuple:
    """What a write would change: the ledger, the deals' stages, and every resource's rows."""
    from accounts.models import Account
    from attribution.models import Campaign, Touch

    with workspace_scope(workspace):
        return (
            StageEvent.objects.count(),
            sorted(Opportunity.objects.values_list("external_id", "stage")),
            sorted(Lead.objects.values_list("id", "stage", "title", "erased_at")),
            sorted(Account.objects.values_list("id", "name")),
            sorted(Campaign.objects.values_list("id", "name")),
            sorted(Touch.objects.values_list("id", "type")),
        )


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p[0]}:{p[1]}")
@pytest.mark.parametrize("write", WRITES, ids=str)
def test_each_write_of_each_resource_for_each_role_and_key(workspace, member_factory, seeded, write, principal):
    kind, who = principal
    granted = ROLE_ACTIONS[who] if kind == "role" else KEY_SCOPE_ACTIONS[who]
    # the endpoint's own actions are asked first (before the body is read), then the record's
    base, own = write_actions(write.resource, write.kind), write.needs() - write_actions(write.resource, write.kind)
    missing = [action for actions in (base, own) for action in ordered(actions) if action not in granted]
    client = _client(workspace, member_factory, kind, who)
    target = (seeded.spare if write.kind == "delete" else seeded.ids)[write.url_name]
    before = _footprint(workspace)
    send = getattr(client, write.method)
    url = write.path.replace("{id}", str(target))
    response = send(url, write.body, format="json") if write.body is not None else send(url)

    own_rule = write.kind == "bulk" and missing and missing[0] not in base
    if not missing:
        assert response.status_code == write.done, response.content
        if write.kind == "bulk":
            assert response.json()["results"][0]["status"] == "created", response.content
        assert _footprint(workspace) != before
    elif own_rule:  # a batch the caller may send, holding a record they may not write
        assert response.status_code == 200, response.content
        (result,) = response.json()["results"]
        assert result["status"] == "error"
        assert result["errors"] == {
            "stage": [f"{_who(kind, who)} may not {missing[0].label} (permission {missing[0].value})."]
        }
        assert _footprint(workspace) == before
    else:
        assert response.status_code == 403, response.content
        assert f"may not {missing[0].label}" in response.json()["detail"]
        assert _footprint(workspace) == before


def _who(kind: str, who: str) -> str:
    if kind == "role":
        return f"Your role ({Role(who).label})"
    return f"This API key ({APIKeyScope(who).label})"


def test_a_batch_writes_the_records_the_caller_may_and_refuses_the_others(workspace, member_factory, seeded):
    client = _client(workspace, member_factory, "role", "marketer")
    history = [INTO_MQL, {"lead_external_id": "FRESH", "stage": "sal", "entered_at": _at(2)}]
    response = client.post(f"{API}/stage-events/bulk/", {"records": history}, format="json")
    assert [r["status"] for r in response.json()["results"]] == ["created", "error"]
    assert "permission work_leads" in response.json()["results"][1]["errors"]["stage"][0]
    with workspace_scope(workspace):
        assert Lead.objects.get(external_id="FRESH").stage == "mql"


# --- the table itself, against the rules (independently of how it is written) ---------


SALES = {"admin", "manager", "read_write"}  # who holds WORK_LEADS and IMPORT_DATA


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p[0]}:{p[1]}")
def test_only_who_works_leads_and_imports_may_write_deals_and_sales_history(principal):
    kind, who = principal
    granted = ROLE_ACTIONS[who] if kind == "role" else KEY_SCOPE_ACTIONS[who]
    for write in WRITES:
        allowed = write.needs() <= granted
        if write.resource == "opportunities" or write.label == "sal":
            assert allowed == (who in SALES), write
        elif write.resource == "stage_events":
            assert allowed == (who in SALES | {"marketer"}), write  # a marketing stage: an import


PLANNERS = {"admin", "manager", "marketer", "read_write"}  # who holds MANAGE_CAMPAIGNS (issue 11)


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p[0]}:{p[1]}")
def test_only_who_manages_campaigns_may_write_campaigns(principal):
    """A sales rep edits records but may not create, change, import or delete a campaign."""
    kind, who = principal
    granted = ROLE_ACTIONS[who] if kind == "role" else KEY_SCOPE_ACTIONS[who]
    campaign_writes = [write for write in WRITES if write.resource == "campaigns"]
    assert {write.kind for write in campaign_writes} == {"create", "update", "bulk", "delete"}
    for write in campaign_writes:
        assert Action.MANAGE_CAMPAIGNS in write.needs(), write
        if write.kind in ("create", "update"):
            assert (write.needs() <= granted) == (who in PLANNERS), write
    for kind_of_write in ("create", "update", "bulk", "delete"):
        assert Action.MANAGE_CAMPAIGNS in write_actions("target_lists", kind_of_write)


def test_every_writable_resource_has_its_row_and_every_sales_stage_is_guarded():
    from funnel.stages import EXIT_STAGES, FUNNEL_STAGES
    from sync.resources import RESOURCES

    assert {name for name, r in RESOURCES.items() if r.upsert is not None} <= set(RESOURCE_WRITE_ACTIONS)
    assert set(FUNNEL_STAGES[FUNNEL_STAGES.index("sal") :]) <= SALES_STAGES
    assert {"rejected", "lost", "churned"} <= SALES_STAGES <= set(FUNNEL_STAGES) | set(EXIT_STAGES)
    for kind in ("create", "update", "bulk"):
        assert Action.WORK_LEADS in write_actions("opportunities", kind)
        assert Action.IMPORT_DATA in write_actions("opportunities", kind)
    for kind in ("create", "bulk"):
        assert Action.IMPORT_DATA in write_actions("stage_events", kind)
    for stage in SALES_STAGES:
        assert record_write_actions("stage_events", {"stage": f" {stage} "}) == {Action.WORK_LEADS}
    for stage in ("touched", "lead", "mql", "recycled", "disqualified"):
        assert record_write_actions("stage_events", {"stage": stage}) == frozenset()
