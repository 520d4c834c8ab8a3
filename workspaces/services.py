from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from .audit import audit_record
from .invitations import invitation_send
from .login_lockout import login_attempts_clear
from .models import APIKeyScope, AuditAction, AuditObjectType, Membership, Role, User, Workspace, WorkspaceAPIKey
from .scoping import workspace_scope
from .signals import workspace_created


@transaction.atomic
def workspace_create(*, slug: str, name: str, currency: str = "USD", timezone: str = "UTC", **settings) -> Workspace:
    """Create a tenant with the default channels of docs/design.md; the domain apps give it their
    own defaults on ``workspace_created`` (the scoring rules: ``leads.apps``)."""
    from attribution.services import channels_create_defaults

    if Workspace.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"A workspace with the slug '{slug}' already exists."})
    workspace = Workspace(slug=slug, name=name, currency=currency, timezone=timezone, **settings)
    workspace.full_clean()
    workspace.save()
    with workspace_scope(workspace):
        channels_create_defaults(workspace=workspace)
        workspace_created.send(sender=Workspace, workspace=workspace)
    return workspace


@transaction.atomic
def membership_add(
    *,
    workspace: Workspace,
    email: str,
    role: str,
    password: str | None = None,
    full_name: str = "",
    reset_password: bool = False,
    actor=None,
    invite_site_url: str = "",
    invited_by: User | None = None,
) -> Membership:
    """Add a person to a workspace with a role (creating their login if needed), or change the
    role of an existing member.

    ``full_name`` is the name this workspace knows the person by (``Membership.display_name``,
    what its Members page shows; empty keeps the one it has). A new login takes it as its own
    name too; a login that exists keeps its own, which no other workspace is shown.

    ``password`` is the password of a new login. A login that exists belongs to its person,
    who may be a member of other workspaces: a workspace admin must not be able to take it over
    by "adding" it with a password of their choosing, so the password is then left as it is
    (the same answer either way), unless ``reset_password`` (the shell commands of the people
    who run the server).

    With ``invite_site_url`` (the Members page), a login that has no password of its own (a new
    one, or one whose invitation was never used) is emailed an invitation link under that URL to
    set one, after the commit; ``invited_by`` is named in it."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role '{role}'. Known roles: {', '.join(Role.values)}."})
    email = User.objects.normalize_email(email).strip().lower()
    user = User.objects.filter(email=email).first()
    if password:
        # Judged by what was typed, never by a login the address may have: the answer must be
        # the same whether or not one exists (an admin must not learn who has a login elsewhere).
        try:
            validate_password(password, User(email=email, full_name=full_name))
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
    if user is None:
        user = User(email=email, full_name=full_name)
        user.full_clean(exclude=["password"])
        user.set_password(password) if password else user.set_unusable_password()
        user.save()
    elif password and reset_password:
        user.set_password(password)
        user.save(update_fields=["password"])
    if role == Role.ADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    existing = Membership.objects.with_scopes_disabled().filter(workspace=workspace, user=user).first()
    if existing is not None and existing.role == Role.ADMIN and role != Role.ADMIN:
        _refuse_losing_the_last_admin(workspace, existing)
    full_name = full_name.strip()
    membership, _ = Membership.objects.with_scopes_disabled().update_or_create(
        workspace=workspace, user=user, defaults={"role": role, **({"display_name": full_name} if full_name else {})}
    )
    if existing is None:
        _audit_member(workspace, actor, AuditAction.MEMBER_ADDED, user, {"role": role})
    elif existing.role != role:
        _audit_member(
            workspace, actor, AuditAction.MEMBER_ROLE_CHANGED, user, {"changes": {"role": [existing.role, role]}}
        )
    if invite_site_url and not user.has_usable_password():
        invitation_send(user=user, workspace=workspace, site_url=invite_site_url, invited_by=invited_by)
    return membership


def _audit_member(workspace, actor, action, user, payload: dict) -> None:
    audit_record(
        workspace=workspace,
        actor=actor,
        action=action,
        object_type=AuditObjectType.MEMBER,
        object_id=user.pk,
        payload={"email": user.email, **payload},
    )


def last_admin_problem(membership: Membership) -> str:
    """Why this admin may not stop being one (empty when they may)."""
    workspace = membership.workspace
    admins = Membership.objects.with_scopes_disabled().select_for_update().filter(workspace=workspace, role=Role.ADMIN)
    if not admins.exclude(pk=membership.pk).exists():
        return _("%(email)s is the last admin of %(workspace)s; make someone else admin first.") % {
            "email": membership.user.email,
            "workspace": workspace.name,
        }
    return ""


def _refuse_losing_the_last_admin(workspace: Workspace, membership: Membership) -> None:
    problem = last_admin_problem(membership)
    if problem:
        raise ValidationError(problem)


@transaction.atomic
def membership_change_role(*, membership: Membership, role: str, actor=None) -> Membership:
    return membership_add(workspace=membership.workspace, email=membership.user.email, role=role, actor=actor)


@transaction.atomic
def membership_remove(*, membership: Membership, actor=None) -> None:
    """Take a person out of a workspace; their login and their records' history stay."""
    if membership.role == Role.ADMIN:
        _refuse_losing_the_last_admin(membership.workspace, membership)
    membership.delete()
    _audit_member(membership.workspace, actor, AuditAction.MEMBER_REMOVED, membership.user, {"role": membership.role})


