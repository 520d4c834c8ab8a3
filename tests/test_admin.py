"""The Django admin: every model listed, searchable, scoped to the user's workspaces, ledger read-only."""

import datetime as dt

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Account
from attribution.models import Campaign, Channel
from funnel.models import StageEvent
from leads.models import Lead
from workspaces.models import Membership, Workspace, WorkspaceAPIKey
from workspaces.scoping import workspace_scope

from .factories import AccountFactory, CampaignFactory, LeadFactory

DOMAIN_MODELS = [
    m for m in admin.site._registry if m._meta.app_label in {"accounts", "leads", "attribution", "funnel", "sync"}
] + [WorkspaceAPIKey]


def test_every_domain_model_is_registered():
    names = {m.__name__ for m in DOMAIN_MODELS}
    assert names == {
        "Account", "TargetList", "TargetListMember", "Lead", "Channel", "Campaign", "Touch",
        "Opportunity", "Contract", "StageEvent", "LeadMerge", "Tombstone", "IdempotencyRecord", "Webhook",
        "WebhookDelivery", "ImportJob", "WorkspaceAPIKey", "Snapshot", "RecomputeState",
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


def _post_change(client, obj, **changes):
    """Submit the object's admin change form as the page shows it, with ``changes``."""
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form.initial.get(name)
        if hasattr(value, "pk"):
            value = value.pk
        data[name] = "" if value is None else value
    data.update(changes)
    data["_save"] = "Save"
    return client.post(url, data)


def _errors(response) -> str:
    assert response.status_code == 200, "the form should have been shown again with its errors"
    return " ".join(str(e) for e in response.context["adminform"].form.errors.values())


def test_a_membership_cannot_be_moved_to_another_workspace_in_the_admin(admin_of_acme, workspace, other_workspace):
    """An admin of one workspace must not make themselves a member of another."""
    membership = Membership.objects.with_scopes_disabled().get(user__email="boss@acme.test")
    page = admin_of_acme.get(reverse("admin:workspaces_membership_change", args=[membership.pk]))
    assert b"Globex" not in page.content
    response = _post_change(admin_of_acme, membership, workspace=other_workspace.pk, role="admin")
    assert response.status_code == 302
    assert not Membership.objects.with_scopes_disabled().filter(workspace=other_workspace).exists()
    assert Membership.objects.with_scopes_disabled().get(pk=membership.pk).workspace_id == workspace.pk


def test_the_last_admin_cannot_be_demoted_in_the_admin(admin_of_acme):
    membership = Membership.objects.with_scopes_disabled().get(user__email="boss@acme.test")
    assert "last admin" in _errors(_post_change(admin_of_acme, membership, role="marketer"))
    assert Membership.objects.with_scopes_disabled().get(pk=membership.pk).role == "admin"


def test_a_duplicate_domain_or_email_in_the_admin_is_a_form_error_not_a_crash(admin_of_acme, workspace):
    with workspace_scope(workspace):
        first, second = AccountFactory(workspace=workspace), AccountFactory(workspace=workspace)
        other = LeadFactory(workspace=workspace, email="other@acme.test")
    assert "already exists" in _errors(_post_change(admin_of_acme, second, domain=first.domain.upper()))
    lead = Lead.objects.with_scopes_disabled().get(email="mine@acme.test")
    assert "already exists" in _errors(_post_change(admin_of_acme, lead, email=" OTHER@acme.test"))
    assert "not a valid email" in _errors(_post_change(admin_of_acme, lead, email="Not An Email"))
    assert "not a valid domain" in _errors(_post_change(admin_of_acme, second, domain="not a domain"))
    assert Lead.objects.with_scopes_disabled().get(pk=lead.pk).email == "mine@acme.test"
    assert other.email == "other@acme.test"


def test_admin_edits_are_stored_normalized(admin_of_acme, workspace):
    with workspace_scope(workspace):
        account = AccountFactory(workspace=workspace)
    assert _post_change(admin_of_acme, account, domain="HTTPS://WWW.New-Domain.COM/about").status_code == 302
    assert Account.objects.with_scopes_disabled().get(pk=account.pk).domain == "new-domain.com"
    lead = Lead.objects.with_scopes_disabled().get(email="mine@acme.test")
    assert _post_change(admin_of_acme, lead, email="  Mine.New@ACME.test ").status_code == 302
    assert Lead.objects.with_scopes_disabled().get(pk=lead.pk).email == "mine.new@acme.test"


def test_the_admin_refuses_links_to_another_workspace(client, workspace, other_workspace, member_factory):
    """A superuser sees every workspace's rows in one list; a campaign still takes only its own
    workspace's channel, and an owner must be a member."""
    superuser = get_user_model().objects.create_superuser("root@example.test", "pw-for-tests-1")
    client.force_login(superuser)
    outsider = member_factory(other_workspace, role="sales_rep", email="rep@globex.test").user
    with workspace_scope(workspace):
        campaign = CampaignFactory(workspace=workspace)
    with workspace_scope(other_workspace):
        their_channel = Channel.objects.get(slug="email")
    errors = _errors(_post_change(client, campaign, channel=their_channel.pk))
    assert "No such channel in this workspace" in errors
    assert "Choose a member of this workspace." in _errors(_post_change(client, campaign, owner=outsider.pk))
    campaign = Campaign.objects.with_scopes_disabled().get(pk=campaign.pk)
    assert campaign.channel.workspace_id == workspace.pk and campaign.owner_id is None


def test_a_workspace_admin_is_offered_only_their_own_channels(admin_of_acme, workspace, other_workspace):
    with workspace_scope(workspace):
        campaign = CampaignFactory(workspace=workspace)
    page = admin_of_acme.get(reverse("admin:attribution_campaign_change", args=[campaign.pk]))
    choices = page.context["adminform"].form.fields["channel"].queryset
    assert {c.workspace_id for c in choices} == {workspace.pk}


def _record_with_owner(kind: str, workspace):
    with workspace_scope(workspace):
        if kind == "lead":
            return Lead.objects.get(email="mine@acme.test")
        return {"account": AccountFactory, "campaign": CampaignFactory}[kind](workspace=workspace)


OWNED = ["lead", "account", "campaign"]


@pytest.mark.parametrize("kind", OWNED)
def test_an_owner_from_another_workspace_is_refused_without_naming_them(
    admin_of_acme, workspace, other_workspace, member_factory, kind
):
    """Walking user ids through the owner field must not list the people of other workspaces."""
    outsider = member_factory(other_workspace, role="sales_rep", email="hidden.person@globex.test").user
    loner = get_user_model().objects.create_user("no.workspace@elsewhere.test", "pw-for-tests-1")
    record = _record_with_owner(kind, workspace)
    for user in (outsider, loner):
        response = _post_change(admin_of_acme, record, owner=user.pk)
        assert response.context["adminform"].form.errors.get_json_data() == {
            "owner": [{"message": "Choose a member of this workspace.", "code": "invalid_choice"}]
        }
        assert user.email.encode() not in response.content
        assert user.email.split("@")[0].encode() not in response.content
    assert type(record).objects.with_scopes_disabled().get(pk=record.pk).owner_id is None


@pytest.mark.parametrize("kind", OWNED)
def test_owner_choices_are_exactly_the_members_of_the_records_workspace(
    client, workspace, other_workspace, member_factory, kind
):
    """Also for a superuser, who sees every workspace's rows in one list."""
    members = {member_factory(workspace, role=role).user for role in ("admin", "sales_rep", "marketer")}
    member_factory(other_workspace, role="sales_rep", email="rep@globex.test")
    superuser = get_user_model().objects.create_superuser("root@example.test", "pw-for-tests-1")
    with workspace_scope(workspace):
        LeadFactory(workspace=workspace, email="mine@acme.test")
    record = _record_with_owner(kind, workspace)
    client.force_login(superuser)
    url = reverse(f"admin:{record._meta.app_label}_{record._meta.model_name}_change", args=[record.pk])
    page = client.get(url)
    assert set(page.context["adminform"].form.fields["owner"].queryset) == members
    assert b"rep@globex.test" not in page.content
    member = sorted(members, key=lambda u: u.email)[0]
    assert _post_change(client, record, owner=member.pk).status_code == 302
    assert type(record).objects.with_scopes_disabled().get(pk=record.pk).owner_id == member.pk


def test_the_admin_says_touches_and_webhook_deliveries(admin_of_acme):
    index = admin_of_acme.get(reverse("admin:index")).content.decode()
    assert "Touches" in index and "Webhook deliveries" in index
    assert "Touchs" not in index and "deliverys" not in index


def _touches(workspace, count: int):
    from attribution.services import touch_record

    with workspace_scope(workspace):
        lead = Lead.objects.get(email="mine@acme.test")
        campaign = CampaignFactory(workspace=workspace, name="Spring webinar")
        email = Channel.objects.get(slug="email")
        when = dt.datetime(2026, 3, 1, 14, 5, tzinfo=dt.UTC)
        return [
            touch_record(
                workspace=workspace,
                lead=lead,
                channel=email,
                campaign=campaign if i % 2 == 0 else None,
                type="form_fill" if i % 2 == 0 else "email_click",
                occurred_at=when + dt.timedelta(minutes=i),
            )
            for i in range(count)
        ]


def test_a_touch_is_titled_by_its_type_scene_and_time_not_by_its_lead(admin_of_acme, workspace, settings):
    settings.TIME_ZONE = "UTC"
    with_campaign, on_a_channel = _touches(workspace, 2)
    assert str(with_campaign) == "Form fill · Spring webinar · 2026-03-01 14:05"
    assert str(on_a_channel) == f"Email click · {on_a_channel.channel.name} · 2026-03-01 14:06"
    page = admin_of_acme.get(reverse("admin:attribution_touch_change", args=[with_campaign.pk])).content.decode()
    assert "Form fill · Spring webinar · 2026-03-01 14:05" in page


def test_the_touch_list_titles_its_rows_without_a_query_each(admin_of_acme, workspace):
    _touches(workspace, 6)
    response = admin_of_acme.get(reverse("admin:attribution_touch_changelist"))
    rows = list(response.context["cl"].result_list)
    assert len(rows) == 6
    with CaptureQueriesContext(connection) as queries:
        titles = [str(touch) for touch in rows]
    assert len(queries) == 0 and all("·" in title for title in titles)
