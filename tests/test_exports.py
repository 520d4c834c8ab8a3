"""The browser's CSV exports: every list, its workspace's rows only, readable as it streams."""

import csv
import io

import pytest
from django.urls import reverse

from sync.resources import RESOURCES
from workspaces.permissions import role_can
from workspaces.scoping import workspace_scope

from .api_helpers import key_client
from .factories import AccountFactory, LeadFactory


@pytest.fixture
def filled(workspace, other_workspace, member_factory):
    # No scope is left active around the requests: the exports must open their own.
    with workspace_scope(workspace):
        account = AccountFactory(workspace=workspace, domain="mine.example")
        LeadFactory(workspace=workspace, email="mine@mine.example", account=account)
    with workspace_scope(other_workspace):
        LeadFactory(workspace=other_workspace, email="theirs@globex.test")
    return member_factory(workspace, role="marketer", email="marketer@acme.test")


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("resource", list(RESOURCES))
def test_every_list_exports_to_csv_in_the_browser(client, workspace, filled, member_factory, resource):
    reader = filled  # a marketer; the audit trail is an admin's (tests/test_audit.py)
    if not role_can(filled.role, RESOURCES[resource].read_action):
        reader = member_factory(workspace, role="admin", email="boss@acme.test")
    client.force_login(reader.user)
    response = client.get(reverse("export", args=[workspace.slug, resource]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = _rows(response)  # the queries run here, after the view returned
    assert rows is not None
    if resource == "leads":
        assert [row["email"] for row in rows] == ["mine@mine.example"]
    if resource == "accounts":
        assert [row["domain"] for row in rows] == ["mine.example"]


def test_a_sales_rep_may_not_export(client, workspace, member_factory):
    rep = member_factory(workspace, role="sales_rep", email="rep@acme.test")
    client.force_login(rep.user)
    assert client.get(reverse("export", args=[workspace.slug, "leads"])).status_code == 403


def test_a_read_key_exports_what_it_may_read(workspace, filled):
    response = key_client(workspace, scope="read").get("/api/v1/leads/export/")
    assert response.status_code == 200
    assert [row["email"] for row in _rows(response)] == ["mine@mine.example"]
