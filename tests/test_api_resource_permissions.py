"""Which actions each resource's writes need (``workspaces.permissions.RESOURCE_WRITE_ACTIONS``,
``RECORD_WRITE_ACTIONS`` and ``HISTORY_ACTIONS``), tested cell by cell over the API with bodies
that do real work: every role and key scope, every resource's kinds of write (single create,
PATCH, bulk, delete), a stage event into a sales stage apart from one into a marketing stage, and
the moves only the history rules take (past stages never recorded, an entry dated before the
lead's latest) apart from live ones. An allowed write is done; a refused one is 403 (or, in a
batch, the record's own error naming the permission) and writes nothing. Sales' work needs
WORK_LEADS on every door (issue 9, item 1); a bulk write is an import (IMPORT_DATA); a single
write of the history resources by someone who may not import history is a live move: a move
the live table refuses is a 400 naming the import permission, and a sales rep accepts leads and
wins deals as before (the audit of items 1 and 12).

The workspace, its members and keys are built once for the module; each test's writes are
rolled back with it."""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.db import transaction
from django.test import override_settings
from rest_framework.test import APIClient

from funnel.models import Opportunity, StageEvent
from funnel.services import lead_stage_move, opportunity_create
from leads.models import Lead
from workspaces.models import APIKeyScope, Role
from workspaces.permissions import (
    HISTORY_ACTIONS,
    KEY_SCOPE_ACTIONS,
    RESOURCE_WRITE_ACTIONS,
    ROLE_ACTIONS,
    SALES_STAGES,
    Action,
    history_granted,
    ordered,
    record_write_actions,
    write_actions,
)
from workspaces.scoping import workspace_scope

from .api_helpers import API, T0, bearer, make_key, seed_workspace, session_client
from .factories import LeadFactory, MembershipFactory, WorkspaceFactory

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
    history_only: bool = False  # only the history rules take it: a live move is refused
    target: str = ""  # the row written to, when not the resource's seeded one

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
DEAL = {"name": "New deal", "account_external_id": "ACC-1", "amount": "500.00", "created_at": _at(3)}
# ACCEPTED is at sal: opening its deal is a live move. FRESH is at lead: opening one skips stages.
LIVE_DEAL = DEAL | {"external_id": "OPP-LIVE", "lead_external_id": "ACCEPTED"}
SKIPPING_DEAL = DEAL | {"external_id": "OPP-NEW", "lead_external_id": "FRESH"}
INTO_MQL = {"lead_external_id": "FRESH", "stage": "mql", "entered_at": _at(1)}
INTO_SAL = {"lead_external_id": "FRESH", "stage": "sal", "entered_at": _at(1)}
# lead -> rejected: a history may skip mql; the live table may not
SKIPPING_REJECTION = {"lead_external_id": "FRESH", "stage": "rejected", "reason": "timing", "entered_at": _at(1)}
# OPENER went lead (day 0), sal (day 1), opportunity (day 2): an mql at half a day fits in its
# history, but comes before its latest entry
BACKDATED_MQL = {"lead_external_id": "OPENER", "stage": "mql", "entered_at": _at(0.5)}


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
    deal = f"{API}/opportunities/{{id}}/"
    events = f"{API}/stage-events/"
    writes += [
        Write("opportunities", "create", "post", f"{API}/opportunities/", LIVE_DEAL, 201, "live"),
        Write("opportunities", "create", "post", f"{API}/opportunities/", SKIPPING_DEAL, 201, "skip", True),
        Write("opportunities", "update", "patch", deal, {"name": "Renamed deal", "amount": "950.00"}, 200, "rename"),
        # the issue's own example: PATCH a deal to won
        Write("opportunities", "update", "patch", deal, {"stage": "won", "closed_at": _at(5)}, 200, "won"),
        Write("opportunities", "update", "patch", deal, {"stage": "lost", "lost_reason": "price"}, 200, "lost"),
        Write("opportunities", "bulk", "post", f"{API}/opportunities/bulk/", {"records": [LIVE_DEAL]}, 200),
        Write("stage_events", "create", "post", events, INTO_MQL, 201, "mql"),
        Write("stage_events", "create", "post", events, INTO_SAL, 201, "sal"),
        Write("stage_events", "create", "post", events, SKIPPING_REJECTION, 201, "skip", True),
        Write("stage_events", "create", "post", events, BACKDATED_MQL, 201, "backdated", True),
        Write("stage_events", "bulk", "post", f"{events}bulk/", {"records": [INTO_MQL]}, 200, "mql"),
        Write("stage_events", "bulk", "post", f"{events}bulk/", {"records": [INTO_SAL]}, 200, "sal"),
    ]
    return writes


