import datetime as dt
import math

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from attribution.rules import MODELS
from sync.api import ERRORS, Conflict, EmailFilter, identifiers, resource_viewset
from sync.interchange import shown
from sync.resources import RESOURCES
from workspaces.api import WorkspaceAPIView
from workspaces.permissions import Action

from .engine import LEVELS
from .models import Contract, Opportunity, StageEvent
from .reports import BREAKDOWNS, Filters, NoSnapshot, ReportError, attribution_report, funnel_report
from .stages import ContractStatus, EventSource, OpportunityKind, OpportunityStage, Stage


class OpportunityFilter(django_filters.FilterSet):
    external_id = django_filters.CharFilter()
    account_external_id = django_filters.CharFilter(field_name="account__external_id")
    lead_external_id = django_filters.CharFilter(field_name="primary_lead__external_id")

    stage = django_filters.ChoiceFilter(choices=identifiers(OpportunityStage))
    kind = django_filters.ChoiceFilter(choices=identifiers(OpportunityKind))

    class Meta:
        model = Opportunity
        fields: list[str] = []


class ContractFilter(django_filters.FilterSet):
    account_external_id = django_filters.CharFilter(field_name="account__external_id")

    status = django_filters.ChoiceFilter(choices=identifiers(ContractStatus))

    class Meta:
        model = Contract
        fields: list[str] = []


class StageEventFilter(django_filters.FilterSet):
    lead_external_id = django_filters.CharFilter(field_name="lead__external_id")
    lead_email = EmailFilter(field_name="lead__email")
    opportunity_external_id = django_filters.CharFilter(field_name="opportunity__external_id")

    stage = django_filters.ChoiceFilter(choices=identifiers(Stage))
    source = django_filters.ChoiceFilter(choices=identifiers(EventSource))

    class Meta:
        model = StageEvent
        fields: list[str] = []


OpportunityViewSet = resource_viewset(RESOURCES["opportunities"], filterset_class=OpportunityFilter)
ContractViewSet = resource_viewset(RESOURCES["contracts"], filterset_class=ContractFilter)
StageEventViewSet = resource_viewset(RESOURCES["stage_events"], filterset_class=StageEventFilter, updatable=False)


# --- metrics: the report commands' numbers, from the latest snapshot ---------------------------

METRICS_ANSWER = inline_serializer(
    "MetricsAnswer",
    fields={
        "computed_at": serializers.DateTimeField(help_text="when the snapshot these numbers come from finished"),
        "snapshot": serializers.IntegerField(),
        "filters": serializers.DictField(),
        "rows": serializers.ListField(child=serializers.DictField(), help_text="the report's columns, one row each"),
        "exits": serializers.DictField(
            required=False, help_text="funnel: rejected (by reason), recycled, disqualified, lost (by reason), churned"
        ),
        "headline": serializers.DictField(
            required=False, help_text="funnel: reach, acquisition, win and renewal rates, gross and net retention"
        ),
    },
)
PERIOD = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="first day, inclusive, in the workspace's time zone"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="last day, inclusive"),
]


def _date(request, name: str) -> dt.date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise exceptions.ValidationError({name: [f"'{value}' is not a date; use YYYY-MM-DD."]}) from None


class MetricsView(WorkspaceAPIView, GenericAPIView):
    actions = {"get": Action.VIEW_WORKSPACE}
    known: tuple[str, ...] = ()

    def filters(self, request) -> Filters:
        unknown = sorted(set(request.query_params) - set(self.known))
        if unknown:
            raise exceptions.ValidationError(
                {shown(name): [f"Unknown parameter. Known: {', '.join(self.known)}."] for name in unknown}
            )
        return Filters(date_from=_date(request, "from"), date_to=_date(request, "to"))

    def answer(self, compute) -> Response:
        try:
            return Response(compute())
        except NoSnapshot as error:
            raise Conflict(str(error)) from None
        except ReportError as error:
            raise exceptions.ValidationError({"detail": [str(error)]}) from None


class FunnelMetricsView(MetricsView):
    known = ("from", "to", "view", "horizon", "by")

    @extend_schema(
        summary="The funnel: per stage, entered, reached, conversion and velocity (as `report funnel`)",
        parameters=[
            *PERIOD,
            OpenApiParameter("view", OpenApiTypes.STR, enum=["cohort", "period"]),
            OpenApiParameter("horizon", OpenApiTypes.NUMBER, description="days: cohort conversion within it"),
            OpenApiParameter("by", OpenApiTypes.STR, enum=list(BREAKDOWNS)),
        ],
        responses={200: METRICS_ANSWER, 400: ERRORS, 409: ERRORS},
    )
    def get(self, request, *args, **kwargs):
        """The numbers of `python manage.py report funnel`, from the latest snapshot: one row per stage (with
        the breakdown and its key in front when `by` is given), and the exits and headline rates."""
        filters = self.filters(request)
        horizon = request.query_params.get("horizon")
        try:
            horizon_days = float(horizon) if horizon not in (None, "") else None
        except ValueError:
            horizon_days = math.nan
        if horizon_days is not None and not math.isfinite(horizon_days):
            raise exceptions.ValidationError({"horizon": [f"'{horizon}' is not a number of days."]}) from None
        return self.answer(
            lambda: funnel_report(
                self.workspace,
                filters=filters,
                view=request.query_params.get("view", "cohort"),
                horizon_days=horizon_days,
                by=request.query_params.get("by") or None,
            )
        )


class AttributionMetricsView(MetricsView):
    known = ("from", "to", "model", "level", "by")

    @extend_schema(
        summary="Attribution: credit by channel or campaign (as `report attribution`)",
        parameters=[
            *PERIOD,
            OpenApiParameter("model", OpenApiTypes.STR, enum=list(MODELS), required=True),
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(LEVELS), required=True),
            OpenApiParameter("by", OpenApiTypes.STR, enum=["channel", "campaign"]),
        ],
        responses={200: METRICS_ANSWER, 400: ERRORS, 409: ERRORS},
    )
    def get(self, request, *args, **kwargs):
        """The numbers of `python manage.py report attribution`, from the latest snapshot: per channel or
        campaign, the credited conversions and value of the model at the level."""
        filters = self.filters(request)
        missing = [name for name in ("model", "level") if not request.query_params.get(name)]
        if missing:
            raise exceptions.ValidationError({name: ["This parameter is required."] for name in missing})
        return self.answer(
            lambda: attribution_report(
                self.workspace,
                model=request.query_params["model"],
                level=request.query_params["level"],
                by=request.query_params.get("by", "channel"),
                filters=filters,
            )
        )
