"""The resource endpoints of /api/v1/, one generic viewset made per resource
(``resource_viewset``); each app's ``api.py`` makes its own with its filters and extra actions.

Every write goes through the resource's upsert service (the same code as the CSV import) inside
``run_write`` (idempotency, one transaction); every list is the change feed (``sync.feed``).
"""

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import StreamingHttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from funnel.stages import EventSource
from workspaces.api import WorkspaceAPIView
from workspaces.permissions import BULK, CREATE, DELETE, UPDATE, Action, write_actions
from workspaces.scoping import scopes_disabled

from .bulk import unpermitted_records, upsert_permitted
from .csvio import export_csv
from .feed import Cursor, feed_page, parse_since
from .idempotency import run_write
from .interchange import Invalid, output_rows, parse_datetime, shown
from .resources import Resource
from .services import export_start


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "conflict"


def _error_serializer(name: str):
    return inline_serializer(
        name,
        fields={"detail": serializers.CharField(required=False)},
        help_text="Errors: {field: [messages]} for the fields that were wrong, or {detail: message}.",
    )


ERRORS = _error_serializer("Errors")
RESULT = inline_serializer(
    "BulkResult",
    fields={
        "index": serializers.IntegerField(help_text="the record's position in the batch"),
        "status": serializers.ChoiceField(choices=["created", "updated", "unchanged", "error"]),
        "id": serializers.IntegerField(allow_null=True),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)
BULK_ANSWER = inline_serializer(
    "BulkAnswer",
    fields={
        "results": RESULT.__class__(many=True),
        "counts": serializers.DictField(child=serializers.IntegerField()),
    },
)
TOMBSTONE = inline_serializer(
    "Tombstone",
    fields={
        "id": serializers.IntegerField(),
        "external_id": serializers.CharField(),
        "deleted": serializers.BooleanField(),
        "merged_into": serializers.IntegerField(allow_null=True),
        "at": serializers.DateTimeField(),
    },
)
FEED_PARAMETERS = [
    OpenApiParameter(
        "updated_since",
        OpenApiTypes.DATETIME,
        description="only records written at or after this instant (ISO 8601; a date alone is midnight in the "
        "workspace's time zone); the cursor keeps it",
    ),
    OpenApiParameter("cursor", OpenApiTypes.STR, description="the `cursor` of the previous page: resume after it"),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="records per page, 1 to 1000 (default 100)"),
]


def identifiers(choices) -> list[tuple[str, str]]:
    """A filter's choices as the identifiers themselves (the API speaks in identifiers)."""
    return [(value, value) for value in choices.values]


class EmailFilter(django_filters.CharFilter):
    """Emails are stored trimmed and lower-cased; so is the value filtered on."""

    def filter(self, qs, value):
        return super().filter(qs, value.strip().lower() if value else value)


class TimestampFilter(django_filters.CharFilter):
    """A time bound read as the interchange reads timestamps (ISO 8601; a date alone is midnight
    in the workspace's time zone); a value it refuses is a 400 naming the parameter."""

    def filter(self, qs, value):
        if value in (None, ""):
            return qs
        from zoneinfo import ZoneInfo

        try:
            moment = parse_datetime(value, ZoneInfo(self.parent.request.workspace.timezone))
        except Invalid as error:
            raise exceptions.ValidationError({self.field_name_shown: [str(error)]}) from None
        return super().filter(qs, moment)

    @property
    def field_name_shown(self) -> str:
        return next((name for name, f in self.parent.filters.items() if f is self), self.field_name)


def _page_size(request) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return settings.API_PAGE_SIZE
    # the length first: int() refuses over 4,300 digits
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9 or not 1 <= int(raw) <= settings.API_MAX_PAGE_SIZE:
        raise exceptions.ValidationError(
            {"page_size": [f"A whole number from 1 to {settings.API_MAX_PAGE_SIZE} (got '{shown(raw)}')."]}
        )
    return int(raw)


