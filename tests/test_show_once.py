"""A new API key's or webhook's secret shows once, on its own page of its own workspace; the
session never holds it (the cache does, for the one redirect, and two minutes at most)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from sync.models import Webhook
from workspaces.models import Role, WorkspaceAPIKey
from workspaces.show_once import SECRET_TTL_SECONDS


@pytest.fixture
def admin_client(client, workspace, other_workspace, member_factory):
    member_factory(workspace, role=Role.ADMIN, email="boss@acme.test")
    client.force_login(member_factory(other_workspace, role=Role.ADMIN, email="boss@acme.test").user)
    return client


def _page(workspace, name: str) -> str:
    return reverse(name, kwargs={"workspace_slug": workspace.slug})


def _make_key(client, workspace) -> str:
    response = client.post(_page(workspace, "api-keys"), {"name": "Website forms", "scope": "read"})
    assert response.status_code == 302
    key = WorkspaceAPIKey.keys.get(workspace=workspace, name="Website forms")
    return key.prefix


@pytest.fixture
def webhooks_allowed_to_localhost(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True


def _make_webhook(client, workspace):
    data = {"url": "http://127.0.0.1:9/hook", "events": ["lead.accepted"]}
    response = client.post(_page(workspace, "webhooks"), data)
    assert response.status_code == 302
    return Webhook.objects.with_scopes_disabled().get(workspace=workspace).secret


def _stored_sessions() -> str:
    return " ".join(str(s.get_decoded()) for s in Session.objects.all())


def test_a_new_keys_secret_shows_on_the_api_keys_page_only(admin_client, workspace, other_workspace):
    prefix = _make_key(admin_client, workspace)
    for elsewhere in (_page(workspace, "webhooks"), _page(other_workspace, "api-keys")):
        page = admin_client.get(elsewhere)
        assert page.status_code == 200 and page.context["new_secret"] is None
        assert prefix.encode() not in page.content
    shown = admin_client.get(_page(workspace, "api-keys"))
    assert shown.context["new_secret"].startswith(prefix)
    assert admin_client.get(_page(workspace, "api-keys")).context["new_secret"] is None


@pytest.mark.usefixtures("webhooks_allowed_to_localhost")
def test_a_new_webhooks_secret_shows_on_the_webhooks_page_only(admin_client, workspace, other_workspace):
    secret = _make_webhook(admin_client, workspace)
    for elsewhere in (_page(workspace, "api-keys"), _page(other_workspace, "webhooks")):
        page = admin_client.get(elsewhere)
        assert page.status_code == 200 and page.context["new_secret"] is None
        assert secret.encode() not in page.content
    assert admin_client.get(_page(workspace, "webhooks")).context["new_secret"] == secret
    assert admin_client.get(_page(workspace, "webhooks")).context["new_secret"] is None


@pytest.mark.usefixtures("webhooks_allowed_to_localhost")
def test_the_session_never_holds_a_secret(admin_client, workspace):
    prefix = _make_key(admin_client, workspace)
    secret = _make_webhook(admin_client, workspace)
    # between the POST and its redirect: what waits is a handle, not the secret
    assert prefix not in _stored_sessions() and secret not in _stored_sessions()
    key_secret = admin_client.get(_page(workspace, "api-keys")).context["new_secret"]
    assert key_secret.startswith(prefix)
    assert admin_client.get(_page(workspace, "webhooks")).context["new_secret"] == secret
    assert key_secret not in _stored_sessions() and secret not in _stored_sessions()


def test_the_first_read_takes_the_secret_out_of_the_cache_too(admin_client, workspace):
    _make_key(admin_client, workspace)
    handle = admin_client.session[f"show-once:api-keys:{workspace.pk}"]
    assert cache.get(f"show-once:{handle}")
    assert admin_client.get(_page(workspace, "api-keys")).context["new_secret"]
    assert cache.get(f"show-once:{handle}") is None
    assert f"show-once:api-keys:{workspace.pk}" not in admin_client.session


@pytest.fixture
def cache_time_can_move(settings):
    """Redis expires keys on its own clock, which time-machine cannot move: that run checks the
    same code on the local-memory cache (the embedded default, the database cache, is used as is)."""
    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}


@pytest.mark.usefixtures("cache_time_can_move")
def test_a_secret_whose_redirect_is_not_followed_is_gone_after_its_ttl(admin_client, workspace):
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        _make_key(admin_client, workspace)
        handle = admin_client.session[f"show-once:api-keys:{workspace.pk}"]
        clock.move_to(start + dt.timedelta(seconds=SECRET_TTL_SECONDS - 5))
        assert cache.get(f"show-once:{handle}")
        clock.move_to(start + dt.timedelta(seconds=SECRET_TTL_SECONDS + 1))
        assert cache.get(f"show-once:{handle}") is None
        assert admin_client.get(_page(workspace, "api-keys")).context["new_secret"] is None


def test_a_second_key_before_the_first_is_shown_replaces_it(admin_client, workspace):
    _make_key(admin_client, workspace)
    first_handle = admin_client.session[f"show-once:api-keys:{workspace.pk}"]
    response = admin_client.post(_page(workspace, "api-keys"), {"name": "Warehouse", "scope": "read"})
    assert response.status_code == 302
    assert cache.get(f"show-once:{first_handle}") is None
    second = WorkspaceAPIKey.keys.get(workspace=workspace, name="Warehouse")
    assert admin_client.get(_page(workspace, "api-keys")).context["new_secret"].startswith(second.prefix)
