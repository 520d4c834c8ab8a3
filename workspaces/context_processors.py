from .permissions import Action, role_can


def workspace(request):
    membership = getattr(request, "membership", None)
    return {
        "workspace": getattr(request, "workspace", None),
        "membership": membership,
        # what the member may do, for showing only the links and buttons that will work
        "can": {action.value: bool(membership) and role_can(membership.role, action) for action in Action},
    }