@transaction.atomic
def membership_unlock(*, membership: Membership, actor=None) -> int:
    """Unlock a member locked out after failed logins: their email's failed attempts from every
    address are forgotten (nobody else's). Recorded in the audit trail when there was anything
    to clear; returns how many attempt records were."""
    cleared = login_attempts_clear(membership.user.email)
    if cleared:
        _audit_member(membership.workspace, actor, AuditAction.MEMBER_UNLOCKED, membership.user, {})
    return cleared


@transaction.atomic
def api_key_create(*, workspace, name: str, scope: str, actor=None) -> tuple[WorkspaceAPIKey, str]:
    """Make a key; returns it and its secret, which is shown once and stored only hashed."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the key a name that says who uses it (for example 'Website forms').")})
    if scope not in APIKeyScope.values:
        raise ValidationError({"scope": f"Unknown scope '{scope}'. Known: read, read_write."})
    key, secret = WorkspaceAPIKey.keys.create_key(workspace=workspace, name=name[:50], scope=scope, created_by=actor)
    audit_record(
        workspace=workspace,
        actor=actor,
        action=AuditAction.API_KEY_CREATED,
        object_type=AuditObjectType.API_KEY,
        object_id=key.prefix,
        payload={"name": key.name, "scope": key.scope},
    )
    return key, secret


@transaction.atomic
def api_key_revoke(*, workspace, key: WorkspaceAPIKey, actor=None) -> WorkspaceAPIKey:
    if key.workspace_id != workspace.pk:
        raise ValidationError("No such API key in this workspace.")
    revoked = WorkspaceAPIKey.keys.filter(pk=key.pk, revoked=False).update(revoked=True)
    key.revoked = True
    if revoked:  # revoking a revoked key again changes nothing, and records nothing
        audit_record(
            workspace=workspace,
            actor=actor,
            action=AuditAction.API_KEY_REVOKED,
            object_type=AuditObjectType.API_KEY,
            object_id=key.prefix,
            payload={"name": key.name, "scope": key.scope},
        )
    return key


# The settings an admin changes on the Settings page (WorkspaceSettingsForm's fields).
SETTINGS_FIELDS = (
    "name",
    "currency",
    "timezone",
    "sla_hours",
    "reassign_when_overdue",
    "mql_threshold",
    "mqa_threshold",
    "attribution_lookback_days",
    "time_decay_half_life_days",
    "recompute_interval_minutes",
    "renewal_lead_days",
    "engagement_window_days",
)


@transaction.atomic
def workspace_settings_update(*, workspace: Workspace, values: dict, actor=None) -> Workspace:
    """Change a workspace's settings; the audit trail records each value changed, before and
    after (nothing when nothing changed)."""
    unknown = sorted(set(values) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Not a setting of a workspace."))
    current = Workspace.objects.select_for_update().get(pk=workspace.pk)
    changes = {
        name: [getattr(current, name), value] for name, value in values.items() if getattr(current, name) != value
    }
    for name, value in values.items():
        setattr(current, name, value)
    current.full_clean()
    if changes:
        current.save(update_fields=list(changes))
        audit_record(
            workspace=current,
            actor=actor,
            action=AuditAction.SETTINGS_CHANGED,
            object_type=AuditObjectType.WORKSPACE,
            object_id=current.pk,
            payload={"changes": changes},
        )
    for name in SETTINGS_FIELDS:
        setattr(workspace, name, getattr(current, name))
    return workspace


@transaction.atomic
def user_language_set(*, user: User, language: str) -> User:
    """A person's language on every page (``""``: follow the browser); the profile page calls it."""
    if language and language not in dict(settings.LANGUAGES):
        message = _("'%(language)s' is not a language of this product.") % {"language": language}
        raise ValidationError({"language": message})
    user.language = language
    user.save(update_fields=["language"])
    return user
