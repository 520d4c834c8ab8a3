"""When the Celery broker is unreachable, requests still succeed: the work already waits in the
database (the import job, the webhook delivery, the workspace due for a recompute), the failed
send is logged, and beat's sweeps (and the worker at start) send it once the broker is back.

The broker here is a Redis URL on a port that refuses connections; requests run with real
commits (transactional_db) so the on-commit sends happen inside the request, as in production."""

import datetime as dt
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from config.celery import SWEEPS, enqueue, sweep_at_start
from config.celery import app as celery_app
from funnel.tasks import recompute_due_workspaces
from leads.scoring import TOUCH_POINTS
from sync.models import ImportJob, WebhookDelivery
from sync.services import IMPORT_QUEUED_LOST, import_job_run, webhook_create
from sync.tasks import deliver_webhook, enqueue_waiting_imports, run_import_job
from workspaces.scoping import scopes_disabled, workspace_scope

from .api_helpers import Receiver, key_client, send_bulk, statuses

LEADS_CSV = b"external_id,email\nL-1,ada@example.com\nL-2,grace@example.com\n"
REFUSING_BROKER = "redis://127.0.0.1:1/0"


def _reset_connections():
    # the app keeps a pool of broker connections made for the URL it had: drop it
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker_down():
    """A broker that refuses connections, and tasks sent to it rather than run in-process; the
    fixture restores the test run's configuration (eager) afterwards ('the broker is back')."""
    keys = ("broker_url", "task_always_eager", "broker_connection_retry", "broker_connection_timeout")
    saved = {key: celery_app.conf[key] for key in keys}
    _reset_connections()
    celery_app.conf.update(
        broker_url=REFUSING_BROKER,
        task_always_eager=False,
        broker_connection_retry=False,
        broker_connection_timeout=1,
    )
    yield
    celery_app.conf.update(saved)
    _reset_connections()


@pytest.fixture
def admin_client(workspace, member_factory):
    client = Client()
    client.force_login(member_factory(workspace, role="admin", email="admin@acme.test").user)
    return client


def upload(client, workspace):
    return client.post(
        reverse("data", kwargs={"workspace_slug": workspace.slug}),
        {"resource": "leads", "file": SimpleUploadedFile("leads.csv", LEADS_CSV, content_type="text/csv")},
    )


def only_job() -> ImportJob:
    with scopes_disabled():
        (job,) = ImportJob.objects.all()
    return job


def test_the_import_page_answers_while_the_broker_is_down_and_leaves_its_job_queued(
    transactional_db, workspace, admin_client, broker_down, caplog
):
    with caplog.at_level(logging.ERROR, logger="config.celery"):
        response = upload(admin_client, workspace)
    job = only_job()
    assert response.status_code == 302
    assert response["Location"] == reverse("import-job", kwargs={"workspace_slug": workspace.slug, "job_id": job.pk})
    assert job.status == ImportJob.Status.QUEUED
    assert f"Could not enqueue sync.tasks.run_import_job({job.pk},)" in caplog.text
    # the job's page (and its progress) still answer
    assert admin_client.get(response["Location"]).status_code == 200


def test_the_sweep_sends_a_job_left_queued_once_the_broker_is_back(transactional_db, workspace, admin_client):
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sync.services.enqueue_on_commit", lambda task, *args: None)  # the lost message
        upload(admin_client, workspace)
    assert only_job().status == ImportJob.Status.QUEUED
    assert enqueue_waiting_imports() == 0  # too recent: its message may still wait in the queue
    with scopes_disabled():
        ImportJob.objects.update(created_at=timezone.now() - IMPORT_QUEUED_LOST - dt.timedelta(seconds=1))
    assert enqueue_waiting_imports() == 1
    job = only_job()
    assert (job.status, job.counts["created"]) == (ImportJob.Status.DONE, 2)
    assert enqueue_waiting_imports() == 0


def test_the_sweep_sends_nothing_while_the_broker_is_still_down(transactional_db, workspace, admin_client, broker_down):
    upload(admin_client, workspace)
    with scopes_disabled():
        ImportJob.objects.update(created_at=timezone.now() - dt.timedelta(hours=1))
    assert enqueue_waiting_imports() == 1  # tried, logged, not raised
    assert only_job().status == ImportJob.Status.QUEUED


@pytest.fixture
def queued_job(workspace, django_capture_on_commit_callbacks):
    from sync.services import import_job_create

    with workspace_scope(workspace), django_capture_on_commit_callbacks(execute=False):
        return import_job_create(workspace=workspace, resource="leads", filename="a.csv", content=LEADS_CSV)


