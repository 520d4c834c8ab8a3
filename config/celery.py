import logging
import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("funnel")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)

# Beat's sweeps: each sends whatever work still waits in the database (a message lost to a
# broker outage, a restart). The worker runs them once at start as well.
SWEEPS = (
    "sync.tasks.enqueue_waiting_imports",
    "sync.tasks.deliver_due_webhooks",
    "funnel.tasks.recompute_due_workspaces",
    "leads.tasks.enqueue_waiting_rescores",
)


def enqueue(task, *args) -> bool:
    """Send a task now; when the broker cannot take it, log and return False instead of failing
    the caller. Every task is sent for work that already waits in the database (an import job,
    a webhook delivery, a workspace due for a recompute), so a sweep sends it again later.
    In-process (eager) runs keep propagating the task's own errors."""
    if task.app.conf.task_always_eager:
        task.delay(*args)
        return True
    try:
        task.delay(*args)
    except Exception:
        logger.exception("Could not enqueue %s%r; it waits in the database for the next sweep.", task.name, args)
        return False
    return True


def enqueue_on_commit(task, *args) -> None:
    """``enqueue`` once the current transaction commits (the task must find the rows it is given);
    at once when no transaction is open."""
    from django.db import transaction

    transaction.on_commit(lambda: enqueue(task, *args))


@worker_ready.connect
def sweep_at_start(sender, **kwargs) -> None:
    """A worker that starts after an outage sends what waited meanwhile, without waiting for beat."""
    for name in SWEEPS:
        try:
            sender.app.send_task(name)
        except Exception:
            logger.exception("Could not send the sweep %s at worker start.", name)
