"""A new API key's or webhook's secret shows once, on its own page of its own workspace, and the
session holds it only until that page reads it."""

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse

from sync.models import Webhook
from workspaces.models import Role, WorkspaceAPIKey


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
def test_the_session_holds_a_secret_only_until_its_page_reads_it(admin_client, workspace):
    prefix = _make_key(admin_client, workspace)
    secret = _make_webhook(admin_client, workspace)
    assert prefix in _stored_sessions() and secret in _stored_sessions()  # each in its own slot
    admin_client.get(_page(workspace, "api-keys"))
    assert prefix not in _stored_sessions() and secret in _stored_sessions()
    admin_client.get(_page(workspace, "webhooks"))
    assert prefix not in _stored_sessions() and secret not in _stored_sessions()
