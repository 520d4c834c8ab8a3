"""What each role may do: one table, used by every view (``workspace_view``) and tested as a
matrix. An action not in a role's row is refused with 403; a workspace the user is not a member
of is 404 before any of this is asked."""

from enum import StrEnum

from .models import Role


class Action(StrEnum):
    VIEW_WORKSPACE = "view_workspace"  # home page, lists and details of records
    WORK_LEADS = "work_leads"  # accept or reject handed-off leads, move them along
    MANAGE_MEMBERS = "manage_members"
    MANAGE_WORKSPACE = "manage_workspace"  # settings: SLA, thresholds, attribution windows

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.VIEW_WORKSPACE: "view this workspace",
    Action.WORK_LEADS: "accept, reject or move leads",
    Action.MANAGE_MEMBERS: "manage members",
    Action.MANAGE_WORKSPACE: "change workspace settings",
}


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.MANAGER: frozenset({Action.VIEW_WORKSPACE, Action.WORK_LEADS}),
    Role.MARKETER: frozenset({Action.VIEW_WORKSPACE}),
    Role.SALES_REP: frozenset({Action.VIEW_WORKSPACE, Action.WORK_LEADS}),
}


def role_can(role: str, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(role, frozenset())
