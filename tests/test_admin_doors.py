"""The Django admin's own doors: its login page answers and is throttled like the main login
(django-axes), and what it saves of audited things goes through the services that write the
audit trail (issue 9 audit, items B and C)."""

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from workspaces.models import AuditAction, AuditEvent, Workspace
from workspaces.scoping import workspace_scope

from .test_admin import _post_change

PASSWORD = "pw-for-tests-1"


# --- the admin login page ------------------------------------------------------------------


def admin_login(client, email, password, address="10.0.0.1"):
    return client.post(
        reverse("admin:login"), {"username": email, "password": password, "next": "/admin/"}, REMOTE_ADDR=address
    )


def test_the_admin_login_page_answers_to_someone_not_logged_in(db):
    response = Client().get(reverse("admin:login"))
    assert response.status_code == 200
    assert 'name="password"' in response.content.decode()


def test_the_admin_index_sends_someone_not_logged_in_to_the_login(db):
    response = Client().get(reverse("admin:index"))
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_a_wrong_password_at_the_admin_login_is_counted_and_shown_again(member_factory, workspace):
    member_factory(workspace, role="admin", email="boss@acme.test")
    response = admin_login(Client(), "boss@acme.test", "wrong-password")
    assert response.status_code == 200
    assert AccessAttempt.objects.get(username="boss@acme.test").failures_since_start == 1


def test_admin_and_main_login_failures_share_one_counter(member_factory, workspace):
    member_factory(workspace, role="admin", email="boss@acme.test")
    client = Client()
    for _ in range(3):
        admin_login(client, "boss@acme.test", "wrong-password")
    for _ in range(2):
        client.post(
            reverse("login"), {"username": "boss@acme.test", "password": "wrong-password"}, REMOTE_ADDR="10.0.0.1"
        )
    locked = client.post(reverse("login"), {"username": "boss@acme.test", "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert locked.status_code == 429


def test_a_locked_admin_login_answers_429_with_the_message_even_for_the_right_password(member_factory, workspace):
    member_factory(workspace, role="admin", email="boss@acme.test")
    client = Client()
    statuses = [admin_login(client, "boss@acme.test", "wrong-password").status_code for _ in range(5)]
    assert statuses == [200] * 4 + [429]
    right = admin_login(client, "boss@acme.test", PASSWORD)
    assert right.status_code == 429
    assert 'id="login-locked"' in right.content.decode() and "15 minutes" in right.content.decode()
    assert "_auth_user_id" not in client.session


# --- saves of audited things -----------------------------------------------------------------


@pytest.fixture
def admin_client(client, workspace, member_factory):
    client.force_login(member_factory(workspace, role="admin", email="boss@acme.test").user)
    return client


def _settings_events(workspace):
    with workspace_scope(workspace):
        return list(AuditEvent.objects.filter(action=AuditAction.SETTINGS_CHANGED))


def test_a_settings_change_in_the_admin_is_audited_with_its_before_and_after(admin_client, workspace):
    response = _post_change(admin_client, workspace, sla_hours=48, name="Acme Corp")
    assert response.status_code == 302
    workspace.refresh_from_db()
    assert (workspace.sla_hours, workspace.name) == (48, "Acme Corp")
    [event] = _settings_events(workspace)
    assert event.actor_user.email == "boss@acme.test"
    assert event.payload["changes"] == {"sla_hours": [24, 48], "name": ["Acme Inc", "Acme Corp"]}


def test_saving_the_admin_form_unchanged_records_nothing(admin_client, workspace):
    assert _post_change(admin_client, workspace).status_code == 302
    assert _settings_events(workspace) == []


def test_the_slug_cannot_be_changed_in_the_admin(admin_client, workspace):
    assert _post_change(admin_client, workspace, slug="other").status_code == 302
    workspace.refresh_from_db()
    assert workspace.slug == "acme"


def test_an_invalid_setting_in_the_admin_is_a_form_error_and_changes_nothing(admin_client, workspace):
    response = _post_change(admin_client, workspace, timezone="Mars/Olympus", sla_hours=48)
    assert response.status_code == 200 and response.context["adminform"].form.errors
    workspace.refresh_from_db()
    assert workspace.sla_hours == 24 and _settings_events(workspace) == []


def test_a_workspace_added_in_the_admin_gets_its_default_channels(client, db, django_user_model):
    root = django_user_model.objects.create_superuser("root@example.test", PASSWORD)
    client.force_login(root)
    page = client.get(reverse("admin:workspaces_workspace_add"))
    form = page.context["adminform"].form
    data = {name: "" if form[name].value() is None else form[name].value() for name in form.fields}
    data.update(slug="initech", name="Initech", currency="EUR", timezone="Europe/Berlin")
    response = client.post(reverse("admin:workspaces_workspace_add"), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = Workspace.objects.get(slug="initech")
    with workspace_scope(created):
        from attribution.models import Channel

        assert Channel.objects.exists()


@pytest.mark.parametrize("kind", ["apikey", "webhook"])
def test_keys_and_webhooks_cannot_be_changed_or_deleted_in_the_admin(admin_client, workspace, settings, kind):
    """They are made and revoked on their pages, through the services that audit them."""
    from sync.services import webhook_create
    from workspaces.services import api_key_create

    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    with workspace_scope(workspace):
        if kind == "apikey":
            obj, _ = api_key_create(workspace=workspace, name="Site", scope="read")
            app, model = "workspaces", "workspaceapikey"
        else:
            obj = webhook_create(workspace=workspace, url="http://127.0.0.1:9/hook", events=["lead.handed_off"])
            app, model = "sync", "webhook"
    change = admin_client.post(reverse(f"admin:{app}_{model}_change", args=[obj.pk]), {"name": "x", "url": "x"})
    assert change.status_code == 403
    delete = admin_client.post(reverse(f"admin:{app}_{model}_delete", args=[obj.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert type(obj).objects.with_scopes_disabled().filter(pk=obj.pk).exists()
