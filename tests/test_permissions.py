"""The role table, as a matrix written out here independently of the code's table."""

import pytest

from workspaces.permissions import Action, role_can

EXPECTED = {
    #                       admin  manager marketer sales_rep
    Action.VIEW_WORKSPACE: (True, True, True, True),
    Action.WORK_LEADS: (True, True, False, True),
    Action.MANAGE_MEMBERS: (True, False, False, False),
    Action.MANAGE_WORKSPACE: (True, False, False, False),
}
ROLES = ("admin", "manager", "marketer", "sales_rep")


def test_every_action_has_a_row_in_the_expectation():
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action), ids=str)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role, action):
    assert role_can(role, action) is EXPECTED[action][ROLES.index(role)]


def test_an_unknown_role_may_do_nothing():
    assert not any(role_can("owner", action) for action in Action)
