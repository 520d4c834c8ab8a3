"""The Django admin, scoped: a superuser sees every workspace; a staff user sees only the
workspaces where they are an admin. (The middleware runs the admin with scopes disabled, so each
ModelAdmin filters by workspace itself, here.)"""

from django.contrib import admin

from .models import Membership, Role


def admin_workspace_ids(user) -> list[int] | None:
    """None means every workspace (superuser)."""
    if user.is_superuser:
        return None
    return list(
        Membership.objects.with_scopes_disabled()
        .filter(user=user, role=Role.ADMIN)
        .values_list("workspace_id", flat=True)
    )


class WorkspaceScopedAdmin(admin.ModelAdmin):
    workspace_field = "workspace"
    list_select_related = ("workspace",)

    def get_queryset(self, request):
        queryset = self.model.objects.with_scopes_disabled().all()
        ids = admin_workspace_ids(request.user)
        return queryset if ids is None else queryset.filter(**{f"{self.workspace_field}__in": ids})

    def _allowed(self, request) -> bool:
        ids = admin_workspace_ids(request.user)
        return ids is None or bool(ids)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._allowed(request)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_change_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False  # records are created through the product's services, which write the ledger

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if hasattr(related, "workspace_id") or any(f.name == "workspace" for f in related._meta.fields):
            ids = admin_workspace_ids(request.user)
            queryset = related.objects.with_scopes_disabled().all()
            kwargs["queryset"] = queryset if ids is None else queryset.filter(workspace__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyScopedAdmin(WorkspaceScopedAdmin):
    def has_change_permission(self, request, obj=None):
        return False
