"""Thin Celery tasks: take ids, enter the workspace's scope, call one service."""

from celery import shared_task

from config.celery import enqueue
from workspaces.models import Workspace
from workspaces.scoping import workspace_scope

from .snapshots import recompute_workspace, workspace_needs_recompute


@shared_task(acks_late=True)
def recompute_workspace_task(workspace_id: int) -> int | None:
    workspace = Workspace.objects.get(pk=workspace_id)
    with workspace_scope(workspace):
        snapshot = recompute_workspace(workspace=workspace)
    return snapshot.pk if snapshot else None


@shared_task
def recompute_due_workspaces() -> list[int]:
    """Beat's entry: enqueue a recompute for each workspace whose interval has passed and whose
    data changed since its last snapshot."""
    due = []
    for workspace in Workspace.objects.all():
        with workspace_scope(workspace):
            if workspace_needs_recompute(workspace):
                due.append(workspace.pk)
    for workspace_id in due:
        # one the broker cannot take now is still due at the next sweep
        enqueue(recompute_workspace_task, workspace_id)
    return due
