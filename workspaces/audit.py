"""The audit trail: who did what to a workspace.

Services write an ``AuditEvent`` with ``audit_record`` inside their own transaction, so a
change that rolls back leaves no event and a committed one always has its event. Who acted and
from which address comes from the call when the service knows it (``actor=``), else from the
request being served: ``audit_context`` is entered once per request by the page decorator
(``workspace_view``) and the API's base view (``WorkspaceAPIView``), and is empty in shell
commands and tasks, whose events are the system's.

This module is the base app's: domain services import it, it imports none of them.
"""

import ipaddress
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from django.db import transaction

from . import client_address
from .models import ActorType, AuditEvent, AuditObjectType, Membership, User, WorkspaceAPIKey
from .scoping import scopes_disabled


@dataclass(frozen=True)
class _Context:
    actor: object = None  # a User, a WorkspaceAPIKey, or None (anonymous, or the system)
    ip_address: str | None = None


_current: ContextVar[_Context] = ContextVar("audit_context", default=_Context())  # noqa: B039 - immutable


@contextmanager
def audit_context(*, actor=None, ip_address: str | None = None) -> Iterator[None]:
    """Who is acting, and from where, for the events written while it is entered."""
    token = _current.set(_Context(actor=actor, ip_address=ip_address))
    try:
        yield
    finally:
        _current.reset(token)


def client_ip(request) -> str | None:
    """The client's address by the one rule the login and key throttles use (it trusts
    ``X-Forwarded-For`` only behind ``TRUSTED_PROXY_COUNT`` proxies), or None."""
    return valid_ip(client_address.client_ip(request))


def valid_ip(value) -> str | None:
    """An address as stored, or None for anything that is not one."""
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None


def _actor_fields(workspace, actor) -> dict:
    if actor is None:
        actor = _current.get().actor
    if isinstance(actor, WorkspaceAPIKey):
        if actor.workspace_id != workspace.pk:  # pragma: no cover - a key acts only in its own workspace
            raise ValueError("an API key acts only in its own workspace")
        return {"actor_type": ActorType.API_KEY, "actor_key": actor, "actor_label": f"{actor.name} ({actor.prefix})"}
    key = getattr(actor, "key", None)  # the API's request.user for a key (KeyPrincipal)
    if isinstance(key, WorkspaceAPIKey):
        return _actor_fields(workspace, key)
    if isinstance(actor, User) and actor.pk is not None:
        return {"actor_type": ActorType.USER, "actor_user": actor, "actor_label": actor.email}
    return {"actor_type": ActorType.SYSTEM}


def _event(*, workspace, actor, action, object_type, object_id, payload, ip_address) -> AuditEvent:
    return AuditEvent(
        workspace=workspace,
        action=str(action),
        object_type=str(object_type),
        object_id=str(object_id) if object_id is not None else "",
        payload=payload or {},
        ip_address=ip_address if ip_address is not None else _current.get().ip_address,
        **_actor_fields(workspace, actor),
    )


@transaction.atomic
def audit_record(
    *,
    workspace,
    action: str,
    actor=None,
    object_type: str = "",
    object_id=None,
    payload: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Append one event to the workspace's trail, in the caller's transaction.

    ``actor``: the User or WorkspaceAPIKey that acted; None takes the request's (a member's
    session, or the API key of an API call), and outside a request means the system.
    ``payload``: JSON of what changed; never a lead's personal data."""
    event = _event(
        workspace=workspace,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
        ip_address=ip_address,
    )
    with scopes_disabled():  # written for the workspace given, whatever scope the caller is in
        event.save()
    return event


@transaction.atomic
def audit_record_for_user(
    *, user, action: str, actor=None, payload: dict | None = None, ip_address: str | None = None
) -> list[AuditEvent]:
    """The same event in every workspace ``user`` is a member of, and no other (a login, a
    lockout): each workspace's admins see what happened to their own member, and nobody learns
    of the login's other workspaces."""
    with scopes_disabled():
        workspaces = [m.workspace for m in Membership.objects.filter(user=user).select_related("workspace")]
        events = [
            _event(
                workspace=workspace,
                actor=actor,
                action=action,
                object_type=AuditObjectType.USER,
                object_id=user.pk,
                payload=payload,
                ip_address=ip_address,
            )
            for workspace in workspaces
        ]
        return AuditEvent.objects.bulk_create(events)