WRITES = _writes()


@dataclass
class World:
    workspace: object
    ids: dict[str, int]  # the row each resource's PATCH writes to
    spare: dict[str, int]  # rows nothing refers to, so their DELETE can succeed
    members: dict[str, object]
    sessions: dict[str, str]  # the session cookie of each role's member, logged in once
    secrets: dict[str, str]  # the key of each scope
    footprint: tuple  # as every test finds it (each one's writes are rolled back)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The API helpers' workspace, plus FRESH (captured, nothing since), ACCEPTED (at sal),
    OPENER (at opportunity, its deal open), a member of each role and a key of each scope."""
    with django_db_blocker.unblock(), transaction.atomic():
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
            workspace = WorkspaceFactory(slug="matrix", name="Matrix")
            members = {
                role: MembershipFactory(workspace=workspace, role=role, email=f"{role}@acme.test") for role in Role
            }
        seeded = seed_workspace(workspace)
        with workspace_scope(workspace):
            LeadFactory(workspace=workspace, email="fresh@acme.test", external_id="FRESH", entered_at=T0)
            accepted = LeadFactory(workspace=workspace, email="sal@acme.test", external_id="ACCEPTED", entered_at=T0)
            lead_stage_move(workspace=workspace, lead=accepted, to_stage="sal", entered_at=T0 + dt.timedelta(days=1))
            opener = LeadFactory(workspace=workspace, email="open@acme.test", external_id="OPENER", entered_at=T0)
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
        secrets = {scope: make_key(workspace, scope)[1] for scope in APIKeyScope}
        sessions = {role: _logged_in(member) for role, member in members.items()}
        ids = seeded.ids | {"opportunities": deal.pk}
        yield World(workspace, ids, seeded.spare, members, sessions, secrets, _footprint(workspace))
        transaction.set_rollback(True)


@pytest.fixture
def ws(world, db):
    return world


def _logged_in(membership) -> str:
    return session_client(membership).cookies[settings.SESSION_COOKIE_NAME].value


def _client(world: World, kind: str, who: str):
    """A member's browser session naming the workspace (as ``session_client``), or a key's."""
    if kind == "key":
        return bearer(world.secrets[who])
    client = APIClient()
    client.cookies[settings.SESSION_COOKIE_NAME] = world.sessions[who]
    client.credentials(HTTP_X_WORKSPACE=world.workspace.slug)
    return client


def _granted(kind: str, who: str) -> frozenset[Action]:
    return ROLE_ACTIONS[who] if kind == "role" else KEY_SCOPE_ACTIONS[who]


def _who(kind: str, who: str) -> str:
    if kind == "role":
        return f"Your role ({Role(who).label})"
    return f"This API key ({APIKeyScope(who).label})"


def _footprint(workspace) -> tuple:
    """What a write would change: the ledger, the deals, and every resource's rows."""
    from accounts.models import Account
    from attribution.models import Campaign, Touch

    with workspace_scope(workspace):
        return (
            sorted(StageEvent.objects.values_list("lead_id", "stage", "entered_at")),
            sorted(Opportunity.objects.values_list("external_id", "stage", "name", "amount")),
            sorted(Lead.objects.values_list("id", "stage", "title", "erased_at")),
            sorted(Account.objects.values_list("id", "name")),
            sorted(Campaign.objects.values_list("id", "name")),
            sorted(Touch.objects.values_list("id", "type")),
        )


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p[0]}:{p[1]}")
@pytest.mark.parametrize("write", WRITES, ids=str)
def test_each_write_of_each_resource_for_each_role_and_key(ws, write, principal):
    kind, who = principal
    granted = _granted(kind, who)
    # the endpoint's own actions are asked first (before the body is read), then the record's
    base, own = write_actions(write.resource, write.kind), write.needs() - write_actions(write.resource, write.kind)
    missing = [action for actions in (base, own) for action in ordered(actions) if action not in granted]
    live = history_granted(write.resource, granted) is False
    target = (ws.spare if write.kind == "delete" else ws.ids)[write.url_name]
    before = ws.footprint
    send = getattr(_client(ws, kind, who), write.method)
    url = write.path.replace("{id}", str(target))
    response = send(url, write.body, format="json") if write.body is not None else send(url)

    own_rule = write.kind == "bulk" and missing and missing[0] not in base
    if not missing and not (live and write.history_only):
        assert response.status_code == write.done, response.content
        if write.kind == "bulk":
            assert response.json()["results"][0]["status"] == "created", response.content
        assert _footprint(ws.workspace) != before
    elif not missing:  # a live move the history rules alone would take
        assert response.status_code == 400, response.content
        (message,) = response.json()["stage"]
        assert "live move" in message or "live transition table refused" in message, message
        assert message.endswith("needs the permission import_data."), message
        assert _footprint(ws.workspace) == before
    elif own_rule:  # a batch the caller may send, holding a record they may not write
        assert response.status_code == 200, response.content
        (result,) = response.json()["results"]
        assert result["status"] == "error"
        assert result["errors"] == {
            "stage": [f"{_who(kind, who)} may not {missing[0].label} (permission {missing[0].value})."]
        }
        assert _footprint(ws.workspace) == before
    else:
        assert response.status_code == 403, response.content
        assert f"may not {missing[0].label}" in response.json()["detail"]
        assert _footprint(ws.workspace) == before


