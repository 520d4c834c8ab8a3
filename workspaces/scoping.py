"""Tenancy that cannot be forgotten.

Every workspace-owned model inherits ``WorkspaceOwned``: its default manager is a django-scopes
``ScopedManager`` that raises ``ScopeError`` on any query made outside ``workspace_scope``, and
filters every query inside it to the active workspace. The request middleware, Celery tasks and
management commands enter the scope once; selectors and services never pass the workspace
filter by hand to the default manager (it is already there).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import ValidationError
from django.db import models
from django_scopes import ScopedManager, scope, scopes_disabled

__all__ = ["WorkspaceOwned", "scopes_disabled", "workspace_scope"]


@contextmanager
def workspace_scope(workspace) -> Iterator[None]:
    """Enter the scope of one workspace (an instance or its id).

    django-scopes treats ``None`` as "no filter", which would silently widen every query, so it
    is refused here.
    """
    if workspace is None:
        raise ValueError("workspace_scope needs a workspace, not None")
    with scope(workspace=workspace):
        yield


class WorkspaceOwned(models.Model):
    # No single-column index: every model has composite indexes or unique constraints that lead
    # with the workspace (docs/design.md), which serve the same lookups.
    workspace = models.ForeignKey("workspaces.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False)

    objects = ScopedManager(workspace="workspace")

    class Meta:
        abstract = True


def ensure_same_workspace(workspace, **objects) -> None:
    """Refuse related objects of another workspace, with the message a missing one would get,
    so that another workspace's rows are never revealed."""
    for name, obj in objects.items():
        if obj is not None and obj.workspace_id != workspace.id:
            raise ValidationError({name: f"No such {name.replace('_', ' ')} in this workspace."})
