"""Writes of the sync app: webhooks and their deliveries, API keys, import jobs."""

import datetime as dt
import hashlib
import hmac
import json
import uuid

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from config.celery import enqueue_on_commit
from workspaces.audit import audit_record
from workspaces.models import AuditAction, AuditEvent, AuditObjectType
from workspaces.permissions import BULK, ROLE_ACTIONS, ordered, write_actions
from workspaces.selectors import membership_of

from .addresses import post_checked, resolve_checked
from .bulk import refusal
from .models import ImportJob, Webhook, WebhookDelivery, WebhookEvent

MAX_ATTEMPTS = 8
FIRST_RETRY_SECONDS = 30
# Redis hands an unacknowledged message out again after its visibility timeout (an hour): a job
# still 'running' that long after it started lost its worker.
IMPORT_RUNNING_ABANDONED = dt.timedelta(hours=1)
# A queued job this old lost its message (the broker was down when it was sent): sweep it.
IMPORT_QUEUED_LOST = dt.timedelta(minutes=2)


# --- webhooks -------------------------------------------------------------------------------------


def check_webhook_url(url: str) -> None:
    """A receiver must be http(s), and (unless allowed) on a globally routable address: a webhook
    must not become a way to reach our own internal services (sync/addresses.py)."""
    resolve_checked(url)


@transaction.atomic
def webhook_create(*, workspace, url: str, events: list[str], actor=None) -> Webhook:
    events = sorted(set(events))
    unknown = [e for e in events if e not in WebhookEvent.values]
    if unknown:
        raise ValidationError(
            {"events": f"Unknown events: {', '.join(unknown)}. Known: {', '.join(WebhookEvent.values)}."}
        )
    if not events:
        raise ValidationError({"events": gettext("Choose at least one event.")})
    check_webhook_url(url)
    webhook = Webhook(workspace=workspace, url=url, events=events, created_by=actor)
    webhook.full_clean(exclude=["workspace", "created_by"])
    webhook.save()
    _audit_webhook(workspace, actor, AuditAction.WEBHOOK_CREATED, webhook)
    return webhook


@transaction.atomic
def webhook_delete(*, workspace, webhook: Webhook, actor=None) -> None:
    if webhook.workspace_id != workspace.pk:
        raise ValidationError("No such webhook in this workspace.")
    webhook_id = webhook.pk
    webhook.delete()
    webhook.pk = webhook_id
    _audit_webhook(workspace, actor, AuditAction.WEBHOOK_DELETED, webhook)


def _audit_webhook(workspace, actor, action, webhook: Webhook) -> None:
    audit_record(
        workspace=workspace,
        actor=actor,
        action=action,
        object_type=AuditObjectType.WEBHOOK,
        object_id=webhook.pk,
        payload={"url": webhook.url, "events": webhook.events},
    )


def webhook_emit(*, workspace, event: str, payload: dict) -> list[int]:
    """Record the event for every active webhook subscribed to it, in the caller's transaction
    (so an event exists exactly when its change does), and send it once that commits."""
    hooks = [pk for pk, events in Webhook.objects.filter(active=True).values_list("id", "events") if event in events]
    if not hooks:
        return []
    event_id = uuid.uuid4()
    body = {
        "id": str(event_id),
        "event": event,
        "workspace": workspace.slug,
        "occurred_at": timezone.now().isoformat(),
        "data": payload,
    }
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(workspace=workspace, webhook_id=pk, event_id=event_id, event=event, payload=body)
            for pk in hooks
        ]
    )
    ids = [d.pk for d in deliveries]
    from .tasks import deliver_webhook

    for delivery_id in ids:
        # a delivery the broker cannot take now is due at once: beat's deliver_due_webhooks sends it
        enqueue_on_commit(deliver_webhook, delivery_id)
    return ids


def signature(secret: str, body: bytes) -> str:
    """``sha256=`` and the hex HMAC-SHA256 of the body with the webhook's secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _claim(delivery_id: int) -> WebhookDelivery | None:
    """Take a due delivery for one attempt (a conditional update, so two workers given the same
    message do not both send it); its next attempt is pushed out while this one runs."""
    now = timezone.now()
    taken = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + dt.timedelta(seconds=settings.WEBHOOK_TIMEOUT_SECONDS * 3))
    if not taken:
        return None
    return WebhookDelivery.objects.select_related("webhook").get(pk=delivery_id)


def webhook_deliver(*, delivery_id: int) -> float | None:
    """One attempt at a delivery. Returns the seconds until the next attempt when it failed and
    may be retried, else None (delivered, gave up, or not due)."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    body = json.dumps(delivery.payload, separators=(",", ":"), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "funnel-webhooks/1",
        "X-Funnel-Event": delivery.event,
        "X-Funnel-Delivery": str(delivery.event_id),
        "X-Funnel-Signature": signature(delivery.webhook.secret, body),
    }
    status_code, error = None, ""
    try:
        # checked again at every delivery (DNS may have changed), and sent to the checked address
        response = post_checked(
            delivery.webhook.url, data=body, headers=headers, timeout=settings.WEBHOOK_TIMEOUT_SECONDS
        )
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"answered {status_code}"
    except ValidationError as invalid:
        error = " ".join(invalid.messages)
    except requests.RequestException as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
    attempts = delivery.attempts + 1
    now = timezone.now()
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.SUCCEEDED,
            attempts=attempts,
            last_status_code=status_code,
            last_error="",
            delivered_at=now,
        )
        return None
    if attempts >= MAX_ATTEMPTS:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED, attempts=attempts, last_status_code=status_code, last_error=error
        )
        return None
    wait = FIRST_RETRY_SECONDS * 2 ** (attempts - 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=attempts,
        last_status_code=status_code,
        last_error=error,
        next_attempt_at=now + dt.timedelta(seconds=wait),
    )
    return wait


