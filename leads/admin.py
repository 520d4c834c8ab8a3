from django.contrib import admin

from workspaces.admin_scoping import WorkspaceScopedAdmin

from .models import Lead


@admin.register(Lead)
class LeadAdmin(WorkspaceScopedAdmin):
    list_display = ["email", "first_name", "last_name", "account", "stage", "score", "owner", "workspace"]
    list_filter = ["stage", "seniority"]
    search_fields = ["email", "first_name", "last_name", "external_id"]
    list_select_related = ["workspace", "account", "owner"]
    # The stage moves only through the stage services, which write the ledger.
    readonly_fields = ["workspace", "stage", "stage_entered_at", "account", "created_at", "updated_at"]
    raw_id_fields = ["owner"]
    show_full_result_count = False
