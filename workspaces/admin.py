from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from rest_framework_api_key.admin import APIKey

from .admin_scoping import ReadOnlyScopedAdmin, ScopedAdminForm, WorkspaceScopedAdmin, admin_workspace_ids
from .models import Membership, Role, User, Workspace, WorkspaceAPIKey
from .services import (
    SETTINGS_FIELDS,
    last_admin_problem,
    membership_change_role,
    workspace_create,
    workspace_settings_update,
)

# The library's own key model is unused (keys belong to a workspace: WorkspaceAPIKey).
admin.site.unregister(APIKey)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    search_fields = ["email", "full_name"]
    list_filter = ["is_staff", "is_superuser", "is_active"]
    fieldsets = (
        (None, {"fields": ("email", "password", "full_name")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = (
        lambda self, request, obj=None: request.user.is_superuser
    )


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    """A workspace's settings, saved through the services as on its Settings page: a change
    through ``workspace_settings_update`` (the audit trail records it), a new workspace (superusers
    only) through ``workspace_create`` (its default channels). The slug is its URLs' and stays."""

    list_display = ["name", "slug", "currency", "timezone", "created_at"]
    search_fields = ["name", "slug"]

    def get_fields(self, request, obj=None):
        return ["slug", *SETTINGS_FIELDS] if obj is None else ["slug", *SETTINGS_FIELDS, "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["slug", "created_at"]

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data[name] for name in SETTINGS_FIELDS if name in form.cleaned_data}
        if change:
            workspace_settings_update(workspace=obj, values=values, actor=request.user)
            return
        created = workspace_create(slug=form.cleaned_data["slug"], **values)
        obj.pk, obj._state.adding = created.pk, False

    def get_queryset(self, request):
        ids = admin_workspace_ids(request.user)
        queryset = super().get_queryset(request)
        return queryset if ids is None else queryset.filter(id__in=ids)

    def has_module_permission(self, request):
        ids = admin_workspace_ids(request.user)
        return request.user.is_staff and (ids is None or bool(ids))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False


class MembershipAdminForm(ScopedAdminForm):
    def clean_role(self):
        role = self.cleaned_data["role"]
        if self.instance.pk and self.instance.role == Role.ADMIN and role != Role.ADMIN:
            problem = last_admin_problem(self.instance)
            if problem:
                raise ValidationError(problem)
        return role


@admin.register(Membership)
class MembershipAdmin(WorkspaceScopedAdmin):
    """Only the role changes here (through the service, which keeps a workspace's last admin);
    people are added on the workspace's Members page or with ``add_member``."""

    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email", "workspace__slug"]
    readonly_fields = ["user", "workspace", "created_at"]
    form = MembershipAdminForm

    def save_model(self, request, obj, form, change):
        membership_change_role(
            membership=Membership.objects.with_scopes_disabled().get(pk=obj.pk), role=obj.role, actor=request.user
        )


@admin.register(WorkspaceAPIKey)
class WorkspaceAPIKeyAdmin(ReadOnlyScopedAdmin):
    """Made and revoked on the workspace's API keys page (the secret is shown there once)."""

    list_display = ["name", "prefix", "scope", "revoked", "created", "last_used_at", "workspace"]
    list_filter = ["scope", "revoked"]
    search_fields = ["name", "prefix"]
    exclude = ["hashed_key"]

    def get_queryset(self, request):
        queryset = WorkspaceAPIKey.keys.select_related("workspace")
        ids = admin_workspace_ids(request.user)
        return queryset if ids is None else queryset.filter(workspace__in=ids)
