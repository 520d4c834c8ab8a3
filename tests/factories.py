"""factory-boy factories that build state through the services, never by saving a stage field.

Workspace-owned factories must be used inside ``workspace_scope`` (the ``scoped`` fixture)."""

import datetime as dt
from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import Account
from accounts.services import account_create
from attribution.models import Campaign, Channel
from funnel.models import Opportunity
from funnel.services import opportunity_create
from leads.models import Lead
from leads.services import lead_create
from workspaces.models import Membership, User, Workspace
from workspaces.services import membership_add, workspace_create


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    slug = factory.Sequence(lambda n: f"ws{n}")
    name = factory.Sequence(lambda n: f"Workspace {n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return workspace_create(**kwargs)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "pw-for-tests-1")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    email = factory.Sequence(lambda n: f"member{n}@example.test")
    role = "admin"
    password = "pw-for-tests-1"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return membership_add(reset_password=True, **kwargs)  # as the shell commands do


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    segment = "mid_market"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return account_create(**kwargs)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    email = factory.Sequence(lambda n: f"person{n}@example.test")
    first_name = "Pat"
    last_name = factory.Sequence(lambda n: f"Person{n}")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return lead_create(**kwargs)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    type = "webinar"
    start_date = dt.date(2026, 1, 1)
    budget = Decimal("1000.00")

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        if "channel" not in kwargs:
            kwargs["channel"] = Channel.objects.get(slug="webinar")
        campaign = model_class(**kwargs)
        campaign.full_clean(exclude=["workspace", "channel", "owner", "target_list"])
        campaign.save()
        return campaign


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = Decimal("25000.00")
    kind = "new_business"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        kwargs.setdefault("created_at", timezone.now())
        return opportunity_create(**kwargs)
