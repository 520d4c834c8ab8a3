"""Thin Celery tasks: take ids, enter the workspace's scope, call one service."""

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings
from django.utils import timezone, translation

from config.celery import enqueue
from workspaces.scoping import scopes_disabled, workspace_scope

from .models import IdempotencyRecord, ImportJob, WebhookDelivery
from .services import IMPORT_QUEUED_LOST, import_job_run, webhook_deliver

IDEMPOTENCY_KEPT = dt.timedelta(days=7)
logger = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: int) -> str:
    with scopes_disabled():
        workspace_id = WebhookDelivery.objects.filter(pk=delivery_id).values_list("workspace_id", flat=True).first()
    if workspace_id is None:
        return "gone"
    with workspace_scope(workspace_id):
        wait = webhook_deliver(delivery_id=delivery_id)
    if wait is not None and not self.request.is_eager:
        # the next attempt, with backoff; beat's deliver_due_webhooks catches any message lost
        # (when the broker cannot take it, that sweep sends it once it is due)
        try:
            deliver_webhook.apply_async((delivery_id,), countdown=wait)
        except Exception:
            logger.exception("Could not enqueue the next attempt of delivery %s; the sweep sends it.", delivery_id)
    return "retry" if wait is not None else "done"


@shared_task
def deliver_due_webhooks() -> int:
    """Beat's safety net: deliveries whose next attempt is due (a lost message, a restart)."""
    with scopes_disabled():
        due = list(
            WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=timezone.now())
            .order_by("next_attempt_at")
            .values_list("id", flat=True)[:500]
        )
    for delivery_id in due:
        enqueue(deliver_webhook, delivery_id)
    return len(due)


@shared_task(acks_late=True)
def run_import_job(job_id: int) -> str:
    with scopes_disabled():
        job = ImportJob.objects.select_related("workspace", "created_by").filter(pk=job_id).first()
    if job is None or job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return "nothing to do"
    # the refusals in the starter's language, as the request that started it would have said them
    language = job.language or settings.LANGUAGE_CODE
    with workspace_scope(job.workspace), timezone.override(job.workspace.timezone), translation.override(language):
        job = import_job_run(job=job)
    return job.status


@shared_task
def enqueue_waiting_imports() -> int:
    """Beat's safety net (and the worker's at start): queued jobs whose message was lost, sent
    while the broker was down. Only jobs queued for a while, so one whose message still waits
    in the queue is rarely sent twice; a second message finds the job taken and does nothing."""
    with scopes_disabled():
        waiting = list(
            ImportJob.objects.filter(status=ImportJob.Status.QUEUED, created_at__lt=timezone.now() - IMPORT_QUEUED_LOST)
            .order_by("created_at")
            .values_list("id", flat=True)[:500]
        )
    for job_id in waiting:
        enqueue(run_import_job, job_id)
    return len(waiting)


@shared_task
def purge_idempotency_records() -> int:
    """Keys are honoured for a week; clients retry within minutes."""
    with scopes_disabled():
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - IDEMPOTENCY_KEPT).delete()
    return deleted
