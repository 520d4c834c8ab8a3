from django.contrib import admin

from workspaces.admin_scoping import ScopedAdminForm, WorkspaceScopedAdmin

from .models import Account, TargetList, TargetListMember
from .normalize import normalize_domain


class AccountAdminForm(ScopedAdminForm):
    normalizers = {"domain": normalize_domain}


@admin.register(Account)
class AccountAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "domain", "segment", "industry", "country", "owner", "workspace"]
    list_filter = ["segment"]
    search_fields = ["name", "domain", "external_id"]
    readonly_fields = ["workspace", "created_at", "updated_at"]
    form = AccountAdminForm


@admin.register(TargetList)
class TargetListAdmin(WorkspaceScopedAdmin):
    list_display = ["name", "workspace", "created_at"]
    search_fields = ["name"]
    readonly_fields = ["workspace"]


@admin.register(TargetListMember)
class TargetListMemberAdmin(WorkspaceScopedAdmin):
    list_display = ["account", "target_list", "tier", "added_at", "workspace"]
    list_filter = ["tier"]
    search_fields = ["account__name", "account__domain", "target_list__name"]
    readonly_fields = ["workspace", "target_list", "account"]