class FeedSchema(AutoSchema):
    """A list answers one page object of the change feed (records, tombstones, cursor), not an
    array of records: tell drf-spectacular so."""

    def _is_list_view(self, serializer=None) -> bool:
        if getattr(self.view, "action", None) == "list":
            return False
        return super()._is_list_view(serializer)

    def get_filter_backends(self) -> list:
        # The list and the export filter alike (the filters of each resource's FilterSet).
        if getattr(self.view, "action", None) in ("list", "export"):
            return getattr(self.view, "filter_backends", [])
        return super().get_filter_backends()

    def get_operation_id(self) -> str:
        operation_id = super().get_operation_id()
        if getattr(self.view, "action", None) == "list":
            return operation_id.removesuffix("_retrieve") + "_list"
        return operation_id


class ResourceViewSet(WorkspaceAPIView, viewsets.GenericViewSet):
    resource: Resource
    schema = FeedSchema()
    since_field = "updated_at"
    lookup_value_regex = r"\d+"
    actions = {
        "list": Action.VIEW_WORKSPACE,
        "retrieve": Action.VIEW_WORKSPACE,
        "export": Action.EXPORT_DATA,
    }  # and the writes: resource_viewset reads them from workspaces.permissions

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reads the model, outside any scope
            with scopes_disabled():
                return self.resource.model.objects.none()
        return self.resource.rows()

    # --- reads --------------------------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        self._refuse_unknown_parameters(request, "updated_since", "cursor", "page_size")
        queryset = self.filter_queryset(self.get_queryset())
        page_size = _page_size(request)
        if "cursor" in request.query_params:
            cursor = Cursor.decode(request.query_params["cursor"])
        else:
            since = parse_since(request.query_params.get("updated_since"), self._tz())
            cursor = Cursor(since=since.isoformat() if since else None)
        records, tombstones, after, more = feed_page(
            resource=self.resource, queryset=queryset, cursor=cursor, page_size=page_size, since_field=self.since_field
        )
        params = request.query_params.copy()
        params.pop("updated_since", None)
        params["cursor"] = after.encode()
        return Response(
            {
                "results": records,
                "tombstones": tombstones,
                "cursor": after.encode(),
                "has_more": more,
                "next": request.build_absolute_uri(f"{request.path}?{params.urlencode()}") if more else None,
            }
        )

    def retrieve(self, request, *args, **kwargs):
        return Response(self._representation(self._pk()))

    @action(detail=False, methods=["get"], url_path="export")
    def export(self, request, *args, **kwargs):
        self._refuse_unknown_parameters(request)
        queryset = self.filter_queryset(self.get_queryset())
        export_start(
            workspace=self.workspace,
            resource=self.resource.name,
            via="api",
            actor=self.actor,
            filters=request.query_params.dict(),
        )
        response = StreamingHttpResponse(export_csv(self.resource, queryset), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{self.workspace.slug}-{self.resource.name}.csv"'
        return response

    # --- helpers ------------------------------------------------------------------------------

    def _refuse_unknown_parameters(self, request, *extra: str) -> None:
        """A misspelt filter must not answer every record as if it had filtered them."""
        filters = self.filterset_class.base_filters if self.filterset_class else {}
        known = [*filters, *extra]
        unknown = sorted(set(request.query_params) - {*known, "format"})
        if unknown:
            raise exceptions.ValidationError(
                {shown(name): [f"Unknown parameter. Known: {', '.join(known)}."] for name in unknown}
            )

    def _tz(self):
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.workspace.timezone)

    def _pk(self) -> int:
        raw = self.kwargs[self.lookup_field]
        # beyond any row (and any database integer); the length first: int() refuses over 4,300 digits
        if len(raw.lstrip("0")) > 19 or int(raw) >= 2**63:
            raise exceptions.NotFound(f"No {self.resource.label} #{shown(raw)} in this workspace.")
        return int(raw)

    def _object(self):
        target = self.get_queryset().filter(pk=self._pk()).first()
        if target is None:
            raise exceptions.NotFound(f"No {self.resource.label} #{self._pk()} in this workspace.")
        return target

    def _representation(self, record_id: int) -> dict:
        row = self.get_queryset().filter(pk=record_id).values_list(*self.resource.values).first()
        if row is None:
            raise exceptions.NotFound(f"No {self.resource.label} #{record_id} in this workspace.")
        return output_rows(self.resource.output_names(), [row])[0]

    def _object_body(self, request) -> dict:
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": [f"Send one {self.resource.label} as a JSON object of its fields."]}
            )
        return request.data

    def _upsert(self, records: list, kind: str, **options):
        """The resource's upsert; a record that needs an action the caller lacks (a stage event
        into a sales stage) is refused: 403 when sent alone, in its own result in a batch."""
        granted, who = self.granted
        if kind != BULK:
            refused = unpermitted_records(self.resource.name, kind, records, granted, who)
            if refused:
                raise exceptions.PermissionDenied(next(iter(refused[0].values()))[0])
        return upsert_permitted(
            self.resource.upsert,
            resource=self.resource.name,
            kind=kind,
            records=records,
            granted=granted,
            who=who,
            workspace=self.workspace,
            actor=self.actor,
            source=EventSource.API,
            **options,
        )


