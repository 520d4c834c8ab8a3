import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.decorators import action

from funnel.stages import Stage
from sync.api import ERRORS, EmailFilter, ResourceViewSet, identifiers, resource_viewset
from sync.idempotency import run_write
from sync.resources import RESOURCES
from workspaces.permissions import Action

from .models import Lead
from .selectors import live_leads
from .services import lead_merge


class LeadFilter(django_filters.FilterSet):
    external_id = django_filters.CharFilter()
    email = EmailFilter()
    owner_email = EmailFilter(field_name="owner__email")
    account_external_id = django_filters.CharFilter(field_name="account__external_id")

    stage = django_filters.ChoiceFilter(choices=identifiers(Stage))

    class Meta:
        model = Lead
        fields: list[str] = []


MERGE_BODY = inline_serializer(
    "LeadMergeRequest",
    fields={
        "survivor_id": serializers.IntegerField(help_text="the lead that stays"),
        "loser_id": serializers.IntegerField(help_text="the lead merged into it; it becomes a tombstone"),
    },
)


class LeadViewSetBase(ResourceViewSet):
    actions = ResourceViewSet.actions | {"merge": Action.MERGE_LEADS}

    @extend_schema(
        summary="Merge two leads: touches, stage events and opportunities move to the survivor",
        description=(
            "The survivor keeps its values and takes the loser's where its own are empty; the loser becomes a "
            "tombstone pointing at it, so its email and external_id lead to the survivor from now on."
        ),
        request=MERGE_BODY,
        responses={200: RESOURCES["leads"].spec.output_serializer(), 400: ERRORS, 404: ERRORS, 422: ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="merge")
    def merge(self, request, *args, **kwargs):
        body = request.body
        data = request.data if isinstance(request.data, dict) else {}
        ids = {}
        for name in ("survivor_id", "loser_id"):
            value = data.get(name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value < 2**63:
                raise exceptions.ValidationError({name: ["The id of a lead (a whole number) is required."]})
            ids[name] = value

        def write():  # looked up inside, so a replayed merge answers as the first did
            found = live_leads().in_bulk(list(ids.values()))
            for name, lead_id in ids.items():
                if lead_id not in found:
                    raise exceptions.NotFound(f"No lead #{lead_id} in this workspace ({name}).")
            try:
                lead_merge(
                    workspace=self.workspace,
                    survivor=found[ids["survivor_id"]],
                    loser=found[ids["loser_id"]],
                    actor=self.actor,
                    source="api",
                )
            except DjangoValidationError as error:
                raise exceptions.ValidationError(
                    error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages}
                ) from None
            return status.HTTP_200_OK, self._representation(ids["survivor_id"])

        return run_write(request, write, body)


LeadViewSet = resource_viewset(RESOURCES["leads"], filterset_class=LeadFilter, base=LeadViewSetBase)
