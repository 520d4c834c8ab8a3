from .models import ActorType, AuditEvent, Membership


def memberships_for_user(user):
    """The workspaces a user belongs to, for the switcher (not scoped: it spans workspaces by
    design, filtered by the user)."""
    return (
        Membership.objects.with_scopes_disabled()
        .filter(user=user)
        .select_related("workspace")
        .order_by("workspace__name")
    )


def membership_of(user, workspace_slug: str) -> Membership | None:
    """The user's membership of the workspace with this slug, with the workspace (None: not a
    member, or no such workspace; both answer 404). Unscoped: it is how a request finds its
    workspace."""
    return (
        Membership.objects.with_scopes_disabled()
        .select_related("workspace")
        .filter(user=user, workspace__slug=workspace_slug)
        .first()
    )


def member_ids_by_email(emails) -> dict[str, int]:
    """The user ids of the active workspace's members with these (normalized) emails, in one
    query: what an ``owner_email`` of an imported record refers to."""
    emails = set(emails)
    if not emails:
        return {}
    return dict(Membership.objects.filter(user__email__in=emails).values_list("user__email", "user_id"))


def audit_events_page(
    *,
    action: str = "",
    actor: tuple[str, str] | None = None,
    object_type: str = "",
    since=None,
    until=None,
    before: tuple | None = None,
    limit: int = 50,
) -> tuple[list, bool]:
    """A page of the active workspace's audit trail, newest first: (events, whether older ones
    follow). ``before`` is the (created_at, id) of the last event of the previous page: a keyset,
    so page 1,000 costs what page 1 does, each filter served by an index that leads with the
    workspace and ends with (created_at, id). ``actor``: ("user", id), ("api_key", prefix) or
    ("system", "")."""
    events = AuditEvent.objects.all()
    if action:
        events = events.filter(action=action)
    if actor is not None:
        kind, ident = actor
        if kind == ActorType.USER:
            events = events.filter(actor_user_id=ident)
        elif kind == ActorType.API_KEY:
            events = events.filter(actor_key__prefix=ident)
        else:
            events = events.filter(actor_type=ActorType.SYSTEM)
    if object_type:
        events = events.filter(object_type=object_type)
    if since is not None:
        events = events.filter(created_at__gte=since)
    if until is not None:
        events = events.filter(created_at__lt=until)
    if before is not None:
        created_at, event_id = before
        events = events.filter(created_at__lte=created_at).exclude(created_at=created_at, id__gte=event_id)
    rows = list(events.order_by("-created_at", "-id")[: limit + 1])
    return rows[:limit], len(rows) > limit
