from django.contrib import admin

from workspaces.admin_scoping import ReadOnlyScopedAdmin, ScopedAdminForm, WorkspaceScopedAdmin

from .models import Lead, LeadMerge
from .normalize import normalize_email


class LeadAdminForm(ScopedAdminForm):
    normalizers = {"email": normalize_email}

    def clean(self):
        cleaned = super().clean()
        if "email" in cleaned and not cleaned["email"] and self.instance.erased_at is None:
            self.add_error("email", "An email address is required (only an erased person has none).")
        return cleaned


@admin.register(Lead)
class LeadAdmin(WorkspaceScopedAdmin):
    list_display = ["email", "first_name", "last_name", "account", "stage", "score", "owner", "workspace"]
    list_filter = ["stage", "seniority"]
    search_fields = ["email", "first_name", "last_name", "external_id"]
    list_select_related = ["workspace", "account", "owner"]
    # The stage moves only through the stage services, which write the ledger.
    readonly_fields = [
        "workspace", "stage", "stage_entered_at", "captured_at", "account", "merged_into", "erased_at",
        "created_at", "updated_at",
    ]  # fmt: skip
    show_full_result_count = False
    form = LeadAdminForm


@admin.register(LeadMerge)
class LeadMergeAdmin(ReadOnlyScopedAdmin):
    """The audit rows of merges (made on the Merge leads page or through the API)."""

    list_display = ["merged_at", "survivor", "loser_email", "loser_external_id", "moved", "actor", "workspace"]
    search_fields = ["loser_email", "loser_external_id", "survivor__email"]
    list_select_related = ["workspace", "survivor", "actor"]
