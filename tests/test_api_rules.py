"""Writes through the API run the product's rules: touches rescore their lead, and one that
reaches the workspace's MQL threshold becomes an MQL by the rule, is handed off to a sales rep
and is announced to the webhooks, exactly as a touch logged in the browser."""

import datetime as dt

import pytest
from django.utils import timezone

from funnel.models import StageEvent
from leads.models import Lead
from leads.scoring import TOUCH_POINTS
from sync.models import WebhookDelivery
from sync.services import webhook_create
from workspaces.scoping import workspace_scope

from .api_helpers import API, Receiver, count, key_client, send_bulk, statuses


@pytest.fixture
def api(workspace):
    workspace.mql_threshold = TOUCH_POINTS["meeting"] + TOUCH_POINTS["email_click"]  # 30
    workspace.save()
    return key_client(workspace)


@pytest.fixture
def rep(workspace, member_factory):
    member_factory(workspace, role="marketer", email="marketer@acme.test")
    return member_factory(workspace, role="sales_rep", email="rep@acme.test")


def recent(days: float) -> str:
    return (timezone.now() - dt.timedelta(days=days)).replace(microsecond=0).isoformat()


def touch(kind: str, days_ago: float, lead: str = "L-1") -> dict:
    return {"lead_external_id": lead, "channel": "email", "type": kind, "occurred_at": recent(days_ago)}


def lead_state(workspace) -> Lead:
    with workspace_scope(workspace):
        return Lead.objects.select_related("owner").get(external_id="L-1")


@pytest.fixture
def captured(api):
    send_bulk(api, "leads", [{"external_id": "L-1", "email": "pat@acme.com", "created_at": recent(30)}])


def test_a_touch_raises_its_leads_score(workspace, api, captured):
    assert statuses(send_bulk(api, "touches", [touch("email_click", 2)])) == ["created"]
    lead = lead_state(workspace)
    assert (lead.score, lead.stage) == (TOUCH_POINTS["email_click"], "lead")
    assert api.get(f"{API}/leads/{lead.pk}/").json()["score"] == TOUCH_POINTS["email_click"]


def test_a_touch_outside_the_engagement_window_adds_nothing(workspace, api, captured):
    send_bulk(api, "touches", [touch("meeting", workspace.engagement_window_days + 5)])
    assert lead_state(workspace).score == 0


def test_reaching_the_threshold_makes_an_mql_by_the_rule_and_hands_it_to_a_sales_rep(workspace, api, rep, captured):
    send_bulk(api, "touches", [touch("email_click", 3)])
    assert lead_state(workspace).stage == "lead"
    response = send_bulk(api, "touches", [touch("meeting", 1)])
    assert statuses(response) == ["created"]
    lead = lead_state(workspace)
    assert (lead.score, lead.stage) == (30, "mql")
    assert lead.owner == rep.user
    with workspace_scope(workspace):
        (mql,) = StageEvent.objects.filter(lead=lead, stage="mql")
    assert (mql.from_stage, mql.source) == ("lead", "rule")
    shown = api.get(f"{API}/leads/{lead.pk}/").json()
    assert (shown["stage"], shown["owner_email"]) == ("mql", "rep@acme.test")


def test_one_batch_of_touches_over_the_threshold_qualifies_once(workspace, api, rep, captured):
    send_bulk(api, "touches", [touch("meeting", 1), touch("email_click", 2), touch("form_fill", 3)])
    assert lead_state(workspace).stage == "mql"
    assert count(workspace, StageEvent, stage="mql") == 1
    # resending them changes nothing: no second qualification
    send_bulk(api, "touches", [touch("meeting", 1), touch("email_click", 2), touch("form_fill", 3)])
    assert count(workspace, StageEvent, stage="mql") == 1


def test_a_person_only_touched_is_scored_but_not_qualified(workspace, api, rep):
    send_bulk(api, "leads", [{"external_id": "L-1", "email": "pat@acme.com"}])
    send_bulk(api, "touches", [touch("meeting", 1), touch("email_click", 2)])
    lead = lead_state(workspace)
    assert (lead.score, lead.stage) == (30, "touched")


def test_a_touched_person_who_fills_in_a_form_is_captured_and_can_qualify(workspace, api, rep):
    """A website form syncing a person it reached earlier: the form fill is their capture."""
    send_bulk(api, "leads", [{"external_id": "L-1", "email": "pat@acme.com"}])
    send_bulk(api, "touches", [touch("email_click", 5)])
    assert lead_state(workspace).stage == "touched"
    fill = touch("form_fill", 2)
    assert statuses(send_bulk(api, "touches", [fill, touch("meeting", 1)])) == ["created", "created"]
    lead = lead_state(workspace)
    assert lead.captured_at.isoformat() == fill["occurred_at"]
    assert lead.stage == "mql" and lead.owner == rep.user
    with workspace_scope(workspace):
        ledger = list(StageEvent.objects.filter(lead=lead).order_by("entered_at", "id").values_list("stage", "source"))
    assert ledger[0] == ("touched", "api")  # backdated to the first touch
    assert [row for row in ledger if row[0] != "touched"] == [("lead", "rule"), ("mql", "rule")]


def test_the_handoff_is_announced_to_the_webhooks(
    workspace, api, rep, captured, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_ALLOW_PRIVATE_HOSTS = True
    with Receiver() as receiver:
        with workspace_scope(workspace):
            webhook_create(workspace=workspace, url=receiver.url, events=["lead.handed_off"])
        with django_capture_on_commit_callbacks(execute=True):
            send_bulk(api, "touches", [touch("meeting", 1), touch("email_click", 2)])
    with workspace_scope(workspace):
        (delivery,) = WebhookDelivery.objects.all()
    assert (delivery.event, delivery.status, delivery.attempts) == ("lead.handed_off", "succeeded", 1)
    (request,) = receiver.requests
    assert request["headers"]["X-Funnel-Event"] == "lead.handed_off"
    sent = receiver.json()
    assert sent["event"] == "lead.handed_off" and sent["workspace"] == workspace.slug
    assert sent["data"]["lead"] | {"id": None} == {
        "id": None,
        "external_id": "L-1",
        "email": "pat@acme.com",
        "first_name": "",
        "last_name": "",
        "stage": "mql",
        "score": 30,
        "owner_email": "rep@acme.test",
    }


def test_a_refused_touch_runs_no_rule(workspace, api, rep, captured):
    response = send_bulk(api, "touches", [touch("meeting", 1) | {"channel": "tiktok"}])
    assert statuses(response) == ["error"]
    assert lead_state(workspace).score == 0
    assert count(workspace, StageEvent, stage="mql") == 0
