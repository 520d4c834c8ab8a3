"""A secret shown once: made by a POST, read by the GET of the page it redirects to (so a
reload makes no second one), and by nothing else.

The secret itself never enters the session (which is stored in the database, and lives for
weeks): it waits in the cache under a random handle for ``SECRET_TTL_SECONDS`` at most, and the
session keeps only the handle, in a slot of its own per page and workspace, so a secret never
shows on another page or another workspace's. The first read takes both out; a redirect never
followed leaves a handle that points at nothing once the cache entry has expired."""

import secrets

from django.core.cache import cache

# Long enough for the one redirect, even over a slow link; short enough that nothing lingers.
SECRET_TTL_SECONDS = 120


def _slot(request, page: str) -> str:
    return f"show-once:{page}:{request.workspace.pk}"


def _cache_key(handle: str) -> str:
    return f"show-once:{handle}"


def secret_keep(request, *, page: str, secret: str) -> None:
    """Keep ``secret`` for the next GET of ``page`` (the URL name the POST redirects to)."""
    handle = secrets.token_urlsafe(32)
    cache.set(_cache_key(handle), secret, timeout=SECRET_TTL_SECONDS)
    previous = request.session.get(_slot(request, page))
    if previous:
        cache.delete(_cache_key(previous))
    request.session[_slot(request, page)] = handle


def secret_take(request, *, page: str) -> str | None:
    """The secret kept for this page of this workspace, if any and not expired, taken out."""
    if request.method != "GET":
        return None
    handle = request.session.pop(_slot(request, page), None)
    if not handle:
        return None
    key = _cache_key(handle)
    secret = cache.get(key)
    cache.delete(key)
    return secret
