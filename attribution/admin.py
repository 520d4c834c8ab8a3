from django.contrib import admin

from workspaces.admin_scoping import ReadOnlyScopedAdmin, WorkspaceScopedAdmin

from .models import Campaign, Channel, Touch


@admin.register(Channel)
class ChannelAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "slug", "workspace"]
    search_fields = ["name", "slug"]
    readonly_fields = ["workspace"]


@admin.register(Campaign)
class CampaignAdmin(WorkspaceScopedAdmin):
    # no status column: it follows the dates in each workspace's time zone (the campaign pages show it)
    list_display = [
        "name",
        "channel",
        "type",
        "start_date",
        "end_date",
        "closed_at",
        "budget",
        "actual_cost",
        "workspace",
    ]
    list_filter = ["type"]
    search_fields = ["name", "external_id", "utm_campaign"]
    list_select_related = ["workspace", "channel"]
    readonly_fields = ["workspace", "created_at", "updated_at"]  # as for accounts and leads: kept by the product


@admin.register(Touch)
class TouchAdmin(ReadOnlyScopedAdmin):
    list_display = ["occurred_at", "lead", "type", "channel", "campaign", "account", "workspace"]
    list_filter = ["type"]
    search_fields = ["lead__email", "external_id", "campaign__name"]
    list_select_related = ["workspace", "lead", "channel", "campaign", "account"]
    show_full_result_count = False
