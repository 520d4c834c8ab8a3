"""A secret shown once: made by a POST, read by the GET of the page it redirects to (so a
reload makes no second one), and by nothing else.

Each page keeps its own slot in the session, per workspace, so a secret never shows on another
page or another workspace's, and the first read takes it out: the session holds a secret for
the one redirect only."""


def _slot(request, page: str) -> str:
    return f"show-once:{page}:{request.workspace.pk}"


def secret_keep(request, *, page: str, secret: str) -> None:
    """Keep ``secret`` for the next GET of ``page`` (the URL name the POST redirects to)."""
    request.session[_slot(request, page)] = secret


def secret_take(request, *, page: str) -> str | None:
    """The secret kept for this page of this workspace, if any, taken out of the session."""
    if request.method != "GET":
        return None
    return request.session.pop(_slot(request, page), None)
