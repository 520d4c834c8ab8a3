"""POST /api/v1/leads/merge/: the loser's history moves to the survivor, the loser becomes a
tombstone, and later upserts by the loser's keys land on the survivor."""

import datetime as dt

import pytest

from attribution.models import Touch
from funnel.models import Opportunity, StageEvent
from leads.models import Lead, LeadMerge
from sync.models import Tombstone
from workspaces.scoping import workspace_scope

from .api_helpers import API, count, key_client, seed_workspace, send_bulk, statuses


@pytest.fixture
def api(workspace):
    return key_client(workspace)


@pytest.fixture
def pair(workspace, api):
    """A survivor with a touch, and a loser (another record of the same person) with touches,
    ledger rows and an opportunity."""
    seeded = seed_workspace(workspace)  # LEAD-1 (won, with a touch and a deal): the loser
    response = send_bulk(
        api,
        "leads",
        [{"external_id": "KEEP", "email": "pat.doe@acme.test", "title": "CTO", "created_at": "2026-01-01T00:00:00Z"}],
    )
    survivor = response.json()["results"][0]["id"]
    send_bulk(
        api,
        "touches",
        [
            {
                "lead_external_id": "KEEP",
                "channel": "email",
                "type": "email_click",
                "occurred_at": "2026-01-02T00:00:00Z",
            }
        ],
    )
    return survivor, seeded.ids["leads"], seeded


def merge(api, survivor, loser, **headers):
    return api.post(f"{API}/leads/merge/", {"survivor_id": survivor, "loser_id": loser}, format="json", **headers)


def test_merging_moves_touches_events_and_opportunities_to_the_survivor(workspace, api, pair):
    survivor, loser, seeded = pair
    with workspace_scope(workspace):
        touches = set(Touch.objects.values_list("id", flat=True))
        events = set(StageEvent.objects.filter(lead_id__in=[survivor, loser]).values_list("id", flat=True))
        losers_events = StageEvent.objects.filter(lead_id=loser).count()
    response = merge(api, survivor, loser)
    assert response.status_code == 200, response.content
    assert response.json()["id"] == survivor
    with workspace_scope(workspace):
        assert set(Touch.objects.filter(lead_id=survivor).values_list("id", flat=True)) == touches
        assert set(StageEvent.objects.filter(lead_id=survivor).values_list("id", flat=True)) == events
        assert not StageEvent.objects.filter(lead_id=loser).exists()
        assert Opportunity.objects.get(pk=seeded.ids["opportunities"]).primary_lead_id == survivor
        kept = Lead.objects.get(pk=survivor)
        gone = Lead.objects.get(pk=loser)
        audit = LeadMerge.objects.get()
    # the survivor's current stage is the newer of the two people's (the loser had won)
    assert kept.stage == "won"
    assert (kept.title, kept.account_id) == ("CTO", gone.account_id)  # its own values, the loser's where empty
    assert kept.captured_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert gone.merged_into_id == survivor
    assert audit.moved == {"touches": 1, "stage_events": losers_events, "opportunities": 1}


def test_the_loser_leaves_the_lists_and_is_a_tombstone_pointing_at_the_survivor(workspace, api, pair):
    survivor, loser, _ = pair
    merge(api, survivor, loser)
    assert api.get(f"{API}/leads/{loser}/").status_code == 404
    with workspace_scope(workspace):
        tomb = Tombstone.objects.get(record_id=loser)
    assert (tomb.kind, tomb.merged_into_id, tomb.external_id) == ("merged", survivor, "LEAD-1")


@pytest.mark.parametrize(
    "record",
    [{"email": "apat@acme.test", "first_name": "Again"}, {"external_id": "LEAD-1", "first_name": "Again"}],
    ids=["by-email", "by-external-id"],
)
def test_a_later_upsert_by_the_losers_key_lands_on_the_survivor(workspace, api, pair, record):
    survivor, loser, _ = pair
    merge(api, survivor, loser)
    leads_before = count(workspace, Lead)
    response = send_bulk(api, "leads", [record])
    assert statuses(response) == ["updated"]
    assert response.json()["results"][0]["id"] == survivor
    assert count(workspace, Lead) == leads_before
    with workspace_scope(workspace):
        assert Lead.objects.get(pk=survivor).first_name == "Again"
        assert Lead.objects.get(pk=survivor).email == "pat.doe@acme.test"


def test_a_touch_naming_the_loser_is_recorded_on_the_survivor(workspace, api, pair):
    survivor, loser, _ = pair
    merge(api, survivor, loser)
    response = send_bulk(
        api,
        "touches",
        [{"lead_external_id": "LEAD-1", "channel": "email", "type": "meeting", "occurred_at": "2026-03-02T00:00:00Z"}],
    )
    assert statuses(response) == ["created"]
    with workspace_scope(workspace):
        assert Touch.objects.get(pk=response.json()["results"][0]["id"]).lead_id == survivor


def test_merging_a_lead_with_itself_is_400(workspace, api, pair):
    survivor, _, _ = pair
    response = merge(api, survivor, survivor)
    assert response.status_code == 400
    assert "itself" in str(response.json())
    assert count(workspace, LeadMerge) == 0


def test_merging_a_deleted_or_already_merged_lead_is_404(workspace, api, pair):
    survivor, loser, seeded = pair
    assert api.delete(f"{API}/leads/{seeded.spare['leads']}/").status_code == 204
    erased = merge(api, survivor, seeded.spare["leads"])
    assert erased.status_code == 404
    assert str(seeded.spare["leads"]) in erased.json()["detail"]
    assert merge(api, seeded.spare["leads"], survivor).status_code == 404
    assert merge(api, survivor, loser).status_code == 200
    assert merge(api, survivor, loser).status_code == 404  # the loser is a tombstone now
    assert merge(api, loser, survivor).status_code == 404
    assert count(workspace, LeadMerge) == 1


@pytest.mark.parametrize(
    "body",
    [{}, {"survivor_id": 1}, {"survivor_id": "1", "loser_id": 2}, {"survivor_id": True, "loser_id": 2}, [1, 2]],
    ids=["empty", "no-loser", "text-id", "bool-id", "list"],
)
def test_a_merge_without_two_lead_ids_is_400_naming_the_field(api, pair, body):
    response = api.post(f"{API}/leads/merge/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) & {"survivor_id", "loser_id"}


def test_a_merge_of_unknown_ids_is_404(api, pair):
    survivor, _, _ = pair
    assert merge(api, survivor, 987654).status_code == 404


def test_merging_a_newer_touched_record_into_a_lead_keeps_the_survivor_a_lead(workspace, api):
    """The loser's newer 'touched' entry does not move the survivor back (issue 9, item 13)."""
    keep = send_bulk(
        api, "leads", [{"external_id": "KEEP", "email": "pat@acme.test", "created_at": "2026-01-01T00:00:00Z"}]
    )
    gone = send_bulk(api, "leads", [{"external_id": "GONE", "email": "pat.doe@acme.test"}])  # touched, now
    survivor, loser = keep.json()["results"][0]["id"], gone.json()["results"][0]["id"]
    response = merge(api, survivor, loser)
    assert response.status_code == 200, response.content
    assert response.json()["stage"] == "lead"
    assert response.json()["stage_entered_at"].startswith("2026-01-01T00:00:00")
