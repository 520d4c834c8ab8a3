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
    MANAGE_CAMPAIGNS = "manage_campaigns"  # create, change and close campaigns; build target lists
    MANAGE_MEMBERS = "manage_members"
    MANAGE_WORKSPACE = "manage_workspace"  # settings: SLA, thresholds, attribution windows
    MANAGE_INTEGRATIONS = "manage_integrations"  # API keys and webhooks
    VIEW_AUDIT_LOG = "view_audit_log"  # who did what: it names people and their addresses

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
    Action.MANAGE_CAMPAIGNS: _("manage campaigns and target lists"),
    Action.MANAGE_MEMBERS: _("manage members"),
    Action.MANAGE_WORKSPACE: _("change workspace settings"),
    Action.MANAGE_INTEGRATIONS: _("manage API keys and webhooks"),
    Action.VIEW_AUDIT_LOG: _("see the audit log"),
}

_DATA = frozenset({Action.EDIT_RECORDS, Action.IMPORT_DATA, Action.EXPORT_DATA, Action.MERGE_LEADS})

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.MANAGER: frozenset(
        {Action.VIEW_WORKSPACE, Action.WORK_LEADS, Action.DELETE_RECORDS, Action.MANAGE_CAMPAIGNS, *_DATA}
    ),
    Role.MARKETER: frozenset({Action.VIEW_WORKSPACE, Action.MANAGE_CAMPAIGNS, *_DATA}),
    Role.SALES_REP: frozenset({Action.VIEW_WORKSPACE, Action.WORK_LEADS, Action.EDIT_RECORDS}),
}

# API keys act for a system, not a person: a read key reads (and exports: a data warehouse's
# key), the audit trail included (a warehouse keeps the admins' record of who did what); a
# read-write key syncs every resource, but manages nothing (members, settings, keys and
# webhooks stay with admins) and reads no audit trail (a form or automation has no need of it).
KEY_SCOPE_ACTIONS: dict[str, frozenset[Action]] = {
    APIKeyScope.READ: frozenset({Action.VIEW_WORKSPACE, Action.EXPORT_DATA, Action.VIEW_AUDIT_LOG}),
    APIKeyScope.READ_WRITE: frozenset(
        {Action.VIEW_WORKSPACE, Action.WORK_LEADS, Action.DELETE_RECORDS, Action.MANAGE_CAMPAIGNS, *_DATA}
    ),
}


# What each resource's writes need, by resource name (as in ``sync.resources``) and kind of write:
# a single create, a PATCH, a bulk upsert (the bulk API, and the CSV import, which runs as the
# member who started it) and a delete. Sales' work needs WORK_LEADS whichever door it comes by:
# every write of a deal opens, moves, wins or loses it (or edits it: a deal is sales' work), and
# a stage event into a sales stage needs it too (RECORD_WRITE_ACTIONS). A bulk write is an
# import (IMPORT_DATA); a single write of the stage-events and opportunities resources is a
# live move unless the caller may import history (HISTORY_ACTIONS). Moves the product makes by
# its own rules (capture, MQL, handoff) are nobody's write and need neither.
# Marketing's plans (campaigns, target lists) need MANAGE_CAMPAIGNS on every door, so a
# sales rep, who edits records, does not create or change them. Plain data: this base app knows
# the domain's resources by name only.
CREATE, UPDATE, BULK, DELETE = "create", "update", "bulk", "delete"
_EDIT, _IMPORT, _WORK = Action.EDIT_RECORDS, Action.IMPORT_DATA, Action.WORK_LEADS
_RECORDS = {
    CREATE: frozenset({_EDIT}),
    UPDATE: frozenset({_EDIT}),
    BULK: frozenset({_IMPORT}),
    DELETE: frozenset({Action.DELETE_RECORDS}),
}
_PLANS = {kind: actions | {Action.MANAGE_CAMPAIGNS} for kind, actions in _RECORDS.items()}
RESOURCE_WRITE_ACTIONS: dict[str, dict[str, frozenset[Action]]] = {
    "accounts": _RECORDS,
    "leads": _RECORDS,
    "campaigns": _PLANS,
    "target_lists": _PLANS,
    "touches": _RECORDS,
    "opportunities": {
        CREATE: frozenset({_EDIT, _WORK}),
        UPDATE: frozenset({_EDIT, _WORK}),
        BULK: frozenset({_IMPORT, _WORK}),
    },
    "stage_events": {CREATE: frozenset({_EDIT}), BULK: frozenset({_IMPORT})},
}

# A write of these resources is a history import only for a caller holding these actions: the
# history rules (docs/design.md) take a move forward past stages never recorded and an entry
# dated before the lead's latest. Anyone else's write (a sales rep's, over the API) is a live
# move, held to the transition table and appended after the lead's latest entry, as a move in
# the browser is. Bulk writes and CSV imports need IMPORT_DATA, so they are always history.
HISTORY_ACTIONS: dict[str, frozenset[Action]] = {
    "opportunities": frozenset({_IMPORT}),
    "stage_events": frozenset({_IMPORT}),
}

# Lead stages whose entry is sales' work: SAL and after, and the exits only sales make.
SALES_STAGES = frozenset({"sal", "opportunity", "won", "renewed", "rejected", "lost", "churned"})
# A record of these resources that names a sales stage in this column needs these actions too,
# checked record by record: refused with 403 when sent alone, in its own result in a batch or a
# CSV file (the rest of the batch is written, as for any other refused record).
RECORD_WRITE_ACTIONS: dict[str, tuple[str, frozenset[str], frozenset[Action]]] = {
    "stage_events": ("stage", SALES_STAGES, frozenset({_WORK})),
}


def write_actions(resource: str, kind: str) -> frozenset[Action]:
    """The actions a kind of write of a resource needs (a resource not in the table: as records)."""
    return RESOURCE_WRITE_ACTIONS.get(resource, _RECORDS).get(kind, _RECORDS[kind])


def record_write_actions(resource: str, record) -> frozenset[Action]:
    """The actions one record of a write needs beyond its kind's, from what it says."""
    rule = RECORD_WRITE_ACTIONS.get(resource)
    if rule is None or not isinstance(record, dict):
        return frozenset()
    column, values, actions = rule
    value = record.get(column)
    return actions if isinstance(value, str) and value.strip() in values else frozenset()


def history_granted(resource: str, granted: frozenset[Action] | None) -> bool | None:
    """Whether a write of ``resource`` by a caller with ``granted`` follows the history rules;
    None for a resource with no such rules. ``granted`` None: a system's import (the
    ``import_csv`` command), which imports history."""
    needs = HISTORY_ACTIONS.get(resource)
    if needs is None:
        return None
    return granted is None or needs <= granted


def ordered(actions) -> tuple[Action, ...]:
    """One action or a set of them, in the order of ``Action`` (so a refusal names the first)."""
    if isinstance(actions, Action):
        return (actions,)
    return tuple(action for action in Action if action in actions)


def role_can(role: str, action: Action) -> bool:
    return action in ROLE_ACTIONS.get(role, frozenset())


def key_scope_can(scope: str, action: Action) -> bool:
    return action in KEY_SCOPE_ACTIONS.get(scope, frozenset())
