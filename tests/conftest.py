import os
import uuid

import pytest
from django.db import connection
from hypothesis import settings as hypothesis_settings

from config.celery import app as celery_app
from workspaces.scoping import workspace_scope

from .factories import MembershipFactory, WorkspaceFactory

# Property-based tests: the "ci" profile (the default, and what .ci/run uses) is derandomized and
# keeps no example database, so a run is repeatable and no failure depends on an earlier run;
# tests that need more or fewer examples say so themselves. HYPOTHESIS_PROFILE=dev explores with
# fresh random examples on a developer's machine.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, deadline=None, max_examples=25)
hypothesis_settings.register_profile("dev", deadline=None, max_examples=100)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_collection_modifyitems(config, items):
    on_postgres = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
    on_redis = bool(os.environ.get("REDIS_URL"))
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL: set DATABASE_URL"))
        if "redis" in item.keywords and not on_redis:
            item.add_marker(pytest.mark.skip(reason="needs Redis: set REDIS_URL"))


@pytest.fixture(autouse=True)
def eager_celery(request):
    """Tasks run in-process in every test, even when the run was given a broker: a `.delay()`
    with no worker listening would otherwise wait forever. Tests marked `redis` start a real
    worker and keep the broker."""
    if "redis" in request.keywords:
        yield
        return
    saved = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = saved


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Logins in tests need no key stretching; the production hasher is PBKDF2."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def cache_of_its_own(settings):
    """Each test counts attempts (login, API key and reset limits, the API throttle) from zero.
    The database cache is rolled back with the test already; Redis outlives tests, so each test
    gets its own key prefix there (clearing it would also clear the broker's data)."""
    default = settings.CACHES["default"]
    if "redis" in default["BACKEND"].lower():
        settings.CACHES = {"default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"}}


@pytest.fixture
def workspace(db):
    return WorkspaceFactory(slug="acme", name="Acme Inc")


@pytest.fixture
def other_workspace(db):
    return WorkspaceFactory(slug="globex", name="Globex")


@pytest.fixture
def scoped(workspace):
    """Run the test inside the workspace's scope, as a request or task would."""
    with workspace_scope(workspace):
        yield workspace


@pytest.fixture
def member_factory(db):
    def make(workspace, role="admin", email=None):
        kwargs = {"workspace": workspace, "role": role}
        if email:
            kwargs["email"] = email
        return MembershipFactory(**kwargs)

    return make


@pytest.fixture
def is_postgres():
    return connection.vendor == "postgresql"
