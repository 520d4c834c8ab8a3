"""Who may call the API: API keys, sessions naming their workspace, and tenancy (another
workspace's rows are 404 and never listed)."""

import pytest
from rest_framework.test import APIClient

from accounts.models import Account
from attribution.models import Campaign, Touch
from funnel.models import Contract, Opportunity, StageEvent
from leads.models import Lead
from workspaces.models import AuditEvent, WorkspaceAPIKey
from workspaces.permissions import Action, key_scope_can
from workspaces.scoping import workspace_scope
from workspaces.services import api_key_revoke

from .api_helpers import API, api_endpoints, bearer, key_client, make_key, read_feed, seed_workspace, session_client

MODELS = {
    "accounts": Account,
    "leads": Lead,
    "campaigns": Campaign,
    "touches": Touch,
    "opportunities": Opportunity,
    "contracts": Contract,
    "stage-events": StageEvent,
    "audit-events": AuditEvent,
}
DETAIL_ENDPOINTS = [e for e in api_endpoints() if e.detail]
LISTS = sorted(MODELS)


@pytest.fixture
def theirs(other_workspace):
    return seed_workspace(other_workspace, prefix="B-")


@pytest.fixture
def ours(workspace):
    return seed_workspace(workspace)


def test_no_credentials_is_refused_with_a_message(db):
    response = APIClient().get(f"{API}/leads/")
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    ["Bearer nonsense", "Bearer abc.def", "Bearer ", "bearer x.y.z"],
    ids=["no-dot", "unknown-prefix", "empty", "three-parts"],
)
def test_a_malformed_or_unknown_key_is_401(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(f"{API}/leads/")
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid, expired or revoked API key."


def test_a_key_with_a_wrong_secret_is_401(workspace):
    _, secret = make_key(workspace)
    prefix = secret.split(".", 1)[0]
    response = bearer(f"{prefix}.{'x' * 32}").get(f"{API}/leads/")
    assert response.status_code == 401


def test_a_revoked_key_is_401(workspace):
    key, secret = make_key(workspace)
    assert bearer(secret).get(f"{API}/leads/").status_code == 200
    with workspace_scope(workspace):
        api_key_revoke(workspace=workspace, key=key)
    response = bearer(secret).get(f"{API}/leads/")
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_a_used_key_records_when_it_was_last_used(workspace):
    key, secret = make_key(workspace)
    assert key.last_used_at is None
    assert bearer(secret).get(f"{API}/leads/").status_code == 200
    assert WorkspaceAPIKey.keys.get(pk=key.pk).last_used_at is not None


def test_a_session_without_x_workspace_is_400_naming_the_header(workspace, member_factory):
    client = session_client(member_factory(workspace, role="admin"))
    client.credentials()  # no X-Workspace
    response = client.get(f"{API}/leads/")
    assert response.status_code == 400
    assert "X-Workspace" in response.json()["detail"]


def test_a_session_naming_its_workspace_is_served(workspace, member_factory):
    response = session_client(member_factory(workspace, role="marketer")).get(f"{API}/leads/")
    assert response.status_code == 200
    assert response.json()["results"] == []


@pytest.mark.parametrize("slug", ["globex", "no-such-workspace"])
def test_a_session_naming_a_workspace_it_is_not_a_member_of_is_404(workspace, other_workspace, member_factory, slug):
    client = session_client(member_factory(workspace, role="admin"), workspace_slug=slug)
    assert client.get(f"{API}/leads/").status_code == 404
    assert client.post(f"{API}/leads/", {"email": "x@globex.test"}, format="json").status_code == 404
    assert Lead.objects.with_scopes_disabled().count() == 0


def test_a_key_naming_another_workspace_in_x_workspace_is_404(workspace, other_workspace):
    client = key_client(workspace)
    client.credentials(HTTP_AUTHORIZATION=client._credentials["HTTP_AUTHORIZATION"], HTTP_X_WORKSPACE="globex")
    assert client.get(f"{API}/leads/").status_code == 404


def _scope_for(endpoint) -> str:
    """A key scope that may call the endpoint (the audit trail is a read key's, writes a
    read-write key's), so what answers is the tenancy check, not the permission table."""
    needed = endpoint.view.actions[endpoint.action]
    needed = (needed,) if isinstance(needed, Action) else needed
    return next(scope for scope in ("read_write", "read") if all(key_scope_can(scope, a) for a in needed))


@pytest.mark.parametrize("endpoint", DETAIL_ENDPOINTS, ids=lambda e: e.label)
def test_a_key_asking_for_an_id_of_another_workspace_gets_404(workspace, ours, theirs, other_workspace, endpoint):
    their_id = theirs.ids[endpoint.basename]
    model = MODELS[endpoint.basename]
    with workspace_scope(other_workspace):
        before = model.objects.filter(pk=their_id).values().get()
    client = key_client(workspace, scope=_scope_for(endpoint))
    url = endpoint.path.replace("{id}", str(their_id))
    body = {"name": "Hijacked", "first_name": "Hijacked"} if endpoint.method == "patch" else None
    response = getattr(client, endpoint.method)(url, body, format="json")
    assert response.status_code == 404, response.content
    assert "globex" not in response.content.decode().lower()
    with workspace_scope(other_workspace):
        assert model.objects.filter(pk=their_id).values().get() == before


# The feed shows committed writes (on PostgreSQL, not the reader's own open transaction).
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("resource", LISTS)
def test_a_list_never_includes_another_workspaces_rows(workspace, ours, theirs, resource):
    records, tombstones, _, _ = read_feed(key_client(workspace, scope="read"), resource, page_size=1000)
    ids = {row["id"] for row in records}
    with workspace_scope(workspace):
        mine = set(MODELS[resource].objects.values_list("id", flat=True))
    if resource == "leads":
        assert ids == {ours.ids["leads"], ours.spare["leads"]}
    else:
        assert ids == mine
    assert theirs.ids[resource] not in ids


@pytest.mark.parametrize("resource", LISTS)
def test_an_export_never_includes_another_workspaces_rows(workspace, ours, theirs, resource):
    response = key_client(workspace, scope="read").get(f"{API}/{resource}/export/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    assert "B-" not in text
    assert "globex" not in text.lower()


@pytest.mark.django_db(transaction=True)
def test_another_workspaces_tombstones_are_not_in_the_feed(workspace, other_workspace, theirs):
    their_key = key_client(other_workspace)
    assert their_key.delete(f"{API}/leads/{theirs.ids['leads']}/").status_code == 204
    assert len(read_feed(their_key, "leads")[1]) == 1
    assert read_feed(key_client(workspace), "leads")[1] == []


def test_merging_leads_of_another_workspace_is_404(workspace, ours, theirs):
    response = key_client(workspace).post(
        f"{API}/leads/merge/", {"survivor_id": ours.ids["leads"], "loser_id": theirs.ids["leads"]}, format="json"
    )
    assert response.status_code == 404
    assert Lead.objects.with_scopes_disabled().filter(merged_into__isnull=False).count() == 0


def test_requests_over_the_rate_are_429_with_retry_after(workspace, settings):
    settings.API_THROTTLE_RATE = "3/min"
    client = key_client(workspace)
    codes = [client.get(f"{API}/leads/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get(f"{API}/leads/")
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 60


def test_the_rate_is_counted_per_key(workspace, settings):
    settings.API_THROTTLE_RATE = "1/min"
    first, second = key_client(workspace), key_client(workspace)
    assert first.get(f"{API}/leads/").status_code == 200
    assert first.get(f"{API}/leads/").status_code == 429
    assert second.get(f"{API}/leads/").status_code == 200


def test_a_session_write_without_a_csrf_token_is_refused(workspace, member_factory):
    member = member_factory(workspace, role="admin")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(member.user)
    client.credentials(HTTP_X_WORKSPACE=workspace.slug)
    assert client.get(f"{API}/leads/").status_code == 200  # reads need no token
    response = client.post(f"{API}/leads/", {"email": "pat@acme.test"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert Lead.objects.with_scopes_disabled().count() == 0


def test_a_key_needs_no_csrf_token(workspace):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_key(workspace)[1]}")
    assert client.post(f"{API}/leads/", {"email": "pat@acme.test"}, format="json").status_code == 201
