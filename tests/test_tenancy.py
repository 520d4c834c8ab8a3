import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django_scopes.exceptions import ScopeError

from accounts.models import Account
from attribution.models import Campaign, Channel, Touch
from attribution.services import touch_record
from funnel.models import Contract, Opportunity, StageEvent
from funnel.services import lead_stage_move, opportunity_create, opportunity_win
from leads.models import Lead
from workspaces.models import Membership
from workspaces.scoping import workspace_scope

from .factories import AccountFactory, CampaignFactory, LeadFactory

WORKSPACE_OWNED = [Account, Lead, Channel, Campaign, Touch, Opportunity, Contract, StageEvent, Membership]


# Every model that belongs to a workspace, found rather than listed, so a new one is covered too.
EVERY_WORKSPACE_OWNED = sorted(
    (m for m in apps.get_models() if any(f.name == "workspace" and f.is_relation for f in m._meta.fields)),
    key=lambda m: m._meta.label,
)


def test_the_found_list_of_workspace_models_is_complete():
    assert set(WORKSPACE_OWNED) <= set(EVERY_WORKSPACE_OWNED) and len(EVERY_WORKSPACE_OWNED) >= 20


@pytest.mark.parametrize("model", EVERY_WORKSPACE_OWNED, ids=lambda m: m._meta.label)
def test_an_unscoped_query_is_refused(db, model):
    with pytest.raises(ScopeError):
        list(model.objects.all())
    with pytest.raises(ScopeError):
        model.objects.filter(pk=1).exists()


def test_scope_of_none_is_refused_rather_than_widened(db):
    with pytest.raises(ValueError, match="needs a workspace"), workspace_scope(None):
        pass


@pytest.fixture
def two_filled_workspaces(workspace, other_workspace):
    for ws in (workspace, other_workspace):
        with workspace_scope(ws):
            account = AccountFactory(workspace=ws, domain="shared.example")
            lead = LeadFactory(workspace=ws, email="same@shared.example", account=account)
            campaign = CampaignFactory(workspace=ws)
            channel = Channel.objects.get(slug="email")
            touch_record(workspace=ws, lead=lead, channel=channel, campaign=campaign, type="email_click")
            lead_stage_move(workspace=ws, lead=lead, to_stage="sal")
            deal = opportunity_create(workspace=ws, account=account, primary_lead=lead, name="Deal", amount=1)
            opportunity_win(workspace=ws, opportunity=deal)
    return workspace, other_workspace


@pytest.mark.parametrize("model", WORKSPACE_OWNED, ids=lambda m: m.__name__)
def test_a_scope_sees_only_its_own_rows(two_filled_workspaces, model):
    workspace, other = two_filled_workspaces
    with workspace_scope(workspace):
        mine = list(model.objects.all())
    with workspace_scope(other):
        theirs = list(model.objects.all())
    assert {row.workspace_id for row in mine} <= {workspace.id}
    assert {row.workspace_id for row in theirs} <= {other.id}
    if model is not Membership:
        assert mine and theirs


def test_a_row_of_another_workspace_is_not_found_by_id(two_filled_workspaces):
    workspace, other = two_filled_workspaces
    with workspace_scope(other):
        their_lead_id = Lead.objects.get().pk
    with workspace_scope(workspace), pytest.raises(Lead.DoesNotExist):
        Lead.objects.get(pk=their_lead_id)


def test_services_refuse_objects_of_another_workspace_as_if_missing(two_filled_workspaces):
    workspace, other = two_filled_workspaces
    with workspace_scope(other):
        their_lead = Lead.objects.get()
        their_account = Account.objects.get()
    with workspace_scope(workspace):
        with pytest.raises(ValidationError, match="No such lead in this workspace"):
            lead_stage_move(workspace=workspace, lead=their_lead, to_stage="disqualified")
        with pytest.raises(ValidationError, match="No such account in this workspace"):
            LeadFactory(workspace=workspace, account=their_account)
        email = Channel.objects.get(slug="email")
        with pytest.raises(ValidationError, match="No such lead in this workspace"):
            touch_record(workspace=workspace, lead=their_lead, channel=email, type="email_click")
    with workspace_scope(other):
        assert Lead.objects.get().stage == "won"
        assert Touch.objects.count() == 1


def test_a_new_workspace_gets_the_default_channels(workspace):
    with workspace_scope(workspace):
        slugs = set(Channel.objects.values_list("slug", flat=True))
    assert slugs == {
        "paid_search",
        "paid_social",
        "organic_search",
        "email",
        "events",
        "webinar",
        "content",
        "partner",
        "referral",
        "outbound",
        "direct",
    }