class WriteMixin:
    """create (an upsert of one) and the bulk upsert."""

    def create(self, request, *args, **kwargs):
        body = request.body
        record = self._object_body(request)

        def write():
            result = self._upsert([record], CREATE, require_key=False).results[0]
            if result["status"] == "error":
                raise exceptions.ValidationError(result["errors"])
            code = status.HTTP_201_CREATED if result["status"] == "created" else status.HTTP_200_OK
            return code, self._representation(result["id"])

        return run_write(request, write, body)

    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request, *args, **kwargs):
        body = request.body
        data = request.data
        records = data.get("records") if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise exceptions.ValidationError({"records": ['Send {"records": [...]}: a list of records.']})
        if isinstance(data, dict) and set(data) - {"records"}:
            raise exceptions.ValidationError({shown(k): ["Unknown field."] for k in set(data) - {"records"}})
        if len(records) > settings.API_MAX_BATCH:
            raise exceptions.ValidationError(
                {"records": [f"At most {settings.API_MAX_BATCH} records per request; this has {len(records)}."]}
            )

        def write():
            return status.HTTP_200_OK, self._upsert(records, BULK).as_dict()

        return run_write(request, write, body)


class UpdateMixin:
    """partial update of one record (an empty value clears a field)."""

    def partial_update(self, request, *args, **kwargs):
        body = request.body
        record = self._object_body(request)

        def write():
            result = self._upsert([record], UPDATE, pinned=self._object(), clear_blanks=True).results[0]
            if result["status"] == "error":
                raise exceptions.ValidationError(result["errors"])
            return status.HTTP_200_OK, self._representation(result["id"])

        return run_write(request, write, body)


class DeleteMixin:
    def destroy(self, request, *args, **kwargs):
        body = request.body

        def write():  # the record is looked up inside, so a replayed delete answers as the first did
            try:
                self.resource.delete(workspace=self.workspace, record=self._object(), actor=self.actor)
            except DjangoValidationError as error:
                raise Conflict(" ".join(error.messages)) from None
            return status.HTTP_204_NO_CONTENT, None

        return run_write(request, write, body)


