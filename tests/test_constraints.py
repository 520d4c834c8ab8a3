"""Uniqueness inside a workspace, freedom across workspaces, and clear errors for bad input."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account
from attribution.models import Campaign, Touch
from funnel.models import Contract, Opportunity
from leads.models import Lead
from workspaces.scoping import workspace_scope

from .factories import AccountFactory, CampaignFactory, LeadFactory


def test_duplicate_email_in_one_workspace_is_refused_with_its_name(scoped):
    LeadFactory(workspace=scoped, email="Ann@Example.com")
    with pytest.raises(ValidationError) as error:
        LeadFactory(workspace=scoped, email="  ann@example.COM ")
    assert "ann@example.com already exists" in str(error.value)
    assert Lead.objects.count() == 1


def test_same_email_in_two_workspaces_is_two_leads(workspace, other_workspace):
    with workspace_scope(workspace):
        LeadFactory(workspace=workspace, email="ann@example.com")
    with workspace_scope(other_workspace):
        LeadFactory(workspace=other_workspace, email="ann@example.com")
        assert Lead.objects.count() == 1
    assert Lead.objects.with_scopes_disabled().filter(email="ann@example.com").count() == 2


def test_database_refuses_a_duplicate_email_that_bypasses_the_service(scoped):
    lead = LeadFactory(workspace=scoped, email="ann@example.com")
    clone = Lead(workspace=scoped, email="ann@example.com", stage="lead", stage_entered_at=lead.stage_entered_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()


@pytest.mark.parametrize("bad", ["not-an-email", "ann@", "@example.com", "", "ann example@x.com"])
def test_malformed_email_is_refused_naming_it(scoped, bad):
    with pytest.raises(ValidationError) as error:
        LeadFactory(workspace=scoped, email=bad)
    assert (repr(bad)[1:-1] in str(error.value)) or "required" in str(error.value)
    assert Lead.objects.count() == 0


def test_duplicate_domain_in_one_workspace_is_refused_after_normalizing(scoped):
    AccountFactory(workspace=scoped, domain="https://www.Acme.com/about")
    assert Account.objects.get().domain == "acme.com"
    with pytest.raises(ValidationError) as error:
        AccountFactory(workspace=scoped, domain="acme.com")
    assert "acme.com already exists" in str(error.value)


def test_same_domain_in_two_workspaces_is_allowed(workspace, other_workspace):
    for ws in (workspace, other_workspace):
        with workspace_scope(ws):
            AccountFactory(workspace=ws, domain="acme.com")
    assert Account.objects.with_scopes_disabled().filter(domain="acme.com").count() == 2


def test_invalid_domain_is_refused(scoped):
    with pytest.raises(ValidationError, match="not a valid domain"):
        AccountFactory(workspace=scoped, domain="not a domain")


def test_duplicate_external_id_in_one_workspace_is_refused(scoped):
    LeadFactory(workspace=scoped, external_id="crm-1")
    with pytest.raises(ValidationError, match="crm-1"):
        LeadFactory(workspace=scoped, external_id="crm-1")
    AccountFactory(workspace=scoped, external_id="acc-1")
    with pytest.raises(ValidationError, match="acc-1"):
        AccountFactory(workspace=scoped, external_id="acc-1")


def test_empty_external_ids_do_not_collide(scoped):
    LeadFactory(workspace=scoped, external_id="")
    LeadFactory(workspace=scoped, external_id="")
    assert Lead.objects.count() == 2


def test_same_external_id_in_two_workspaces_is_allowed(workspace, other_workspace):
    for ws in (workspace, other_workspace):
        with workspace_scope(ws):
            LeadFactory(workspace=ws, external_id="crm-1")
            AccountFactory(workspace=ws, external_id="acc-1")
    assert Lead.objects.with_scopes_disabled().filter(external_id="crm-1").count() == 2


def test_campaign_with_negative_budget_or_cost_is_refused(scoped):
    with pytest.raises(ValidationError, match="budget cannot be below zero"):
        CampaignFactory(workspace=scoped, budget=-1)
    with pytest.raises(ValidationError, match="actual cost cannot be below zero"):
        CampaignFactory(workspace=scoped, actual_cost=-5)


def test_campaign_ending_before_it_starts_is_refused(scoped):
    with pytest.raises(ValidationError, match="end date cannot be before the start date"):
        CampaignFactory(workspace=scoped, start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 4, 1))


def _clone(row, **changes):
    """A copy of ``row`` as a new row, written by the ORM straight to the database."""
    row.pk = row.id = None
    for name, value in changes.items():
        setattr(row, name, value)
    row.save()
    return row


@pytest.mark.parametrize("resource", ["accounts", "leads", "campaigns", "touches", "opportunities", "contracts"])
def test_the_database_refuses_a_repeated_external_id_in_a_workspace_and_allows_it_in_another(
    workspace, other_workspace, resource
):
    """Not the services' checks: the constraint itself, for every model with an external_id."""
    from .api_helpers import seed_workspace

    seeded = seed_workspace(workspace)
    model = {
        "accounts": Account, "leads": Lead, "campaigns": Campaign, "touches": Touch,
        "opportunities": Opportunity, "contracts": Contract,
    }[resource]  # fmt: skip
    changes = {
        "accounts": {"domain": "copy.example"},
        "leads": {"email": "copy@acme.test"},
        "contracts": {"opportunity": None},
    }.get(resource, {})
    original = model.objects.with_scopes_disabled().get(pk=seeded.ids[resource])
    if not original.external_id:
        original.external_id = "EXT-1"
        model.objects.with_scopes_disabled().filter(pk=original.pk).update(external_id="EXT-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        _clone(model.objects.with_scopes_disabled().get(pk=original.pk), **changes)
    copy = _clone(model.objects.with_scopes_disabled().get(pk=original.pk), workspace=other_workspace, **changes)
    assert copy.external_id == original.external_id and copy.workspace_id != original.workspace_id