def test_a_second_message_for_a_job_running_elsewhere_does_nothing(workspace, queued_job):
    with scopes_disabled():
        ImportJob.objects.filter(pk=queued_job.pk).update(status=ImportJob.Status.RUNNING, started_at=timezone.now())
    assert run_import_job(queued_job.pk) == ImportJob.Status.RUNNING
    job = only_job()
    assert (job.status, job.rows_done) == (ImportJob.Status.RUNNING, 0)


def test_a_job_left_running_by_a_dead_worker_runs_again_when_its_message_comes_back(workspace, queued_job):
    with scopes_disabled():
        ImportJob.objects.filter(pk=queued_job.pk).update(
            status=ImportJob.Status.RUNNING, started_at=timezone.now() - dt.timedelta(hours=2)
        )
    assert run_import_job(queued_job.pk) == ImportJob.Status.DONE


def test_a_done_job_is_not_run_again(workspace, queued_job):
    with workspace_scope(workspace):
        first = import_job_run(job=queued_job)
        again = import_job_run(job=queued_job)
    assert first.status == again.status == ImportJob.Status.DONE
    assert again.finished_at == first.finished_at


def test_an_api_write_whose_webhook_cannot_be_enqueued_answers_and_keeps_the_delivery_pending(
    transactional_db, workspace, member_factory, settings, broker_down, caplog
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    workspace.mql_threshold = TOUCH_POINTS["meeting"] + TOUCH_POINTS["email_click"]
    workspace.save()
    member_factory(workspace, role="sales_rep", email="rep@acme.test")
    api = key_client(workspace)
    with Receiver() as receiver:
        with workspace_scope(workspace):
            webhook_create(workspace=workspace, url=receiver.url, events=["lead.handed_off"])
        assert statuses(send_bulk(api, "leads", [{"external_id": "L-1", "email": "pat@acme.com"}])) == ["created"]
        now = timezone.now()
        touches = [
            {"lead_external_id": "L-1", "channel": "email", "type": "form_fill", "occurred_at": now.isoformat()},
            {"lead_external_id": "L-1", "channel": "email", "type": "meeting", "occurred_at": now.isoformat()},
            {"lead_external_id": "L-1", "channel": "email", "type": "email_click", "occurred_at": now.isoformat()},
        ]
        with caplog.at_level(logging.ERROR, logger="config.celery"):
            response = send_bulk(api, "touches", touches)
        assert response.status_code in (200, 201, 207), response.content
        with scopes_disabled():
            (delivery,) = WebhookDelivery.objects.all()
        assert delivery.status == WebhookDelivery.Status.PENDING
        assert "Could not enqueue sync.tasks.deliver_webhook" in caplog.text
        assert receiver.requests == []


def test_the_recompute_sweep_logs_a_workspace_it_cannot_enqueue_and_goes_on(
    transactional_db, workspace, other_workspace, broker_down, monkeypatch, caplog
):
    monkeypatch.setattr("funnel.tasks.workspace_needs_recompute", lambda workspace: True)
    with caplog.at_level(logging.ERROR, logger="config.celery"):
        due = recompute_due_workspaces()
    assert sorted(due) == sorted([workspace.pk, other_workspace.pk])
    assert caplog.text.count("Could not enqueue funnel.tasks.recompute_workspace_task") == 2


def test_an_in_process_run_still_propagates_the_tasks_own_error(db):
    with pytest.raises(Exception, match="does not exist|matching query"):
        enqueue(deliver_webhook.app.tasks["funnel.tasks.recompute_workspace_task"], 10**9)


def test_the_worker_sends_every_sweep_when_it_starts_and_beat_sends_them_every_minute(settings):
    sent = []

    class Sender:
        class app:  # noqa: N801 (stands in for the worker's Celery app)
            @staticmethod
            def send_task(name):
                sent.append(name)

    sweep_at_start(sender=Sender)
    assert sent == list(SWEEPS)
    assert set(SWEEPS) <= set(celery_app.tasks)
    scheduled = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert all(scheduled.get(name) == 60 for name in SWEEPS)


def test_a_worker_start_with_the_broker_down_does_not_crash(broker_down, caplog):
    class Sender:
        app = celery_app

    with caplog.at_level(logging.ERROR, logger="config.celery"):
        sweep_at_start(sender=Sender)
    assert caplog.text.count("Could not send the sweep") == len(SWEEPS)
