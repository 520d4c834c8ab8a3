"""Thin Celery tasks for the tenancy app."""

from importlib import import_module

from celery import shared_task
from django.conf import settings


@shared_task
def purge_expired_sessions() -> None:
    """Beat's housekeeping: delete expired login sessions so the session table does not grow
    without bound (sessions live in the database so that web processes stay stateless)."""
    engine = import_module(settings.SESSION_ENGINE)
    engine.SessionStore.clear_expired()
