from django.contrib import admin

from workspaces.admin_scoping import ReadOnlyScopedAdmin

from .models import Contract, Opportunity, RecomputeState, Snapshot, StageEvent


@admin.register(Opportunity)
class OpportunityAdmin(ReadOnlyScopedAdmin):
    """Read-only: opening, winning and losing deals go through the stage services."""

    list_display = ["name", "account", "primary_lead", "kind", "stage", "amount", "created_at", "closed_at"]
    list_filter = ["kind", "stage", "lost_reason"]
    search_fields = ["name", "external_id", "account__name", "primary_lead__email"]
    list_select_related = ["workspace", "account", "primary_lead"]


@admin.register(Contract)
class ContractAdmin(ReadOnlyScopedAdmin):
    list_display = ["account", "start_date", "end_date", "annual_value", "status", "workspace"]
    list_filter = ["status"]
    search_fields = ["account__name", "external_id"]
    list_select_related = ["workspace", "account"]


@admin.register(StageEvent)
class StageEventAdmin(ReadOnlyScopedAdmin):
    """The append-only ledger: never edited or deleted."""

    list_display = ["entered_at", "lead", "from_stage", "stage", "source", "actor", "reason", "workspace"]
    list_filter = ["stage", "source"]
    search_fields = ["lead__email", "reason", "note"]
    list_select_related = ["workspace", "lead", "actor"]
    show_full_result_count = False


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyScopedAdmin):
    """The engine's results, written whole by one recompute (``manage.py recompute``)."""

    list_display = ["started_at", "status", "progress_stage", "progress_percent", "duration_seconds", "workspace"]
    list_filter = ["status"]
    search_fields = ["error", "workspace__slug"]
    exclude = ["arrays", "labels", "summary"]  # the numbers themselves: large, read by the reports


@admin.register(RecomputeState)
class RecomputeStateAdmin(ReadOnlyScopedAdmin):
    """Whether a recompute runs for a workspace now, and whether another was asked for meanwhile."""

    list_display = ["workspace", "running_since", "heartbeat_at", "pending"]
    search_fields = ["workspace__slug"]
