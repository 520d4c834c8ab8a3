from functools import wraps

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext

from .audit import audit_context, client_ip
from .permissions import Action, role_can


def workspace_view(action: Action):
    """Guard a ``/w/<workspace_slug>/`` view: the middleware has already resolved the workspace
    and the membership (404 for non-members); here the role must allow ``action`` (else 403).
    The view is called without ``workspace_slug``; it reads ``request.workspace``. The member
    and their address are who acted for the audit events the view's services write."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, workspace_slug: str, **kwargs):
            membership = getattr(request, "membership", None)
            if membership is None:  # pragma: no cover - the middleware guarantees it
                raise PermissionDenied
            if not role_can(membership.role, action):
                raise PermissionDenied(
                    gettext("Your role (%(role)s) may not %(action)s.")
                    % {"role": membership.get_role_display(), "action": action.label}
                )
            with audit_context(actor=request.user, ip_address=client_ip(request)):
                return view(request, *args, **kwargs)

        wrapper.workspace_action = action
        return wrapper

    return decorator