# --- exports ---------------------------------------------------------------------------------------


@transaction.atomic
def export_start(*, workspace, resource: str, via: str, actor=None, filters: dict | None = None) -> AuditEvent:
    """Record that someone took a copy of a list: every export (the browser's, the API's, the
    ``export_csv`` command's) calls this before it streams the first row. ``via``: browser,
    api or command; ``filters``: the query's parameters, as sent."""
    return audit_record(
        workspace=workspace,
        actor=actor,
        action=AuditAction.EXPORT_STARTED,
        object_type=AuditObjectType.EXPORT,
        object_id=resource,
        payload={"resource": resource, "via": via, "filters": filters or {}},
    )


# --- import jobs ------------------------------------------------------------------------------------


@transaction.atomic
def _import_grant(workspace, actor) -> tuple[frozenset | None, str]:
    """An import runs as the member who started it, with their role's actions as they are now,
    and a refused row names them; one started by no member (a system's) may write anything."""
    if actor is None:
        return None, ""
    membership = membership_of(actor, workspace.slug)
    if membership is None:
        return frozenset(), gettext("%(email)s (no longer a member)") % {"email": actor.email}
    return ROLE_ACTIONS.get(membership.role, frozenset()), f"{actor.email} ({membership.get_role_display()})"


def import_job_create(*, workspace, resource: str, filename: str, content: bytes, actor=None) -> ImportJob:
    """Store an uploaded CSV and queue its import; the header is checked now, so a wrong file
    is refused at once with the columns it should have."""
    from .csvio import CSVFormatError, read_csv
    from .resources import RESOURCES

    definition = RESOURCES.get(resource)
    if definition is None or definition.upsert is None:
        raise ValidationError({"resource": f"'{resource}' cannot be imported."})
    if len(content) > settings.IMPORT_MAX_FILE_BYTES:
        raise ValidationError(
            {"file": gettext("The file is over %(mb)s MB.") % {"mb": settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)}}
        )
    try:
        header, rows = read_csv(content, definition.spec)
        total = sum(1 for _ in rows)
    except CSVFormatError as error:
        raise ValidationError({"file": str(error)}) from None
    if total == 0:
        raise ValidationError({"file": gettext("The file has a header but no rows.")})
    granted, who = _import_grant(workspace, actor)
    missing = [a for a in ordered(write_actions(resource, BULK)) if granted is not None and a not in granted]
    if missing:  # every row would be refused: say so now
        raise ValidationError({"resource": refusal(who, missing[0])})
    job = ImportJob.objects.create(
        workspace=workspace,
        resource=resource,
        filename=filename[:255],
        content=content,
        rows_total=total,
        created_by=actor,
        language=translation.get_language() or "",
    )
    from .tasks import run_import_job

    # a job the broker cannot take now stays queued: beat's enqueue_waiting_imports sends it
    enqueue_on_commit(run_import_job, job.pk)
    return job


def import_job_run(*, job: ImportJob) -> ImportJob:
    """Import the job's file, batch after batch, writing its progress as it goes. Safe to run
    again after a crash: every batch is an idempotent upsert, so rows already in come back
    'unchanged'. A job already running, done or failed is left as it is."""
    from .csvio import CSVFormatError, import_rows, read_csv
    from .resources import RESOURCES

    resource = RESOURCES[job.resource]
    now = timezone.now()
    # Claim the job: a queued one, or one left running by a worker that died long enough ago for
    # the broker to hand its message out again. A second message for the same job (the sweep
    # re-sent it while the first still waited in the queue) finds it taken and does nothing.
    claimed = (
        ImportJob.objects.filter(pk=job.pk)
        .filter(
            Q(status=ImportJob.Status.QUEUED)
            | Q(status=ImportJob.Status.RUNNING, started_at__lt=now - IMPORT_RUNNING_ABANDONED)
        )
        .update(status=ImportJob.Status.RUNNING, started_at=now, rows_done=0, counts={}, errors=[], error="")
    )
    if not claimed:
        job.refresh_from_db()
        return job

    def progress(summary):
        ImportJob.objects.filter(pk=job.pk).update(rows_done=summary.rows, counts=summary.counts)

    granted, who = _import_grant(job.workspace, job.created_by)
    try:
        _, rows = read_csv(bytes(job.content), resource.spec)
        summary = import_rows(
            workspace=job.workspace,
            resource=resource,
            rows=rows,
            actor=job.created_by,
            progress=progress,
            granted=granted,
            who=who,
        )
    except CSVFormatError as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, error=str(error), finished_at=timezone.now()
        )
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            error=(gettext("The import stopped: %(error)s") % {"error": f"{type(error).__name__}: {error}"})[:2000],
            finished_at=timezone.now(),
        )
        raise
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE,
            rows_done=summary.rows,
            counts=summary.counts,
            errors=summary.errors,
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    return job
