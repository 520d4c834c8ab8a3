"""Audit events of signing in, from the signals of Django's auth, of django-axes (the login
throttle) and of the API key throttle (``workspaces.signals``). Connected in
``WorkspacesConfig.ready``; each only records who and where, as the services do for every
other event."""

import logging

from django.apps import apps

from .audit import audit_record, audit_record_for_user, client_ip, valid_ip
from .models import AuditAction, AuditObjectType, User, WorkspaceAPIKey

logger = logging.getLogger(__name__)


def record_login(sender, request, user, **kwargs) -> None:
    """A login, in every workspace of the person who logged in."""
    audit_record_for_user(
        user=user,
        action=AuditAction.LOGIN,
        actor=user,
        ip_address=client_ip(request) if request is not None else None,
    )


def record_login_locked(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    """A login locked after failed attempts, in the workspaces of the person whose email was
    tried, if there is one: only their own admins learn of it (nothing is recorded, and nothing
    shown, for an email with no login)."""
    user = User.objects.filter(email=User.objects.normalize_email(username or "").strip().lower()).first()
    if user is None:
        return
    address = client_ip(request) if request is not None else None
    audit_record_for_user(
        user=user,
        action=AuditAction.LOGIN_LOCKED,
        ip_address=address or valid_ip(ip_address),
    )


def record_api_key_locked(sender, request=None, ip_address=None, **kwargs) -> None:
    """An address locked out of the API after too many bad keys. Bad keys name no workspace, so
    this is recorded only when the locking request named the prefix of a real key (a guessed
    secret, or a revoked key still in use), in that key's workspace alone."""
    header = request.META.get("HTTP_AUTHORIZATION", "") if request is not None else ""
    prefix, dot, _ = header.partition(" ")[2].strip().partition(".")
    key = WorkspaceAPIKey.keys.select_related("workspace").filter(prefix=prefix).first() if dot and prefix else None
    if key is None:
        return
    audit_record(
        workspace=key.workspace,
        action=AuditAction.API_KEY_LOCKED,
        object_type=AuditObjectType.API_KEY,
        object_id=key.prefix,
        payload={"name": key.name},
        ip_address=valid_ip(ip_address),
    )


def connect() -> None:
    from .signals import api_key_lockout

    api_key_lockout.connect(record_api_key_locked, dispatch_uid="audit_api_key_locked")
    from django.contrib.auth.signals import user_logged_in

    user_logged_in.connect(record_login, dispatch_uid="audit_login")
    # The login throttle (django-axes); without it there are no lockouts to record.
    if apps.is_installed("axes"):
        from axes.signals import user_locked_out

        user_locked_out.connect(record_login_locked, dispatch_uid="audit_login_locked")
    else:
        logger.info("django-axes is not installed: login lockouts are not audited")
