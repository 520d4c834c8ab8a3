"""The permission matrix over the API: every routed endpoint and method, for every role (a
session naming the workspace) and every key scope, answers 403 exactly when the permission
tables refuse the action the endpoint states, and never 403 otherwise."""

import pytest

from workspaces.models import APIKeyScope, Role
from workspaces.permissions import KEY_SCOPE_ACTIONS, ROLE_ACTIONS, Action, key_scope_can, ordered, role_can

from .api_helpers import api_endpoints, key_client, seed_workspace, session_client

ENDPOINTS = api_endpoints()
PRINCIPALS = [("role", role) for role in Role.values] + [("key", scope) for scope in APIKeyScope.values]
# A body each write takes, so an allowed call does real work (or is refused for its content, not its caller).
BODIES = {
    "create": {},
    "bulk": {"records": []},
    "partial_update": {},
    "merge": {},
}


def required_actions(endpoint) -> tuple[Action, ...]:
    return ordered(endpoint.view.actions[endpoint.action])


def test_every_routed_action_states_what_it_needs():
    for endpoint in ENDPOINTS:
        assert endpoint.action in endpoint.view.actions, f"{endpoint.label} is refused to everyone (405)"


def test_the_matrix_covers_every_resource_and_the_metrics():
    paths = {e.path for e in ENDPOINTS}
    for resource in ("accounts", "leads", "campaigns", "touches", "opportunities", "contracts", "stage-events"):
        assert f"/api/v1/{resource}/" in paths
        assert f"/api/v1/{resource}/{{id}}/" in paths
    assert {"/api/v1/metrics/funnel/", "/api/v1/metrics/attribution/", "/api/v1/leads/merge/"} <= paths


def test_a_read_key_can_only_read_and_no_key_manages_the_workspace():
    """Independently of the code's table: what a key's scope must never allow."""
    assert KEY_SCOPE_ACTIONS[APIKeyScope.READ] == {Action.VIEW_WORKSPACE, Action.EXPORT_DATA, Action.VIEW_AUDIT_LOG}
    for scope in APIKeyScope.values:
        for action in (Action.MANAGE_MEMBERS, Action.MANAGE_WORKSPACE, Action.MANAGE_INTEGRATIONS):
            assert not key_scope_can(scope, action)
    for endpoint in ENDPOINTS:
        if endpoint.method != "get":
            assert not set(required_actions(endpoint)) <= KEY_SCOPE_ACTIONS[APIKeyScope.READ], (
                f"a read key may {endpoint.label}"
            )
    assert set(ROLE_ACTIONS) == set(Role.values)


@pytest.fixture
def seeded(workspace):
    return seed_workspace(workspace)


def _client(workspace, member_factory, kind: str, who: str):
    if kind == "role":
        return session_client(member_factory(workspace, role=who, email=f"{who}@acme.test"))
    return key_client(workspace, scope=who)


@pytest.mark.parametrize("principal", PRINCIPALS, ids=lambda p: f"{p[0]}:{p[1]}")
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: e.label)
def test_permission_matrix(workspace, member_factory, seeded, endpoint, principal):
    kind, who = principal
    can = role_can if kind == "role" else key_scope_can
    missing = [action for action in required_actions(endpoint) if not can(who, action)]
    allowed = not missing
    client = _client(workspace, member_factory, kind, who)
    # deletable rows for DELETE, the main rows for everything else
    record_id = seeded.spare.get(endpoint.basename) if endpoint.method == "delete" else None
    record_id = record_id or seeded.ids.get(endpoint.basename)
    url = endpoint.path.replace("{id}", str(record_id))
    if endpoint.method in ("post", "patch"):
        response = getattr(client, endpoint.method)(url, BODIES[endpoint.action], format="json")
    else:
        response = getattr(client, endpoint.method)(url)
    if allowed:
        assert response.status_code != 403, response.content
        assert response.status_code < 500
    else:
        assert response.status_code == 403, response.content
        detail = response.json()["detail"]
        assert detail.endswith(f"may not {missing[0].label}."), detail
