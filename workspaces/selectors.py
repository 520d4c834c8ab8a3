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