# --- what a sales rep's writes do (the audit: reps could do no sales work at all) -------------


def _events(workspace, external_id: str) -> list[tuple]:
    with workspace_scope(workspace):
        return list(
            StageEvent.objects.filter(lead__external_id=external_id)
            .order_by("entered_at", "id")
            .values_list("stage", "from_stage", "entered_at", "source")
        )


def test_a_rep_accepts_a_lead_over_the_api_as_a_live_move(ws):
    rep = _client(ws, "role", "sales_rep")
    response = rep.post(f"{API}/stage-events/", INTO_SAL, format="json")
    assert response.status_code == 201, response.content
    assert _events(ws.workspace, "FRESH")[-1] == ("sal", "lead", T0 + dt.timedelta(days=1), "api")
    with workspace_scope(ws.workspace):
        assert Lead.objects.get(external_id="FRESH").stage == "sal"


def test_a_reps_move_the_live_table_refuses_names_the_import_permission(ws):
    rep = _client(ws, "role", "sales_rep")
    response = rep.post(f"{API}/stage-events/", SKIPPING_REJECTION, format="json")
    assert response.status_code == 400, response.content
    assert response.json() == {
        "stage": [
            "Cannot move lead from 'lead' to 'rejected'. Allowed from 'lead': disqualified, mql, sal. "
            "The live transition table refused this move. Importing history (forward past stages never "
            "recorded, or dated before the lead's latest entry) needs the permission import_data."
        ]
    }
    deal = rep.post(f"{API}/opportunities/", SKIPPING_DEAL, format="json")
    assert deal.status_code == 400, deal.content
    assert deal.json()["stage"][0].startswith("Cannot move lead from 'lead' to 'opportunity'.")
    assert deal.json()["stage"][0].endswith("needs the permission import_data.")


def test_a_reps_move_no_rule_takes_is_refused_without_pointing_at_the_import_permission(ws):
    """Out of a terminal exit: an import would refuse it too, so the message offers no way."""
    rep = _client(ws, "role", "sales_rep")
    out = {"lead_external_id": "FRESH", "stage": "disqualified", "entered_at": _at(1)}
    assert rep.post(f"{API}/stage-events/", out, format="json").status_code == 201
    back = rep.post(f"{API}/stage-events/", out | {"stage": "mql", "entered_at": _at(2)}, format="json")
    assert back.status_code == 400, back.content
    (message,) = back.json()["stage"]
    assert message.endswith("The live transition table refused this move."), message


def test_a_reps_entry_may_be_dated_at_but_not_before_the_leads_latest_entry(ws):
    rep = _client(ws, "role", "sales_rep")
    early = rep.post(
        f"{API}/stage-events/", INTO_SAL | {"lead_external_id": "OPENER", "entered_at": _at(1.5)}, format="json"
    )
    assert early.status_code == 400, early.content
    (message,) = early.json()["stage"]
    assert message.startswith(f"The lead's latest entry is into 'opportunity' at {_at(2)}; a live move cannot"), message
    assert message.endswith("needs the permission import_data."), message
    # ACCEPTED entered sal at day 1: rejected at that same instant is appended after it
    same_time = {"lead_external_id": "ACCEPTED", "stage": "rejected", "reason": "timing", "entered_at": _at(1)}
    assert rep.post(f"{API}/stage-events/", same_time, format="json").status_code == 201
    assert [row[:2] for row in _events(ws.workspace, "ACCEPTED")][-2:] == [
        ("rejected", "sal"),
        ("recycled", "rejected"),
    ]


