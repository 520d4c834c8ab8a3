"""The REST API's foundation: who is asking, for which workspace, and may they.

- ``Authorization: Bearer <key>``: a workspace API key (hashed with djangorestframework-api-key);
  the key names its workspace.
- A browser session of a member, naming the workspace in ``X-Workspace: <slug>`` (CSRF applies).

The workspace is resolved once per request; a key or user that does not belong to it gets 404,
as in the browser. Every endpoint states the action it needs per viewset action
(``WorkspaceAPIView.actions``); the role or key scope must allow it (``workspaces.permissions``),
else 403. The view then runs inside the workspace's scope and time zone.
"""

from contextlib import ExitStack

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from .audit import audit_context, client_ip
from .models import WorkspaceAPIKey
from .permissions import KEY_SCOPE_ACTIONS, ROLE_ACTIONS, Action, key_scope_can, ordered, role_can
from .scoping import workspace_scope
from .selectors import membership_of


def resolve_workspace(request):
    """The request's workspace and the caller's membership (None for a key), once per request."""
    if hasattr(request, "workspace"):
        return request.workspace
    header = request.headers.get("X-Workspace", "").strip()
    if isinstance(request.auth, WorkspaceAPIKey):
        workspace = request.auth.workspace
        if header and header != workspace.slug:
            raise exceptions.NotFound("No such workspace.")
        request.workspace, request.membership = workspace, None
        return workspace
    if not header:
        raise exceptions.ParseError("Name the workspace in an X-Workspace header (its slug), or use an API key.")
    membership = membership_of(request.user, header)
    if membership is None:
        raise exceptions.NotFound("No such workspace.")
    request.workspace, request.membership = membership.workspace, membership
    return membership.workspace


class WorkspacePermission(BasePermission):
    """The caller may do the view's action here: their role's row, or their key scope's."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            raise exceptions.NotAuthenticated("Send an API key (Authorization: Bearer <key>) or log in.")
        resolve_workspace(request)
        for action in ordered(view.required_action(request)):
            if request.membership is not None:
                if not role_can(request.membership.role, action):
                    raise exceptions.PermissionDenied(
                        f"Your role ({request.membership.get_role_display()}) may not {action.label}."
                    )
            elif not key_scope_can(request.auth.scope, action):
                raise exceptions.PermissionDenied(
                    f"This API key ({request.auth.get_scope_display()}) may not {action.label}."
                )
        return True


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "too_large"


class WorkspaceAPIView:
    """Mixin for every endpoint under /api/v1/: deny by default, resolve the workspace, run in
    its scope. ``actions`` maps a viewset action (or an HTTP method, in lower case) to the
    ``Action`` it needs, or the set of them; one that is not listed is refused."""

    permission_classes = [WorkspacePermission]
    actions: dict[str, Action | frozenset[Action]] = {}

    def required_action(self, request) -> Action | frozenset[Action]:
        name = getattr(self, "action", None) or request.method.lower()
        if name not in self.actions and request.method == "OPTIONS":
            return Action.VIEW_WORKSPACE
        try:
            return self.actions[name]
        except KeyError:
            raise exceptions.MethodNotAllowed(request.method) from None

    def dispatch(self, request, *args, **kwargs):
        self._scopes = ExitStack()
        with self._scopes:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.API_MAX_BODY_BYTES:
            raise PayloadTooLarge(
                f"The body is {int(length):,} bytes; at most {settings.API_MAX_BODY_BYTES:,} are taken. "
                "Send fewer records per request."
            )
        super().initial(request, *args, **kwargs)
        self._scopes.enter_context(workspace_scope(request.workspace))
        self._scopes.enter_context(timezone.override(request.workspace.timezone))
        # who acted, for the audit events of this call: the key, or the member of the session
        principal = request.auth if isinstance(request.auth, WorkspaceAPIKey) else request.user
        self._scopes.enter_context(audit_context(actor=principal, ip_address=client_ip(request)))

    @property
    def workspace(self):
        return self.request.workspace

    @property
    def granted(self) -> tuple[frozenset[Action], str]:
        """What the caller may do, and how a refusal names them (for checks record by record)."""
        membership = self.request.membership
        if membership is not None:
            return ROLE_ACTIONS.get(membership.role, frozenset()), f"Your role ({membership.get_role_display()})"
        key = self.request.auth
        return KEY_SCOPE_ACTIONS.get(key.scope, frozenset()), f"This API key ({key.get_scope_display()})"

    @property
    def actor(self):
        """The member acting, for the ledger's actor column (None for an API key)."""
        return self.request.user if self.request.membership is not None else None


def exception_handler(exc, context):
    """DRF's errors, plus Django's ValidationError as 400 ``{field: [messages]}``, a body over
    the cap as 413 and Http404 with its message."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            detail = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": [str(m) for m in exc.messages]}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            {"detail": f"The body is over {settings.API_MAX_BODY_BYTES:,} bytes; send fewer records per request."},
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    return drf_exception_handler(exc, context)
