"""The REST API's router: /api/v1/ and its schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from accounts.api import AccountViewSet
from attribution.api import CampaignViewSet, TouchViewSet
from funnel.api import AttributionMetricsView, ContractViewSet, FunnelMetricsView, OpportunityViewSet, StageEventViewSet
from leads.api import LeadViewSet
from sync.audit_api import AuditEventViewSet

PUBLIC = {"authentication_classes": [], "permission_classes": [], "throttle_classes": []}


class Router(DefaultRouter):
    include_root_view = False


router = Router(trailing_slash=True)
router.register("accounts", AccountViewSet, basename="accounts")
router.register("leads", LeadViewSet, basename="leads")
router.register("campaigns", CampaignViewSet, basename="campaigns")
router.register("touches", TouchViewSet, basename="touches")
router.register("opportunities", OpportunityViewSet, basename="opportunities")
router.register("contracts", ContractViewSet, basename="contracts")
router.register("stage-events", StageEventViewSet, basename="stage-events")
router.register("audit-events", AuditEventViewSet, basename="audit-events")

urlpatterns = [
    path("v1/", include(router.urls)),
    path("v1/metrics/funnel/", FunnelMetricsView.as_view(), name="metrics-funnel"),
    path("v1/metrics/attribution/", AttributionMetricsView.as_view(), name="metrics-attribution"),
    # The schema and its docs are public (they describe, they reveal no data), and not throttled.
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="api-schema"),
    # the split view serves Swagger UI's start-up script as a file of its own: no inline script (CSP)
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", **PUBLIC), name="api-docs"),
]