def resource_viewset(
    resource: Resource, *, filterset_class=None, updatable=True, base=ResourceViewSet
) -> type[ResourceViewSet]:
    """The viewset of one resource, with its schema: writable when the resource has an upsert
    (``updatable``: with PATCH too), deletable when it has a delete service."""
    writable = resource.upsert is not None
    updatable = writable and updatable
    deletable = resource.delete is not None
    record = resource.spec.output_serializer()
    incoming = resource.spec.input_serializer()
    name = resource.spec.resource
    page = inline_serializer(
        f"{record.__name__}Page",
        fields={
            "results": record(many=True),
            "tombstones": TOMBSTONE.__class__(many=True),
            "cursor": serializers.CharField(help_text="keep it: ask with it later for what changed since"),
            "has_more": serializers.BooleanField(),
            "next": serializers.URLField(allow_null=True),
        },
    )
    bulk_body = inline_serializer(f"{record.__name__}Batch", fields={"records": incoming(many=True)})
    idempotency = OpenApiParameter(
        "Idempotency-Key",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="a retry with the same key and body returns the first answer and writes nothing",
    )
    schemas = {
        "list": extend_schema(
            summary=f"List {name} (the change feed)",
            description=(
                "Records in the order they were written (commit order), with the tombstones of deleted and "
                "merged ones. Follow `next` while `has_more` is true; keep the last `cursor` and ask with it "
                "later for what changed since: a record comes again only when it was written again."
            ),
            parameters=FEED_PARAMETERS,
            responses={200: page, 400: ERRORS},
        ),
        "retrieve": extend_schema(
            summary=f"One {resource.label}",
            description="By our id. An id of another workspace answers 404, as one that does not exist.",
            responses={200: record, 404: ERRORS},
        ),
        "export": extend_schema(
            summary=f"All {name} as CSV",
            description="Every record the filters select, in the interchange columns, streamed in id order.",
            responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="the interchange columns")},
        ),
    }
    allowed = ["list", "retrieve", "export"]
    if writable:
        allowed += ["create", "bulk"] + (["partial_update"] if updatable else [])
        schemas |= {
            "create": extend_schema(
                summary=f"Create a {resource.label}, or update the one it matches ({resource.spec.matched_on})",
                description=(
                    "An upsert of one record: 201 when it was created, 200 when it matched one (updated or "
                    "unchanged). Fields left out or sent empty are left as they are."
                ),
                request=incoming,
                parameters=[idempotency],
                responses={201: record, 200: record, 400: ERRORS, 422: ERRORS},
            ),
            "partial_update": extend_schema(
                summary=f"Change a {resource.label} (an empty value clears a field)",
                description="Only the fields sent change; a field sent empty or null is cleared where it may be.",
                request=incoming,
                parameters=[idempotency],
                responses={200: record, 400: ERRORS, 404: ERRORS, 422: ERRORS},
            ),
            "bulk": extend_schema(
                summary=f"Upsert up to 1,000 {name}, matched on {resource.spec.matched_on}",
                description=(
                    "Validated together, written in one transaction; one bad record never fails the others. "
                    "Each result gives the record's index, its status (created, updated, unchanged, error), "
                    "its id and its errors by field. Sending the same batch again changes nothing."
                ),
                request=bulk_body,
                parameters=[idempotency],
                responses={200: BULK_ANSWER, 400: ERRORS, 413: ERRORS, 422: ERRORS},
            ),
        }
    if deletable:
        allowed.append("destroy")
        schemas["destroy"] = extend_schema(
            summary=f"Delete a {resource.label}",
            description=resource.delete_help,
            parameters=[idempotency],
            responses={204: None, 404: ERRORS, 409: ERRORS},
        )
    # what each write needs: the table beside the role table (workspaces.permissions)
    kinds = {"create": CREATE, "partial_update": UPDATE, "bulk": BULK, "destroy": DELETE}
    writes = {name: write_actions(resource.name, kind) for name, kind in kinds.items() if name in allowed}
    attrs = {"resource": resource, "filterset_class": filterset_class, "actions": base.actions | writes}
    if resource.name == "stage_events":
        attrs["since_field"] = "recorded_at"
    mixins = [m for m, wanted in ((WriteMixin, writable), (UpdateMixin, updatable), (DeleteMixin, deletable)) if wanted]
    bases = (*mixins, base)
    viewset = type(f"{record.__name__}ViewSet", bases, attrs)
    return extend_schema_view(**{k: v for k, v in schemas.items() if k in allowed})(viewset)