def test_a_rep_renames_and_wins_a_deal_and_opens_one_for_an_accepted_lead(ws):
    rep = _client(ws, "role", "sales_rep")
    url = f"{API}/opportunities/{ws.ids['opportunities']}/"
    renamed = rep.patch(url, {"name": "Bigger deal", "amount": "1900.00"}, format="json")
    assert renamed.status_code == 200, renamed.content
    assert (renamed.json()["name"], renamed.json()["stage"]) == ("Bigger deal", "qualification")
    won = rep.patch(url, {"stage": "won", "closed_at": _at(5)}, format="json")
    assert won.status_code == 200, won.content
    assert won.json()["stage"] == "won"
    assert _events(ws.workspace, "OPENER")[-1][:2] == ("won", "opportunity")
    opened = rep.post(f"{API}/opportunities/", LIVE_DEAL, format="json")
    assert opened.status_code == 201, opened.content
    assert _events(ws.workspace, "ACCEPTED")[-1][:2] == ("opportunity", "sal")


def test_a_reps_bulk_writes_are_imports_and_refused(ws):
    rep = _client(ws, "role", "sales_rep")
    for resource, record in (("stage-events", INTO_SAL), ("opportunities", LIVE_DEAL)):
        response = rep.post(f"{API}/{resource}/bulk/", {"records": [record]}, format="json")
        assert response.status_code == 403, response.content
        assert response.json()["detail"] == "Your role (Sales rep) may not import or sync data in bulk."


def test_a_batch_writes_the_records_the_caller_may_and_refuses_the_others(ws):
    client = _client(ws, "role", "marketer")
    history = [INTO_MQL, {"lead_external_id": "FRESH", "stage": "sal", "entered_at": _at(2)}]
    response = client.post(f"{API}/stage-events/bulk/", {"records": history}, format="json")
    assert [r["status"] for r in response.json()["results"]] == ["created", "error"]
    assert "permission work_leads" in response.json()["results"][1]["errors"]["stage"][0]
    with workspace_scope(ws.workspace):
        assert Lead.objects.get(external_id="FRESH").stage == "mql"


# --- the table itself, against the issues' rules (independently of how it is written) --------


WORKERS = {"admin", "manager", "sales_rep", "read_write"}  # who holds WORK_LEADS and EDIT_RECORDS
IMPORTERS = {"admin", "manager", "marketer", "read_write"}  # who holds IMPORT_DATA


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p[0]}:{p[1]}")
def test_who_may_write_deals_and_sales_history_and_by_which_rules(principal):
    kind, who = principal
    granted = _granted(kind, who)
    for write in WRITES:
        allowed = write.needs() <= granted
        if write.kind == "bulk" and write.resource in HISTORY_ACTIONS:  # an import
            sales = write.resource == "opportunities" or write.label == "sal"
            assert allowed == (who in IMPORTERS and (who in WORKERS or not sales)), write
        elif write.resource == "opportunities" or write.label in ("sal", "skip"):  # sales' work
            assert allowed == (who in WORKERS), write
        elif write.resource == "stage_events":  # a marketing stage, by whoever edits records
            assert allowed == (who != "read"), write
    assert history_granted("stage_events", granted) is (who in IMPORTERS)
    assert history_granted("opportunities", granted) is (who in IMPORTERS)


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
    for resource in HISTORY_ACTIONS:  # bulk writes are imports; single ones are live without it
        assert Action.IMPORT_DATA in write_actions(resource, "bulk")
        assert Action.IMPORT_DATA not in write_actions(resource, "create")
        assert HISTORY_ACTIONS[resource] == {Action.IMPORT_DATA}
    assert Action.IMPORT_DATA not in write_actions("opportunities", "update")
    for stage in SALES_STAGES:
        assert record_write_actions("stage_events", {"stage": f" {stage} "}) == {Action.WORK_LEADS}
    for stage in ("touched", "lead", "mql", "recycled", "disqualified"):
        assert record_write_actions("stage_events", {"stage": stage}) == frozenset()
    assert history_granted("leads", frozenset()) is None  # no history rules: nothing to unlock
    assert history_granted("stage_events", None) is True  # a system's import (import_csv)
