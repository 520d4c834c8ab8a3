"""Helpers shared by the API tests: keys and clients, the router's endpoints, and a small
workspace with one row of every resource, built through the services."""

import datetime as dt
import json
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.db import connection
from rest_framework.routers import DynamicRoute
from rest_framework.test import APIClient

from attribution.models import Channel
from attribution.services import touch_record
from config.api import router
from funnel.api import AttributionMetricsView, FunnelMetricsView
from funnel.models import StageEvent
from funnel.services import lead_stage_move, opportunity_create, opportunity_win
from sync.services import export_start
from workspaces.scoping import workspace_scope
from workspaces.services import api_key_create

from .factories import AccountFactory, CampaignFactory, LeadFactory

API = "/api/v1"
T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


# --- callers ----------------------------------------------------------------------------------


def make_key(workspace, scope: str = "read_write", name: str = "tests"):
    """An API key of the workspace and its secret (shown once)."""
    with workspace_scope(workspace):
        return api_key_create(workspace=workspace, name=name, scope=scope)


def bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def key_client(workspace, scope: str = "read_write") -> APIClient:
    return bearer(make_key(workspace, scope)[1])


def session_client(membership, workspace_slug: str | None = None) -> APIClient:
    """A member's logged-in browser session naming a workspace in X-Workspace (CSRF is not
    enforced by APIClient, as a browser with its token would pass it)."""
    client = APIClient()
    client.force_login(membership.user)
    client.credentials(HTTP_X_WORKSPACE=workspace_slug or membership.workspace.slug)
    return client


def send_bulk(client, resource: str, records, **headers):
    return client.post(f"{API}/{resource}/bulk/", {"records": records}, format="json", **headers)


