from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from funnel.selectors import latest_activity, stage_counts

from .decorators import workspace_view
from .forms import APIKeyForm, MemberAddForm, MemberRoleForm, WorkspaceSettingsForm
from .login_lockout import locked_out_usernames
from .models import Membership, WorkspaceAPIKey
from .permissions import Action
from .selectors import memberships_for_user
from .services import (
    api_key_create,
    api_key_revoke,
    membership_add,
    membership_change_role,
    membership_remove,
    membership_unlock,
    workspace_settings_update,
)
from .show_once import secret_keep, secret_take


@login_required
def workspace_switch(request):
    memberships = list(memberships_for_user(request.user))
    if len(memberships) == 1 and "all" not in request.GET:
        return redirect("home", workspace_slug=memberships[0].workspace.slug)
    return render(request, "workspaces/switch.html", {"memberships": memberships})


@workspace_view(Action.VIEW_WORKSPACE)
def home(request):
    return render(
        request,
        "workspaces/home.html",
        {"stage_counts": stage_counts(request.workspace), "activity": latest_activity(request.workspace, limit=15)},
    )


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


@workspace_view(Action.MANAGE_MEMBERS)
def members(request):
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = membership_add(
                workspace=request.workspace,
                actor=request.user,
                invite_site_url=request.build_absolute_uri("/"),
                invited_by=request.user,
                **form.cleaned_data,
            )
        except ValidationError as error:
            field = next(iter(error.message_dict), None) if hasattr(error, "error_dict") else None
            form.add_error(field if field in form.fields else None, _error_text(error))
        else:
            done = _("%(email)s is now %(role)s.") % {
                "email": membership.user.email,
                "role": membership.get_role_display(),
            }
            if form.cleaned_data["password"]:
                # the same words whether or not the address had a login (see membership_add)
                done += " " + _("If they already had a login, it keeps its own password.")
            messages.success(request, done)
            return redirect("members", workspace_slug=request.workspace.slug)
    memberships = list(Membership.objects.select_related("user").order_by("user__email"))
    locked = locked_out_usernames(m.user.email for m in memberships)
    for membership in memberships:
        membership.locked_out = membership.user.email in locked
    return render(
        request,
        "workspaces/members.html",
        {"form": form, "memberships": memberships, "role_form": MemberRoleForm()},
    )


@workspace_view(Action.MANAGE_MEMBERS)
@require_POST
def member_change(request, membership_id: int):
    membership = get_object_or_404(Membership.objects.select_related("user", "workspace"), pk=membership_id)
    try:
        if "remove" in request.POST:
            membership_remove(membership=membership, actor=request.user)
            messages.success(
                request,
                _("%(email)s was removed from %(workspace)s.")
                % {"email": membership.user.email, "workspace": request.workspace.name},
            )
        elif "unlock" in request.POST:
            membership_unlock(membership=membership, actor=request.user)
            messages.success(
                request,
                _("%(email)s can log in again: their failed logins are forgotten.") % {"email": membership.user.email},
            )
        else:
            form = MemberRoleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Unknown role '%(role)s'.") % {"role": request.POST.get("role", "")})
            membership = membership_change_role(
                membership=membership, role=form.cleaned_data["role"], actor=request.user
            )
            messages.success(
                request,
                _("%(email)s is now %(role)s.")
                % {"email": membership.user.email, "role": membership.get_role_display()},
            )
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("members", workspace_slug=request.workspace.slug)


@workspace_view(Action.MANAGE_WORKSPACE)
def workspace_settings(request):
    form = WorkspaceSettingsForm(request.POST or None, instance=request.workspace)
    if request.method == "POST" and form.is_valid():
        workspace_settings_update(workspace=request.workspace, values=form.cleaned_data, actor=request.user)
        messages.success(request, _("Settings saved. The next recompute uses them."))
        return redirect("workspace-settings", workspace_slug=request.workspace.slug)
    return render(request, "workspaces/settings.html", {"form": form})


@workspace_view(Action.MANAGE_INTEGRATIONS)
def api_keys(request):
    """The workspace's API keys: make one (its secret is shown this once), revoke one."""
    form = APIKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, secret = api_key_create(workspace=request.workspace, actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, _error_text(error))
        else:
            messages.success(
                request, _("API key '%(name)s' made. Copy it now: it is not shown again.") % {"name": key.name}
            )
            # shown by the GET this redirects to, and only there (a reload makes no second key)
            secret_keep(request, page="api-keys", secret=secret)
            return redirect("api-keys", workspace_slug=request.workspace.slug)
    new_secret = secret_take(request, page="api-keys")
    keys = WorkspaceAPIKey.objects.select_related("created_by").order_by("revoked", "-created")
    return render(request, "workspaces/api_keys.html", {"form": form, "keys": keys, "new_secret": new_secret})


@workspace_view(Action.MANAGE_INTEGRATIONS)
@require_POST
def api_key_revoke_view(request, key_prefix: str):
    key = get_object_or_404(WorkspaceAPIKey.objects.all(), prefix=key_prefix)
    api_key_revoke(workspace=request.workspace, key=key, actor=request.user)
    messages.success(
        request,
        _("API key '%(name)s' (%(prefix)s) is revoked; requests with it now get 401.")
        % {"name": key.name, "prefix": key.prefix},
    )
    return redirect("api-keys", workspace_slug=request.workspace.slug)
