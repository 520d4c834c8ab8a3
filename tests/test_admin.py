"""The Django admin: every model listed, searchable, scoped to the user's workspaces, ledger read-only."""

import pytest
from django.contrib import admin
from django.urls import reverse

from funnel.models import StageEvent
from leads.models import Lead
from workspaces.models import Workspace, WorkspaceAPIKey
from workspaces.scoping import workspace_scope

from .factories import LeadFactory

DOMAIN_MODELS = [
    m for m in admin.site._registry if m._meta.app_label in {"accounts", "leads", "attribution", "funnel", "sync"}
] + [WorkspaceAPIKey]


def test_every_domain_model_is_registered():
    names = {m.__name__ for m in DOMAIN_MODELS}
    assert names == {
        "Account", "TargetList", "TargetListMember", "Lead", "Channel", "Campaign", "Touch",
        "Opportunity", "Contract", "StageEvent", "LeadMerge", "Tombstone", "IdempotencyRecord", "Webhook",
        "WebhookDelivery", "ImportJob", "WorkspaceAPIKey",
    }  # fmt: skip


@pytest.fixture
def admin_of_acme(client, workspace, other_workspace, member_factory):
    membership = member_factory(workspace, role="admin", email="boss@acme.test")
    with workspace_scope(workspace):
        LeadFactory(workspace=workspace, email="mine@acme.test")
    with workspace_scope(other_workspace):
        LeadFactory(workspace=other_workspace, email="theirs@globex.test")
    client.force_login(membership.user)
    return client


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda m: m.__name__)
def test_every_changelist_opens_and_searches(admin_of_acme, model):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_of_acme.get(url).status_code == 200
    assert admin_of_acme.get(url, {"q": "acme"}).status_code == 200


def test_a_workspace_admin_sees_only_their_workspace(admin_of_acme):
    response = admin_of_acme.get(reverse("admin:leads_lead_changelist"))
    assert b"mine@acme.test" in response.content
    assert b"theirs@globex.test" not in response.content
    their_lead = Lead.objects.with_scopes_disabled().get(email="theirs@globex.test")
    assert admin_of_acme.get(reverse("admin:leads_lead_change", args=[their_lead.pk])).status_code in (302, 404)
    workspaces = admin_of_acme.get(reverse("admin:workspaces_workspace_changelist")).content
    assert b"Acme Inc" in workspaces and b"Globex" not in workspaces


def test_ledger_rows_are_read_only_in_the_admin(admin_of_acme):
    event = StageEvent.objects.with_scopes_disabled().filter(lead__email="mine@acme.test").get()
    url = reverse("admin:funnel_stageevent_change", args=[event.pk])
    page = admin_of_acme.get(url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    admin_of_acme.post(url, {"note": "rewritten"})
    assert StageEvent.objects.with_scopes_disabled().get(pk=event.pk).note == ""


def test_a_user_who_admins_no_workspace_cannot_enter(client, workspace, member_factory):
    membership = member_factory(workspace, role="marketer", email="m@acme.test")
    membership.user.is_staff = True
    membership.user.save()
    client.force_login(membership.user)
    assert client.get(reverse("admin:leads_lead_changelist")).status_code == 403
    assert Workspace.objects.count() == 1