def statuses(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [result["status"] for result in response.json()["results"]]


def errors_of(response, index: int = 0) -> dict[str, list[str]]:
    result = response.json()["results"][index]
    assert result["status"] == "error", result
    return result["errors"]


def count(workspace, model, **filters) -> int:
    with workspace_scope(workspace):
        return model.objects.filter(**filters).count()


# --- the change feed ---------------------------------------------------------------------------


def feed_settled(timeout: float = 60.0) -> None:
    """On PostgreSQL the feed only shows rows written below the oldest transaction still running
    anywhere on the server (other test runs included), so wait until every transaction that had
    begun by now has ended. SQLite has one writer at a time: nothing to wait for."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint")
        (horizon,) = cursor.fetchone()
        deadline = time.monotonic() + timeout
        while True:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            if cursor.fetchone()[0] >= horizon:
                return
            if time.monotonic() > deadline:
                cursor.execute(
                    "SELECT pid, datname, state, backend_xid::text, xact_start::text, left(query, 120) "
                    "FROM pg_stat_activity WHERE backend_xid IS NOT NULL"
                )
                raise AssertionError(f"a transaction stayed open for the whole wait: {cursor.fetchall()}")
            time.sleep(0.02)


def read_feed(client, resource: str, cursor: str | None = None, **params) -> tuple[list, list, str, int]:
    """Every page from ``cursor`` (or the start) until has_more is false: (records, tombstones,
    the last cursor, how many pages)."""
    feed_settled()
    records, tombstones, pages = [], [], 0
    if cursor is not None:
        params["cursor"] = cursor
    while True:
        response = client.get(f"{API}/{resource}/", params)
        assert response.status_code == 200, response.content[:500]
        page = response.json()
        pages += 1
        records += page["results"]
        tombstones += page["tombstones"]
        params = {k: v for k, v in params.items() if k not in ("updated_since",)} | {"cursor": page["cursor"]}
        if not page["has_more"]:
            assert page["next"] is None
            return records, tombstones, page["cursor"], pages
        assert page["next"] and f"cursor={page['cursor']}" in page["next"]


# --- a webhook receiver -----------------------------------------------------------------------


class Receiver:
    """An HTTP server on 127.0.0.1 in a thread that records every POST (headers and the exact
    body) and answers the status codes it is told, in turn (then 200)."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                code = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/funnel"

    def json(self, index: int = -1) -> dict:
        return json.loads(self.requests[index]["body"])

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the router's endpoints -------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One routed (path, method) of /api/v1/, the view behind it and its viewset action."""

    basename: str
    method: str  # lower case
    path: str  # with {id} for detail routes, as in the OpenAPI schema
    view: type
    action: str  # the viewset action, or the method for plain views

    @property
    def detail(self) -> bool:
        return "{id}" in self.path

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"


def _route_path(route, prefix: str) -> str:
    url = route.url.replace("{prefix}", prefix).replace("{lookup}", "{id}").replace("{trailing_slash}", "/")
    return API + "/" + re.sub(r"[\^$]", "", url)


def api_endpoints() -> list[Endpoint]:
    endpoints = []
    for prefix, viewset, basename in router.registry:
        for route in router.get_routes(viewset):
            if isinstance(route, DynamicRoute):
                continue
            for method, action in router.get_method_map(viewset, route.mapping).items():
                endpoints.append(Endpoint(basename, method, _route_path(route, prefix), viewset, action))
    for path, view in (("metrics/funnel/", FunnelMetricsView), ("metrics/attribution/", AttributionMetricsView)):
        endpoints.append(Endpoint(path, "get", f"{API}/{path}", view, "get"))
    return endpoints


# --- a workspace with one record of every resource -------------------------------------------


@dataclass
class Seeded:
    """The ids (and external ids) of one seeded workspace, by resource."""

    ids: dict[str, int]
    external_ids: dict[str, str]
    spare: dict[str, int]  # rows nothing refers to, so their DELETE can succeed


def seed_workspace(workspace, prefix: str = "") -> Seeded:
    """An account with a lead that was touched by a campaign, qualified, accepted and won (a
    contract), plus an account and a campaign nothing refers to. Built through the services."""
    with workspace_scope(workspace):
        account = AccountFactory(workspace=workspace, external_id=f"{prefix}ACC-1", domain=f"{prefix or 'a'}acme.test")
        spare_account = AccountFactory(workspace=workspace, external_id=f"{prefix}ACC-SPARE")
        lead = LeadFactory(
            workspace=workspace,
            email=f"{prefix or 'a'}pat@acme.test",
            external_id=f"{prefix}LEAD-1",
            account=account,
            entered_at=T0,
        )
        spare_lead = LeadFactory(workspace=workspace, email=f"{prefix or 'a'}spare@acme.test", entered_at=T0)
        campaign = CampaignFactory(workspace=workspace, external_id=f"{prefix}CMP-1")
        spare_campaign = CampaignFactory(workspace=workspace, external_id=f"{prefix}CMP-SPARE")
        touch = touch_record(
            workspace=workspace,
            lead=lead,
            channel=Channel.objects.get(slug="webinar"),
            campaign=campaign,
            type="webinar_attended",
            occurred_at=T0 + dt.timedelta(days=1),
            external_id=f"{prefix}TCH-1",
        )
        lead_stage_move(workspace=workspace, lead=lead, to_stage="mql", entered_at=T0 + dt.timedelta(days=2))
        lead_stage_move(workspace=workspace, lead=lead, to_stage="sal", entered_at=T0 + dt.timedelta(days=3))
        deal = opportunity_create(
            workspace=workspace,
            account=account,
            primary_lead=lead,
            name="Deal",
            amount=Decimal("1200.00"),
            created_at=T0 + dt.timedelta(days=4),
            external_id=f"{prefix}OPP-1",
        )
        contract = opportunity_win(workspace=workspace, opportunity=deal, closed_at=T0 + dt.timedelta(days=5))
        event = StageEvent.objects.filter(lead=lead).order_by("-id").first()
        exported = export_start(workspace=workspace, resource="leads", via="command")
    return Seeded(
        ids={
            "accounts": account.pk,
            "leads": lead.pk,
            "campaigns": campaign.pk,
            "touches": touch.pk,
            "opportunities": deal.pk,
            "contracts": contract.pk,
            "stage-events": event.pk,
            "audit-events": exported.pk,
        },
        external_ids={
            "accounts": account.external_id,
            "leads": lead.external_id,
            "campaigns": campaign.external_id,
            "touches": touch.external_id,
            "opportunities": deal.external_id,
            "contracts": contract.external_id,
        },
        spare={"accounts": spare_account.pk, "campaigns": spare_campaign.pk, "leads": spare_lead.pk},
    )
