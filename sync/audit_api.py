"""``/api/v1/audit-events/``: the audit trail as a read-only resource and change feed, for admins
and read keys (a data warehouse keeping the record of who did what). Rows are only ever
appended, so the feed has no tombstones and a row never comes twice."""

import django_filters

from workspaces.models import AuditEvent
from workspaces.permissions import Action

from .api import ResourceViewSet, resource_viewset
from .resources import RESOURCES


class AuditEventFilter(django_filters.FilterSet):
    action = django_filters.CharFilter()
    actor_type = django_filters.CharFilter()
    object_type = django_filters.CharFilter()
    object_id = django_filters.CharFilter()

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class AuditEventViewSetBase(ResourceViewSet):
    since_field = "created_at"  # written once, never updated
    # It names people and the addresses they came from: admins and read keys only. Whoever may
    # read it may export it (every holder of VIEW_AUDIT_LOG holds EXPORT_DATA: tests/test_audit.py).
    actions = dict.fromkeys(("list", "retrieve", "export"), Action.VIEW_AUDIT_LOG)


AuditEventViewSet = resource_viewset(
    RESOURCES["audit_events"], filterset_class=AuditEventFilter, base=AuditEventViewSetBase
)
