"""The interchange columns of the audit trail (``workspaces.AuditEvent``), read only: the
``audit-events`` API resource, its change feed and its CSV export. Declared here, not beside
the model, because the base app ``workspaces`` imports nothing from the apps above it."""

from .interchange import DATETIME, JSON, Column, Spec

AUDIT_EVENTS = Spec(
    resource="audit_events",
    columns=(
        Column("action", help="what happened, as <object type>.<verb>: user.login, member.added, lead.erased, ..."),
        Column("actor_type", help="user (a member), api_key, or system (a shell command, a scheduled task)"),
        Column("actor", help="who acted: the member's email or the key's name and prefix, as they were then"),
        Column("object_type", help="user, member, api_key, webhook, export, lead or workspace"),
        Column("object_id", help="our id of the object (an API key's prefix, an export's resource)"),
        Column("payload", JSON, help="what changed: {field: [before, after]} under changes, and the facts of it"),
        Column("ip_address", help="the address the request came from, when it came from one"),
        Column("created_at", DATETIME),
    ),
    matched_on="read only: the services write the audit trail",
)

AUDIT_EVENT_VALUES = (
    "id",
    "action",
    "actor_type",
    "actor_label",
    "object_type",
    "object_id",
    "payload",
    "ip_address",
    "created_at",
)
