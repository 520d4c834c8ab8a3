"""What each role, and each API key scope, may do: one table, used by every view
(``workspace_view``) and every API endpoint (``workspaces.api``), and tested as a matrix. An
action not in a row is refused with 403; a workspace the user is not a member of (or a key is
not of) is 404 before any of this is asked."""

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from .models import APIKeyScope, Role


class Action(StrEnum):
    VIEW_WORKSPACE = "view_workspace"  # home page, lists and details of records, metrics
    WORK_LEADS = "work_leads"  # accept or reject handed-off leads, open, move, win and lose deals
    EDIT_RECORDS = "edit_records"  # create and change accounts, leads, campaigns and touches one by one
    IMPORT_DATA = "import_data"  # bulk sync, CSV import, import of stage history
    EXPORT_DATA = "export_data"  # every record of a list as one CSV file
    MERGE_LEADS = "merge_leads"
    DELETE_RECORDS = "delete_records"  # delete records; erase a person's personal data
    MANAGE_MEMBERS = "manage_members"
    MANAGE_WORKSPACE = "manage_workspace"  # settings: SLA, thresholds, attribution windows
    MANAGE_INTEGRATIONS = "manage_integrations"  # API keys and webhooks

    @property
    def label(self) -> str:
        return ACTION_LABELS[self]


ACTION_LABELS = {
    Action.VIEW_WORKSPACE: _("view this workspace"),
    Action.WORK_LEADS: _("accept, reject or move leads and deals"),
    Action.EDIT_RECORDS: _("create or change records"),
    Action.IMPORT_DATA: _("import or sync data in bulk"),
    Action.EXPORT_DATA: _("export data in bulk"),
    Action.MERGE_LEADS: _("merge leads"),
    Action.DELETE_RECORDS: _("delete records or erase personal data"),
    Action.MANAGE_MEMBERS: _("manage members"),
    Action.MANAGE_WORKSPACE: _("change workspace settings"),
    Action.MANAGE_INTEGRATIONS: _("manage API keys and webhooks"),
}

_DATA = frozenset({Action.EDIT_RECORDS, Action.IMPORT_DATA, Action.EXPORT_DATA, Action.MERGE_LEADS})

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.MANAGER: frozenset({Action.VIEW_WORKSPACE, Action.WORK_LEADS, Action.DELETE_RECORDS, *_DATA}),
    Role.MARKETER: frozenset({Action.VIEW_WORKSPACE, *_DATA}),
    Role.SALES_REP: frozenset({Action.VIEW_WORKSPACE, Action.WORK_LEADS, Action.EDIT_RECORDS}),
}

# API keys act for a system, not a person: a read key reads (and exports: a data warehouse's
# key); a read-write key syncs every
# resource, but manages nothing (members, settings, keys and webhooks stay with admins).
KEY_SCOPE_ACTIONS: dict[str, frozenset[Action]] = {
    APIKeyScope.READ: frozenset({Action.VIEW_WORKSPACE, Action.EXPORT_DATA}),
    APIKeyScope.READ_WRITE: frozenset({Action.VIEW_WORKSPACE, Action.WORK_LEADS, Action.DELETE_RECORDS, *_DATA}),
}


def role_can(role: str, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(role, frozenset())


def key_scope_can(scope: str, action: Action) -> bool:
    return action in KEY_SCOPE_ACTIONS.get(scope, frozenset())
