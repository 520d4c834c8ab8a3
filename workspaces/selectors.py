from .models import Membership


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
