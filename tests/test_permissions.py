"""The role and key-scope table, as a matrix written out here independently of the code's table."""

import pytest

from workspaces.permissions import Action, key_scope_can, role_can

EXPECTED = {
    #                            admin  manager marketer sales_rep
    Action.VIEW_WORKSPACE: (True, True, True, True),
    Action.WORK_LEADS: (True, True, False, True),
    Action.EDIT_RECORDS: (True, True, True, True),
    Action.IMPORT_DATA: (True, True, True, False),
    Action.EXPORT_DATA: (True, True, True, False),  # a sales rep does not walk off with the list
    Action.MERGE_LEADS: (True, True, True, False),
    Action.DELETE_RECORDS: (True, True, False, False),
    Action.MANAGE_CAMPAIGNS: (True, True, True, False),  # a rep edits records, not marketing's plans
    Action.MANAGE_MEMBERS: (True, False, False, False),
    Action.MANAGE_WORKSPACE: (True, False, False, False),
    Action.MANAGE_INTEGRATIONS: (True, False, False, False),
    Action.VIEW_AUDIT_LOG: (True, False, False, False),  # it names people and their addresses
}
ROLES = ("admin", "manager", "marketer", "sales_rep")

EXPECTED_KEYS = {
    #                            read   read_write
    Action.VIEW_WORKSPACE: (True, True),
    Action.WORK_LEADS: (False, True),
    Action.EDIT_RECORDS: (False, True),
    Action.IMPORT_DATA: (False, True),
    Action.EXPORT_DATA: (True, True),
    Action.MERGE_LEADS: (False, True),
    Action.DELETE_RECORDS: (False, True),
    Action.MANAGE_CAMPAIGNS: (False, True),  # a marketing tool's key syncs campaigns
    Action.MANAGE_MEMBERS: (False, False),
    Action.MANAGE_WORKSPACE: (False, False),
    Action.MANAGE_INTEGRATIONS: (False, False),
    Action.VIEW_AUDIT_LOG: (True, False),  # a data warehouse's key; a form's or automation's key has no need
}
SCOPES = ("read", "read_write")


def test_every_action_has_a_row_in_the_expectation():
    assert set(EXPECTED) == set(Action)
    assert set(EXPECTED_KEYS) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role, action):
    assert role_can(role, action) is EXPECTED[action][ROLES.index(role)]


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("scope", SCOPES)
def test_key_scope_matrix(scope, action):
    assert key_scope_can(scope, action) is EXPECTED_KEYS[action][SCOPES.index(scope)]


def test_an_unknown_role_or_scope_may_do_nothing():
    assert not any(role_can("owner", action) for action in Action)
    assert not any(key_scope_can("admin", action) for action in Action)


def test_who_imports_history_and_whose_moves_are_live():
    """On the history resources, who gets the history rules (skipped stages, backdated entries)
    and whose single writes are live moves (a sales rep's, who may not import)."""
    from workspaces.permissions import KEY_SCOPE_ACTIONS, ROLE_ACTIONS, history_granted

    history = {"admin": True, "manager": True, "marketer": True, "sales_rep": False}
    for resource in ("stage_events", "opportunities"):
        for role in ROLES:
            assert history_granted(resource, ROLE_ACTIONS[role]) is history[role], (resource, role)
        assert history_granted(resource, KEY_SCOPE_ACTIONS["read"]) is False
        assert history_granted(resource, KEY_SCOPE_ACTIONS["read_write"]) is True
        assert history_granted(resource, None) is True  # the import_csv command
    assert history_granted("leads", ROLE_ACTIONS["admin"]) is None
