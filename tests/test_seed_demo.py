"""The seed_demo command: deterministic, careful with a workspace that has data, and its users."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db.models import Count, F, OuterRef, Subquery, Sum

from accounts.models import Account, TargetListMember
from attribution.models import Campaign, Touch
from funnel.models import Contract, Opportunity, StageEvent
from leads.models import Lead
from leads.services import lead_create
from workspaces.models import Membership, Workspace
from workspaces.scoping import workspace_scope

pytestmark = pytest.mark.django_db(transaction=False)

TODAY = "2026-11-22"
MODELS = (Account, TargetListMember, Campaign, Lead, Touch, StageEvent, Opportunity, Contract)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Each seed sets five passwords; the default hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def seed(slug, *extra, leads=200, seed=3):
    call_command("seed_demo", "--workspace", slug, "--leads", str(leads), "--seed", str(seed), "--today", TODAY, *extra)
    return Workspace.objects.get(slug=slug)


def fingerprint(workspace):
    with workspace_scope(workspace):
        return {
            "counts": {m.__name__: m.objects.count() for m in MODELS},
            "amounts": Opportunity.objects.aggregate(total=Sum("amount"))["total"],
            "values": Contract.objects.aggregate(total=Sum("annual_value"))["total"],
            "stages": dict(Lead.objects.values_list("stage").annotate(n=Count("id"))),
        }


def test_same_seed_and_today_give_the_same_data_in_two_workspaces(capsys):
    first, second = fingerprint(seed("demo-a")), fingerprint(seed("demo-b"))
    assert first == second
    assert first["counts"]["Lead"] == 200 and first["counts"]["Touch"] > 1000
    assert first["amounts"] > 0 and first["values"] > 0
    out = capsys.readouterr().out
    assert "touches" in out and "admin@demo.test" in out and "funnel-demo" in out


def test_another_seed_gives_other_data():
    assert fingerprint(seed("demo-a", seed=3)) != fingerprint(seed("demo-b", seed=4))


def test_refuses_a_workspace_with_data_unless_reset():
    workspace = seed("demo")
    before = fingerprint(workspace)
    with pytest.raises(CommandError, match="already has data; pass --reset"):
        seed("demo", seed=9)
    assert fingerprint(workspace) == before
    seed("demo", "--reset", seed=9)
    assert fingerprint(workspace) != before
    seed("demo", "--reset", seed=3)
    assert fingerprint(workspace) == before


def test_reset_leaves_other_workspaces_alone():
    other = fingerprint(seed("other"))
    seed("demo")
    seed("demo", "--reset", seed=5)
    assert fingerprint(Workspace.objects.get(slug="other")) == other


def test_if_empty_leaves_data_as_it_is(capsys):
    workspace = seed("demo")
    before = fingerprint(workspace)
    seed("demo", "--if-empty", seed=9)
    assert "already has data, left as it is" in capsys.readouterr().out
    assert fingerprint(workspace) == before


def test_no_leads_makes_an_empty_workspace_with_one_user_per_role():
    workspace = seed("demo", "--password", "pw-demo-123", leads=0)
    assert workspace.name == "Demo Company"
    roles = dict(
        Membership.objects.with_scopes_disabled().filter(workspace=workspace).values_list("user__email", "role")
    )
    assert roles == {
        "admin@demo.test": "admin",
        "manager@demo.test": "manager",
        "marketer@demo.test": "marketer",
        "rep1@demo.test": "sales_rep",
        "rep2@demo.test": "sales_rep",
    }
    assert authenticate(username="rep1@demo.test", password="pw-demo-123") is not None
    assert set(fingerprint(workspace)["counts"].values()) == {0}
    seed("demo", leads=50)  # still empty: no refusal
    assert fingerprint(workspace)["counts"]["Lead"] == 50


def test_each_lead_stands_in_the_stage_of_its_last_event():
    workspace = seed("demo")
    with workspace_scope(workspace):
        last = StageEvent.objects.filter(lead=OuterRef("pk")).order_by("-entered_at", "-id")
        leads = Lead.objects.annotate(last_stage=Subquery(last.values("stage")[:1]))
        assert not leads.exclude(stage=F("last_stage")).exists()
        assert set(StageEvent.objects.values_list("source", flat=True)) == {"import"}
        deal_events = StageEvent.objects.filter(stage__in=["opportunity", "won", "lost", "renewed", "churned"])
        assert not deal_events.filter(opportunity__isnull=True).exists()
        assert not deal_events.exclude(opportunity__primary_lead=F("lead")).exists()
        assert not Touch.objects.exclude(account=F("lead__account")).exists()
        assert set(Lead.objects.values_list("owner__email", flat=True)) == {"rep1@demo.test", "rep2@demo.test"}


def test_new_rows_after_the_seed_get_fresh_ids():
    workspace = seed("demo")
    with workspace_scope(workspace):
        top = Lead.objects.order_by("-id").values_list("id", flat=True).first()
        lead = lead_create(workspace=workspace, email="new.person@example.test")
        assert lead.pk > top


def test_a_reset_that_fails_while_loading_keeps_the_old_data(db, monkeypatch):
    workspace = seed("demo", leads=50)
    before = fingerprint(workspace)

    def broken_load(**kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr("funnel.management.commands.seed_demo.demo_load", broken_load)
    with pytest.raises(RuntimeError, match="disk is full"):
        seed("demo", "--reset", leads=80)
    assert fingerprint(workspace) == before
