"""The change feed behind every list: paging never skips or repeats a record, a record comes
again exactly when it changed, deletions and merges show as tombstones, and (PostgreSQL) a
transaction that commits late still appears after the cursor."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.utils import timezone

from funnel.stages import EventSource
from leads.models import Lead
from leads.services import leads_upsert
from workspaces.scoping import workspace_scope

from .api_helpers import API, feed_settled, key_client, read_feed, send_bulk, statuses
from .factories import WorkspaceFactory

# PostgreSQL's feed hides what the reader's own open transaction wrote, so these tests commit
# every request (as production does) instead of running inside one test transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ws(db):
    return WorkspaceFactory(slug="feed")


@pytest.fixture
def api(ws):
    return key_client(ws)


def make_leads(api, n: int, start: int = 0, **extra) -> list[int]:
    records = [{"external_id": f"L-{i}", "email": f"p{i}@acme.com", **extra} for i in range(start, start + n)]
    response = send_bulk(api, "leads", records)
    assert statuses(response) == ["created"] * n
    return [r["id"] for r in response.json()["results"]]


def test_paging_returns_every_record_exactly_once_in_write_order(api):
    ids = make_leads(api, 10) + make_leads(api, 10, start=10) + make_leads(api, 5, start=20)
    records, _, _, pages = read_feed(api, "leads", page_size=4)
    assert [r["id"] for r in records] == ids
    assert pages == 7  # 25 records, 4 a page


def test_many_records_sharing_one_timestamp_are_not_skipped(ws, api):
    ids = make_leads(api, 60)
    with workspace_scope(ws):
        assert Lead.objects.values("updated_at").distinct().count() == 1
    records, _, _, _ = read_feed(api, "leads", page_size=7)
    assert sorted(r["id"] for r in records) == sorted(ids)
    assert len(records) == 60


def test_a_record_changed_after_it_was_read_comes_again_exactly_once(api):
    ids = make_leads(api, 5)
    _, _, cursor, _ = read_feed(api, "leads", page_size=2)
    assert api.patch(f"{API}/leads/{ids[1]}/", {"first_name": "Changed"}, format="json").status_code == 200
    records, _, cursor, _ = read_feed(api, "leads", cursor, page_size=2)
    assert [(r["id"], r["first_name"]) for r in records] == [(ids[1], "Changed")]
    assert read_feed(api, "leads", cursor)[0] == []


def test_an_unchanged_resend_does_not_bring_records_again(api):
    make_leads(api, 5)
    _, _, cursor, _ = read_feed(api, "leads")
    records = [{"external_id": f"L-{i}", "email": f"p{i}@acme.com"} for i in range(5)]
    assert statuses(send_bulk(api, "leads", records)) == ["unchanged"] * 5
    assert read_feed(api, "leads", cursor)[:2] == ([], [])


def test_an_empty_feed_gives_a_cursor_that_later_returns_the_new_records(api):
    records, _, cursor, _ = read_feed(api, "leads")
    assert records == []
    ids = make_leads(api, 3)
    assert [r["id"] for r in read_feed(api, "leads", cursor)[0]] == ids


def test_updated_since_returns_only_what_was_written_from_then_on(ws, api):
    make_leads(api, 3)
    later = make_leads(api, 2, start=3)
    with workspace_scope(ws):
        since = Lead.objects.get(pk=later[0]).updated_at
    records, _, cursor, _ = read_feed(api, "leads", updated_since=since.isoformat(), page_size=1)
    assert [r["id"] for r in records] == later
    # the cursor keeps the filter and the position: a later change of an old record is returned
    api.patch(f"{API}/leads/{later[0] - 3}/", {"title": "CEO"}, format="json")
    assert [r["title"] for r in read_feed(api, "leads", cursor)[0]] == ["CEO"]


def test_filters_narrow_the_feed_and_are_kept_by_next(api):
    make_leads(api, 3)
    make_leads(api, 4, start=3, created_at="2026-01-02T00:00:00Z")
    records, _, _, pages = read_feed(api, "leads", stage="lead", page_size=2)
    assert {r["stage"] for r in records} == {"lead"}
    assert (len(records), pages) == (4, 2)


def test_deleting_a_lead_shows_a_tombstone_and_erases_its_personal_data(ws, api):
    ids = make_leads(api, 2)
    _, _, cursor, _ = read_feed(api, "leads")
    assert api.delete(f"{API}/leads/{ids[0]}/").status_code == 204
    records, tombstones, cursor, _ = read_feed(api, "leads", cursor)
    assert records == []
    assert len(tombstones) == 1
    (tomb,) = tombstones
    assert {k: tomb[k] for k in ("id", "external_id", "deleted", "merged_into")} == {
        "id": ids[0],
        "external_id": "L-0",
        "deleted": True,
        "merged_into": None,
    }
    assert abs(dt.datetime.fromisoformat(tomb["at"].replace("Z", "+00:00")) - timezone.now()) < dt.timedelta(minutes=1)
    assert read_feed(api, "leads", cursor)[:2] == ([], [])
    assert [r["id"] for r in read_feed(api, "leads")[0]] == [ids[1]]
    assert api.get(f"{API}/leads/{ids[0]}/").status_code == 404
    with workspace_scope(ws):
        erased = Lead.objects.get(pk=ids[0])
    assert (erased.email, erased.first_name, erased.last_name, erased.phone) == ("", "", "", "")
    assert erased.erased_at is not None


def test_an_erased_lead_is_not_created_again_by_its_external_id(ws, api):
    ids = make_leads(api, 1)
    api.delete(f"{API}/leads/{ids[0]}/")
    response = send_bulk(api, "leads", [{"external_id": "L-0", "email": "p0@acme.com"}])
    assert statuses(response) == ["error"]
    with workspace_scope(ws):
        assert Lead.objects.count() == 1


def test_a_merge_shows_the_loser_as_a_tombstone_pointing_at_the_survivor(api):
    survivor, loser = make_leads(api, 2)
    _, _, cursor, _ = read_feed(api, "leads")
    merged = api.post(f"{API}/leads/merge/", {"survivor_id": survivor, "loser_id": loser}, format="json")
    assert merged.status_code == 200
    records, tombstones, _, _ = read_feed(api, "leads", cursor)
    assert [r["id"] for r in records] == [survivor]
    assert [{k: t[k] for k in ("id", "external_id", "deleted", "merged_into")} for t in tombstones] == [
        {"id": loser, "external_id": "L-1", "deleted": False, "merged_into": survivor}
    ]


def test_a_deleted_account_and_campaign_show_as_tombstones(api):
    accounts = send_bulk(api, "accounts", [{"external_id": "A-1", "name": "Acme"}]).json()["results"]
    campaigns = send_bulk(
        api,
        "campaigns",
        [{"external_id": "C-1", "name": "C", "channel": "email", "type": "email", "start_date": "2026-01-01"}],
    ).json()["results"]
    assert api.delete(f"{API}/accounts/{accounts[0]['id']}/").status_code == 204
    assert api.delete(f"{API}/campaigns/{campaigns[0]['id']}/").status_code == 204
    for resource, row, key in (("accounts", accounts[0], "A-1"), ("campaigns", campaigns[0], "C-1")):
        records, tombstones, _, _ = read_feed(api, resource)
        assert records == []
        assert [(t["id"], t["external_id"], t["deleted"]) for t in tombstones] == [(row["id"], key, True)]


def test_stage_events_page_by_when_they_were_recorded(api):
    make_leads(api, 2, created_at="2026-01-02T00:00:00Z")
    _, _, cursor, _ = read_feed(api, "stage-events")
    send_bulk(api, "stage-events", [{"lead_external_id": "L-0", "stage": "mql", "entered_at": "2026-01-03T00:00:00Z"}])
    records = read_feed(api, "stage-events", cursor)[0]
    assert [(r["lead_external_id"], r["stage"], r["from_stage"]) for r in records] == [("L-0", "mql", "lead")]


# --- PostgreSQL: a transaction that began earlier and commits late ----------------------------


@pytest.mark.postgres
def test_a_transaction_that_commits_after_the_reader_paged_past_newer_rows_is_not_skipped(ws, api):
    inserted, release, done = threading.Event(), threading.Event(), threading.Event()
    late: dict = {}

    def slow_writer():
        try:
            with workspace_scope(ws), transaction.atomic():
                report = leads_upsert(
                    workspace=ws, records=[{"external_id": "LATE", "email": "late@acme.com"}], source=EventSource.API
                )
                late["id"] = report.results[0]["id"]
                inserted.set()
                assert release.wait(30)
        finally:
            connection.close()
            done.set()

    before = make_leads(api, 2)
    feed_settled()
    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert inserted.wait(30)
        newer = make_leads(api, 3, start=10)  # committed while the older transaction is still open
        seen, cursor = [], None
        for _ in range(3):  # page as far as the feed lets us now: the newer rows must not pass the open one
            response = api.get(f"{API}/leads/", {"page_size": 2} | ({"cursor": cursor} if cursor else {}))
            seen += [r["id"] for r in response.json()["results"]]
            cursor = response.json()["cursor"]
        assert late["id"] not in seen
    finally:
        release.set()
        thread.join(30)
    assert done.is_set()
    records, _, _, _ = read_feed(api, "leads", cursor, page_size=2)
    everything = seen + [r["id"] for r in records]
    assert sorted(everything) == sorted([*before, late["id"], *newer])
    assert len(everything) == len(set(everything))


def test_stage_events_moved_by_a_merge_come_on_the_next_page_of_an_updated_since_cursor(api):
    survivor, loser = make_leads(api, 2, created_at="2026-01-02T00:00:00Z")
    send_bulk(api, "stage-events", [{"lead_external_id": "L-1", "stage": "mql", "entered_at": "2026-01-03T00:00:00Z"}])
    records, _, cursor, _ = read_feed(api, "stage-events", updated_since=timezone.now().isoformat())
    assert records == []
    merged = api.post(f"{API}/leads/merge/", {"survivor_id": survivor, "loser_id": loser}, format="json")
    assert merged.status_code == 200, merged.content
    records = read_feed(api, "stage-events", cursor)[0]
    moved = [(r["lead_external_id"], r["stage"]) for r in records]
    assert ("L-0", "lead") in moved and ("L-0", "mql") in moved  # the loser's two entries, now the survivor's


def test_erasing_a_lead_sends_its_touches_and_deals_again_without_the_email(ws, api):
    """A system syncing touches keeps each touch's lead_email: after an erase it must get the
    touches again, with the address gone."""
    (lead_id,) = make_leads(api, 1)
    touch = {"external_id": "T-1", "lead_external_id": "L-0", "channel": "email", "type": "email_click",
             "occurred_at": "2026-01-05T10:00:00Z"}  # fmt: skip
    assert statuses(send_bulk(api, "touches", [touch])) == ["created"]
    (sent,), _, cursor, _ = read_feed(api, "touches")
    assert sent["lead_email"] == "p0@acme.com"
    assert api.delete(f"{API}/leads/{lead_id}/").status_code == 204
    again, _, _, _ = read_feed(api, "touches", cursor)
    assert [(t["external_id"], t["lead_email"]) for t in again] == [("T-1", "")]
