"""The Django admin, scoped: a superuser sees every workspace; a staff user sees only the
workspaces where they are an admin. (The middleware runs the admin with scopes disabled, so each
ModelAdmin filters by workspace itself, here.)"""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import Membership, Role, Workspace


def admin_workspace_ids(user) -> list[int] | None:
    """None means every workspace (superuser); someone not logged in (the admin's login page
    asks too, to list what it offers) has none."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return None
    return list(
        Membership.objects.with_scopes_disabled()
        .filter(user=user, role=Role.ADMIN)
        .values_list("workspace_id", flat=True)
    )


NOT_A_MEMBER = _("Choose a member of this workspace.")


class ScopedAdminForm(forms.ModelForm):
    """The checks an edit in the admin needs because the admin writes the row directly: the
    workspace is a read-only field, so Django would leave it out of the unique checks (a
    duplicate email or domain would reach the database as an IntegrityError, a 500); a related
    record must be of the row's own workspace, and a person (an owner) one of its members;
    ``normalizers`` store a field the way the product's services do.

    A person is chosen from the members of the row's workspace only, and a refusal names no
    one: logins are shared by workspaces, so a message or label that showed the user behind an
    id would list the people of every workspace to anyone who walks the ids. (Hence no raw-id
    widget for a person: it labels whatever id it is given with that user's email.)"""

    normalizers: dict = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        workspace_id = self._workspace_id()
        User = get_user_model()
        for field in self.fields.values():
            if isinstance(field, forms.ModelChoiceField) and field.queryset.model is User:
                members = Membership.objects.with_scopes_disabled().filter(workspace_id=workspace_id)
                field.queryset = User.objects.filter(id__in=members.values("user_id")).order_by("email")
                field.error_messages["invalid_choice"] = NOT_A_MEMBER

    def _workspace_id(self):
        return getattr(self.instance, "workspace_id", None)

    def _get_validation_exclusions(self):
        exclude = super()._get_validation_exclusions()
        exclude.discard("workspace")
        return exclude

    def clean(self):
        cleaned = super().clean()
        workspace_id = self._workspace_id()
        for name, normalize in self.normalizers.items():
            if cleaned.get(name):
                try:
                    cleaned[name] = normalize(cleaned[name])
                except forms.ValidationError as error:
                    self.add_error(name, error)
        if workspace_id is None:
            return cleaned
        User = get_user_model()
        for name, value in list(cleaned.items()):
            if isinstance(value, User):
                is_member = (
                    Membership.objects.with_scopes_disabled().filter(workspace_id=workspace_id, user=value).exists()
                )
                if not is_member:
                    self.add_error(name, NOT_A_MEMBER)
            elif isinstance(value, Workspace):
                if value.pk != workspace_id:
                    self.add_error(name, "A record cannot move to another workspace.")
            elif getattr(value, "workspace_id", workspace_id) != workspace_id:
                self.add_error(name, f"No such {name.replace('_', ' ')} in this workspace.")
        return cleaned


class WorkspaceScopedAdmin(admin.ModelAdmin):
    workspace_field = "workspace"
    list_select_related = ("workspace",)
    form = ScopedAdminForm

    def save_model(self, request, obj, form, change):
        if change and hasattr(obj, "updated_at"):
            obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

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
        # Choices from the admin's own workspaces only (the form then holds a row to its own).
        related = db_field.related_model
        ids = admin_workspace_ids(request.user)
        if related is Workspace:
            kwargs["queryset"] = Workspace.objects.all() if ids is None else Workspace.objects.filter(id__in=ids)
        elif any(f.name == "workspace" for f in related._meta.fields):
            queryset = related.objects.with_scopes_disabled().all()
            kwargs["queryset"] = queryset if ids is None else queryset.filter(workspace__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyScopedAdmin(WorkspaceScopedAdmin):
    def has_change_permission(self, request, obj=None):
        return False
