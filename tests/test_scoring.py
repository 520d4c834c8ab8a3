"""Scoring, qualification and the handoff: touches in the engagement window make the score; over
the workspace's threshold a lead becomes an MQL (a rule's ledger row) and is routed to a rep."""

import datetime as dt

import pytest
from django.utils import timezone

from accounts.services import account_create
from attribution.models import Channel
from attribution.services import touch_record
from funnel.models import StageEvent
from leads.services import leads_rescore
from sync.models import Webhook, WebhookDelivery
from workspaces.models import Role

from .factories import LeadFactory


@pytest.fixture
def reps(scoped, member_factory):
    return [member_factory(scoped, role=Role.SALES_REP, email=f"rep{i}@acme.test").user for i in (1, 2)]


def touch(workspace, lead, kind: str, days_ago: float):
    channel = Channel.objects.get(slug="events")
    return touch_record(
        workspace=workspace,
        lead=lead,
        channel=channel,
        type=kind,
        occurred_at=timezone.now() - dt.timedelta(days=days_ago),
    )


def test_only_touches_inside_the_engagement_window_count(scoped, reps):
    lead = LeadFactory(workspace=scoped, email="pat@example.com")
    touch(scoped, lead, "meeting", days_ago=200)
    lead.refresh_from_db()
    assert lead.score == 0
    touch(scoped, lead, "meeting", days_ago=5)
    lead.refresh_from_db()
    assert (lead.score, lead.stage) == (25, "lead")


def test_crossing_the_threshold_makes_an_mql_handed_to_the_least_busy_rep(scoped, reps):
    scoped.mql_threshold = 40
    scoped.save()
    busy = LeadFactory(workspace=scoped, email="busy@example.com", owner=reps[0])
    from funnel.services import lead_stage_move

    lead_stage_move(workspace=scoped, lead=busy, to_stage="mql")
    Webhook.objects.create(workspace=scoped, url="http://127.0.0.1:9/hook", events=["lead.handed_off"])
    lead = LeadFactory(workspace=scoped, email="hot@example.com")
    touch(scoped, lead, "meeting", days_ago=2)
    touch(scoped, lead, "webinar_attended", days_ago=1)
    lead.refresh_from_db()
    assert (lead.score, lead.stage, lead.owner_id) == (40, "mql", reps[1].pk)
    event = StageEvent.objects.filter(lead=lead).order_by("-id").first()
    assert (event.stage, event.source) == ("mql", "rule")
    delivery = WebhookDelivery.objects.get()
    assert delivery.event == "lead.handed_off"
    assert delivery.payload["data"]["lead"]["owner_email"] == "rep2@acme.test"


def test_the_account_owner_gets_its_mqls_when_they_are_a_rep(scoped, reps):
    scoped.mql_threshold = 20
    scoped.save()
    account = account_create(workspace=scoped, name="Acme", domain="acme.example", owner=reps[0])
    lead = LeadFactory(workspace=scoped, email="cfo@acme.example", account=account)
    touch(scoped, lead, "meeting", days_ago=1)
    lead.refresh_from_db()
    assert (lead.stage, lead.owner_id) == ("mql", reps[0].pk)


def test_a_lead_past_mql_is_rescored_but_not_moved(scoped, reps):
    scoped.mql_threshold = 10
    scoped.save()
    lead = LeadFactory(workspace=scoped, email="pat@example.com")
    from funnel.services import lead_accept, lead_stage_move

    lead_stage_move(workspace=scoped, lead=lead, to_stage="mql")
    lead_accept(workspace=scoped, lead=lead, actor=reps[0])
    touch(scoped, lead, "meeting", days_ago=1)
    lead.refresh_from_db()
    assert (lead.stage, lead.score) == ("sal", 25)
    assert leads_rescore(workspace=scoped, lead_ids=[lead.pk]) == []
