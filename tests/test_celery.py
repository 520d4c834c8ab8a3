"""Celery plumbing: eager in-process without a broker, a real worker over Redis with one."""

import os
import subprocess
import sys
import textwrap
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from config.celery import app as celery_app
from workspaces.tasks import purge_expired_sessions

REPO = Path(__file__).resolve().parent.parent


def make_sessions():
    now = timezone.now()
    expired = Session.objects.create(
        session_key="expired" + uuid.uuid4().hex, session_data="", expire_date=now - timedelta(days=1)
    )
    live = Session.objects.create(
        session_key="live" + uuid.uuid4().hex, session_data="", expire_date=now + timedelta(days=1)
    )
    return expired, live


def test_without_a_broker_tasks_run_in_process_and_propagate_errors(tmp_path):
    # A fresh interpreter with no broker in its environment, whatever this test run was given.
    env = {key: value for key, value in os.environ.items() if key not in {"REDIS_URL", "CELERY_BROKER_URL"}}
    env.update(DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="config.settings")
    script = textwrap.dedent(
        """
        import django
        django.setup()
        from config.celery import app

        assert app.conf.task_always_eager is True, app.conf.task_always_eager
        assert app.conf.task_eager_propagates is True

        @app.task
        def add(a, b):
            return a + b

        @app.task
        def fail():
            raise ValueError("the task failed")

        assert add.delay(2, 3).get() == 5
        try:
            fail.delay()
        except ValueError as error:
            print("propagated:", error)
        else:
            raise SystemExit("the task's error was swallowed")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "propagated: the task failed" in result.stdout


def test_purge_expired_sessions_deletes_only_expired_rows(db):
    expired, live = make_sessions()

    purge_expired_sessions.delay()

    assert not Session.objects.filter(pk=expired.pk).exists()
    assert Session.objects.filter(pk=live.pk).exists()


def test_purge_expired_sessions_is_on_beats_schedule(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert purge_expired_sessions.name in tasks


@pytest.mark.redis
def test_a_real_worker_over_redis_runs_the_purge(transactional_db):
    from celery.contrib.testing.worker import start_worker

    assert celery_app.conf.task_always_eager is False
    assert celery_app.conf.broker_url == os.environ["REDIS_URL"]
    expired, live = make_sessions()
    # A queue of its own, so that no other test run sharing this Redis feeds or drains it.
    queue = f"test-{uuid.uuid4().hex}"

    with start_worker(celery_app, pool="solo", queues=[queue], perform_ping_check=False, shutdown_timeout=20):
        result = purge_expired_sessions.apply_async(queue=queue)
        result.get(timeout=30)

    assert result.successful()
    assert not Session.objects.filter(pk=expired.pk).exists()
    assert Session.objects.filter(pk=live.pk).exists()
