"""Thin Celery tasks of scoring: take ids, enter the workspace's scope, call one service."""

from celery import shared_task
from django.utils import timezone

from config.celery import enqueue
from workspaces.models import Workspace
from workspaces.scoping import scopes_disabled, workspace_scope

from .models import RescoreJob
from .scoring_services import RESCORE_QUEUED_LOST, rescore_job_run, workspace_rescore_nightly


@shared_task(acks_late=True)
def run_rescore_job(job_id: int) -> str:
    with scopes_disabled():
        job = RescoreJob.objects.select_related("workspace").filter(pk=job_id).first()
    if job is None or job.status in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED):
        return "nothing to do"
    with workspace_scope(job.workspace):
        job = rescore_job_run(job=job)
    return job.status


@shared_task
def enqueue_waiting_rescores() -> int:
    """Beat's safety net (and the worker's at start): rescore jobs whose message was lost."""
    with scopes_disabled():
        waiting = list(
            RescoreJob.objects.filter(
                status=RescoreJob.Status.QUEUED, created_at__lt=timezone.now() - RESCORE_QUEUED_LOST
            )
            .order_by("created_at")
            .values_list("id", flat=True)[:500]
        )
    for job_id in waiting:
        enqueue(run_rescore_job, job_id)
    return len(waiting)


@shared_task(acks_late=True)
def rescore_workspace(workspace_id: int) -> int:
    workspace = Workspace.objects.filter(pk=workspace_id).first()
    if workspace is None:
        return 0
    with workspace_scope(workspace):
        return workspace_rescore_nightly(workspace=workspace)


@shared_task
def rescore_every_workspace() -> int:
    """Nightly (beat): one rescore task per workspace. Running it twice is harmless: a rescore
    writes only the scores that changed since."""
    ids = list(Workspace.objects.order_by("pk").values_list("pk", flat=True))
    for workspace_id in ids:
        enqueue(rescore_workspace, workspace_id)
    return len(ids)
